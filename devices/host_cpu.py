"""The CPU this code runs on: model name, cores, clock, ISA flags and the LLVM target for it."""
from __future__ import annotations

import os
import platform
from functools import lru_cache

import psutil

# ISA extensions that decide which vector code LLVM may emit (reported when present).
ISA_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
             "avx512_bf16", "amx_tile", "neon", "asimd", "sve", "sve2")


def _cpuinfo() -> dict[str, str]:
    """First processor block of /proc/cpuinfo as a dict (empty where there is none)."""
    try:
        with open("/proc/cpuinfo") as f:
            block = f.read().split("\n\n")[0]
    except OSError:
        return {}
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in block.splitlines())}


@lru_cache(maxsize=None)
def detect() -> dict:
    """Facts about the local CPU: model, physical cores, clock (GHz), ISA flags, LLVM mcpu."""
    from tvm.target import codegen  # TVM's own LLVM answers which -mcpu this host is

    info = _cpuinfo()
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
        "mcpu": str(codegen.llvm_get_system_cpu()),
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
