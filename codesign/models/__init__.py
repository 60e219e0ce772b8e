"""Super-resolution networks by name: ``build_model("imdn", scale=4)``, ``list_models()``.

Importing this package registers the reference networks below; a new network registers
itself with ``@register("name")`` in its own module, and that module is imported here.
"""
from codesign.models.registry import UnknownModelError, build_model, list_models, register

# Imported for their @register side effect, after the registry exists (no import cycle).
from codesign.models import bicubic, carn_m, espcn, fsrcnn, imdn, rlfn  # noqa: E402,F401
from codesign.models import quicksrnet, real_esrgan, sesr, xlsr  # noqa: E402,F401  (Qualcomm AI Hub SR models)

__all__ = ["UnknownModelError", "build_model", "list_models", "register"]

# The searched network (genotype → TrilevelNet) registers itself as "trilevel".
from codesign import genotype  # noqa: E402,F401
