"""Devices: the catalog (devices.catalog), measurement backends (devices.backends) and the
profile/measure CLIs that turn TVM-compiled kernels and networks into profile CSV rows."""
import os as _os

import psutil as _psutil

# TVM sizes its CPU thread pool once, at its first kernel, from TVM_NUM_THREADS, else half the
# logical CPUs on x86: 1 thread on a 2-vCPU VM whose target says num-cores=2. Default it to the
# physical cores (local-cpu's num-cores) before any TVM kernel runs; tvm-local checks it
# (devices.tvm_env.pin_runtime_threads) and popen workers inherit it.
_os.environ.setdefault("TVM_NUM_THREADS", str(_psutil.cpu_count(logical=False) or _os.cpu_count() or 1))
