"""The CPU this code runs on: model name, cores, clock, ISA flags and the LLVM target for it."""
from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

import psutil

from codesign_common.atomic import write_text_atomic
from codesign_common.cache import cache_root

# ISA extensions that decide which vector code LLVM may emit (reported when present).
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "amx_tile", "neon", "asimd", "sve", "sve2")


# LLVM's host CPU name where it follows from /proc/cpuinfo's vendor, family and model alone
# (llvm/lib/TargetParser/Host.cpp, getAMDProcessorTypeAndSubtype; family 26 as in LLVM 19-22):
# family → (model ranges, name for them, name for the other models of the family or None).
_AMD_FAMILIES = {
    23: ([(0x30, 0x3f), (0x47, 0x47), (0x60, 0x7f), (0x84, 0x87), (0x90, 0xaf)], "znver2", "znver1"),
    25: ([(0x10, 0x1f), (0x60, 0x7f), (0xa0, 0xaf)], "znver4", "znver3"),
    26: ([(0x00, 0x77)], "znver5", None),
}


# Intel family 6 server models whose name depends on the model alone (the same Host.cpp,
# getIntelProcessorTypeAndSubtype): model → name. Others (e.g. 0x55, named by its features) are
# left to TVM.
_INTEL_FAMILY_6 = {0x6a: "icelake-server", 0x6c: "icelake-server", 0x8f: "sapphirerapids",
                   0xcf: "emeraldrapids", 0xad: "graniterapids", 0xae: "graniterapids-d",
                   0xa7: "rocketlake"}


def llvm_cpu_from_cpuinfo(info: dict[str, str]) -> str | None:
    """The -mcpu TVM's LLVM detects for this host (tvm.target.codegen.llvm_get_system_cpu),
    read from /proc/cpuinfo fields without importing TVM — for AMD Zen 1–5 and the Intel Xeons
    of _INTEL_FAMILY_6, whose names depend on family and model alone; None for every other CPU
    (ask TVM then)."""
    try:
        family, model = int(info["cpu family"]), int(info["model"])
    except (KeyError, ValueError):
        return None
    if info.get("vendor_id") == "GenuineIntel" and family == 6:
        return _INTEL_FAMILY_6.get(model)
    if info.get("vendor_id") != "AuthenticAMD" or family not in _AMD_FAMILIES:
        return None
    ranges, listed, other = _AMD_FAMILIES[family]
    return listed if any(lo <= model <= hi for lo, hi in ranges) else other


CPUINFO_ENV = "CODESIGN_CPUINFO"
"""Environment variable naming a file read instead of /proc/cpuinfo (to test another host's
branch, e.g. a CPU outside the tables above)."""

_ASK_TVM = "from tvm.target import codegen; print(codegen.llvm_get_system_cpu())"
_MCPU_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


def _cpuinfo() -> dict[str, str]:
    """First processor block of /proc/cpuinfo (or of $CODESIGN_CPUINFO) as a dict (empty where
    there is none)."""
    try:
        with open(os.environ.get(CPUINFO_ENV) or "/proc/cpuinfo") as f:
            block = f.read().split("\n\n")[0]
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.splitlines())}


def _mcpu_cache_path(info: dict[str, str]) -> Path:
    """Where TVM's answer for a CPU outside the tables is kept: one file per CPU, keyed by every
    cpuinfo field LLVM's host detection reads (vendor, family, model, stepping, flags)."""
    key = json.dumps({k: info.get(k, "") for k in ("vendor_id", "cpu family", "model", "stepping",
                                                   "model name", "flags", "Features", "CPU part")},
                     sort_keys=True)
    return cache_root() / "host_cpu" / f"mcpu-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"


def llvm_cpu_from_tvm(info: dict[str, str]) -> str:
    """The -mcpu TVM's LLVM detects, for a CPU outside the tables: read from the cache when TVM
    was asked before on this CPU, else asked of TVM in a child process (seconds, once per CPU;
    this process imports neither TVM nor torch) and cached. A cache file that does not hold a
    plausible LLVM CPU name is ignored and rewritten."""
    path = _mcpu_cache_path(info)
    try:
        cached = json.loads(path.read_text()).get("mcpu")
        if isinstance(cached, str) and _MCPU_NAME.fullmatch(cached):
            return cached
    except (OSError, ValueError, AttributeError):
        pass
    result = subprocess.run([sys.executable, "-c", _ASK_TVM], capture_output=True, text=True)
    mcpu = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    if result.returncode != 0 or not _MCPU_NAME.fullmatch(mcpu):
        raise RuntimeError(f"TVM could not name this CPU's LLVM target: {result.stderr.strip()[-300:]}")
    try:
        write_text_atomic(path, json.dumps({"mcpu": mcpu, "source": "tvm.target.codegen.llvm_get_system_cpu"}))
    except OSError:
        pass  # an unwritable cache only costs the next process the same few seconds
    return mcpu


@lru_cache(maxsize=None)
def detect() -> dict:
    """Facts about the local CPU: model, physical cores, clock (GHz), ISA flags, LLVM mcpu
    (read from /proc/cpuinfo where llvm_cpu_from_cpuinfo knows it, else llvm_cpu_from_tvm)."""
    info = _cpuinfo()
    mcpu = llvm_cpu_from_cpuinfo(info) or llvm_cpu_from_tvm(info)
    flags = set((info.get("flags") or info.get("Features") or "").split())
    freq = psutil.cpu_freq()
    mhz = float(info.get("cpu MHz", 0.0)) or (freq.max or freq.current if freq else 0.0)
    cores = psutil.cpu_count(logical=False) or os.cpu_count() or 1
    machine = platform.machine()
    return {
        "model": info.get("model name") or info.get("Hardware") or platform.processor() or machine,
        "machine": machine,
        "cores": int(cores),
        "logical_cpus": int(os.cpu_count() or cores),
        "clock_ghz": round(mhz / 1000.0, 3) if mhz else None,
        "isa_flags": sorted(f for f in ISA_FLAGS if f in flags),
        "mcpu": mcpu,
        "mtriple": f"{machine}-linux-gnu",
    }


def local_target() -> dict:
    """TVM target JSON dict for the local CPU, e.g. llvm -mcpu=znver4 -num-cores=2."""
    cpu = detect()
    return {"kind": "llvm", "mtriple": cpu["mtriple"], "mcpu": cpu["mcpu"], "num-cores": cpu["cores"]}


def describe() -> str:
    """One line naming the host, e.g. `AMD EPYC, 2 cores @ 2.6 GHz, znver4, avx2 avx512f`."""
    cpu = detect()
    clock = f" @ {cpu['clock_ghz']} GHz" if cpu["clock_ghz"] else ""
    return f"{cpu['model']}, {cpu['cores']} cores{clock}, {cpu['mcpu']}, {' '.join(cpu['isa_flags'])}"
