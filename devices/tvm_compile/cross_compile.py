"""Exporting compiled modules as shared objects for another machine (aarch64 phones, boards)."""
from __future__ import annotations

import os
import shutil
import tempfile


def find_cross_compiler(mtriple: str) -> str | None:
    """A C compiler on PATH that links for `mtriple` (NDK clang first, then Debian gcc), or None."""
    arch = mtriple.split("-")[0].replace("arm64", "aarch64")
    android = "android" in mtriple
    candidates = ([f"{arch}-linux-android{api}-clang" for api in (33, 31, 29, 28, 24)] if android else [])
    candidates += [f"{arch}-linux-gnu-gcc", "arm-linux-gnueabihf-gcc" if arch.startswith("armv7") else ""]
    return next((c for c in candidates if c and shutil.which(c)), None)


def needs_cross_compiler(mtriple: str | None) -> bool:
    """Does code for `mtriple` need a compiler other than the host's?"""
    import platform

    return bool(mtriple) and not mtriple.startswith(platform.machine())


def export_shared(rt_mod, path: str, cc: str | None = None) -> str:
    """Write `rt_mod` as a shared object at `path`, linked with `cc` when given."""
    from tvm.support import cc as tvm_cc

    if cc:
        rt_mod.export_library(path, fcompile=tvm_cc.cross_compiler(cc))
    else:
        rt_mod.export_library(path)
    return path


def export_artifact(rt_mod, cc: str) -> str:
    """MetaSchedule f_export: a cross-linked .so in a fresh temp dir (phones have no compiler)."""
    path = os.path.join(tempfile.mkdtemp(), "tvm_tmp_mod.so")
    return export_shared(rt_mod, path, cc)
