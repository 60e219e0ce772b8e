"""Which host a latency describes: a fingerprint of the CPU and runtimes, and a short host id.

A profile or predictor describes one host. Two VMs both called "AMD EPYC" here (Zen 4, CPU
family 25, and Zen 5, family 26) differ by about 2× in peak compute, so the id is made of what
decides kernel speed: CPU vendor, family, model and model name, physical cores, the ISA flags
LLVM may use, and LLVM's -mcpu for it. The hostname is left out (VMs are renamed) and so are
runtime versions: those are recorded beside the id (``fingerprint()["runtimes"]``) and compared
separately, since a runtime upgrade is a different question from a different machine.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache

from devices import host_cpu

ID_FIELDS = ("vendor", "family", "model_id", "model", "cores", "isa_flags", "mcpu")


def _cpuinfo_ids() -> dict:
    info = host_cpu._cpuinfo()
    return {"vendor": info.get("vendor_id") or info.get("CPU implementer") or "",
            "family": info.get("cpu family") or info.get("CPU architecture") or "",
            "model_id": info.get("model") or info.get("CPU part") or ""}


RUNTIME_DISTRIBUTIONS = {"tvm": "apache-tvm", "onnxruntime": "onnxruntime", "pytorch": "torch"}
"""Runtime (devices.backends.RUNTIMES) → the Python distribution whose version it runs."""


def runtime_versions() -> dict[str, str]:
    """Versions of the runtimes a latency may come from (those installed), by distribution."""
    from importlib import metadata

    versions = {}
    for dist in RUNTIME_DISTRIBUTIONS.values():
        try:
            versions[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return versions


@lru_cache(maxsize=None)
def fingerprint() -> dict:
    """This host: the ID_FIELDS, ``host_id`` made of them, and the runtime versions."""
    cpu = host_cpu.detect()
    fields = {**_cpuinfo_ids(), "model": cpu["model"], "cores": cpu["cores"],
              "isa_flags": list(cpu["isa_flags"]), "mcpu": cpu["mcpu"]}
    return {**fields, "host_id": host_id(fields), "runtimes": runtime_versions()}


def host_id(fields: dict) -> str:
    """Readable, stable id, e.g. ``authenticamd-f25-m17-2c-znver4-3f9a1c``: the last part hashes
    every ID_FIELD, so hosts that differ in any of them never share an id."""
    canonical = json.dumps({k: fields.get(k) for k in ID_FIELDS}, sort_keys=True, default=str)
    digest = hashlib.sha256(canonical.encode()).hexdigest()[:6]
    vendor = re.sub(r"[^a-z0-9]+", "", str(fields.get("vendor", "")).lower()) or "cpu"
    return (f"{vendor}-f{fields.get('family', '')}-m{fields.get('model_id', '')}-"
            f"{fields.get('cores')}c-{fields.get('mcpu')}-{digest}")


def describe(fp: dict) -> str:
    """One line for a report or warning: model, family/model, cores, -mcpu."""
    return (f"{fp.get('model', '?')} (family {fp.get('family', '?')}, model {fp.get('model_id', '?')}, "
            f"{fp.get('cores', '?')} cores, {fp.get('mcpu', '?')})")
