"""Super-resolution networks by name: ``build_model("imdn", scale=4)``, ``list_models()``.

Importing this package registers the reference networks below; a new network registers
itself with ``@register("name")`` in its own module, and that module is imported here.
"""
# Imported for their @register side effect, after the registry exists (no import cycle).
from codesign.sr.models import (  # noqa: E402,F401  # noqa: E402,F401  (Qualcomm AI Hub SR models)
    bicubic,
    carn_m,
    espcn,
    fsrcnn,
    imdn,
    quicksrnet,
    real_esrgan,
    rlfn,
    sesr,
    trilevel,  # noqa: E402,F401  (a searched network, by its genotype)
    xlsr,
)
from codesign.sr.models.registry import (
    UnknownModelError,
    build_model,
    list_models,
    register,
)

__all__ = ["UnknownModelError", "build_model", "list_models", "register"]
