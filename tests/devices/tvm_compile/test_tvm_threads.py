"""TVM's CPU thread pool runs the target's num-cores threads, whatever the shell exports (TVM's
own default on x86 is half the logical CPUs: 1 on a 2-vCPU VM)."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]

PROBE = """
import json, sys
import tvm

from devices.catalog import get_device
from devices.backends.tvm_local import TvmLocal
from devices.tvm_compile.env import ThreadPoolMismatch, pin_runtime_threads
device = get_device("local-cpu")
backend = TvmLocal(device, trials=0)
backend._pin_cpu_threads()
result = {"cores": device.target["num-cores"], "running": tvm.get_global_func("runtime.NumThreads")()}
try:
    pin_runtime_threads(result["cores"] + 1)
except ThreadPoolMismatch as err:
    result["mismatch"] = str(err)
import os
result["env_after_mismatch"] = os.environ["TVM_NUM_THREADS"]
print(json.dumps(result))
"""


def _probe(**env_overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("TVM_NUM_THREADS", "OMP_NUM_THREADS")}
    env.update(env_overrides, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("env", [{}, {"OMP_NUM_THREADS": "1"}, {"TVM_NUM_THREADS": "7"}])
def test_pool_runs_the_targets_cores(env):
    result = _probe(**env)
    assert result["running"] == result["cores"]
    assert "already runs" in result["mismatch"]
    assert result["env_after_mismatch"] == str(result["cores"])  # a refused pin changes nothing


def test_importing_devices_leaves_the_environment_alone():
    env = {k: v for k, v in os.environ.items() if k not in ("TVM_NUM_THREADS", "OMP_NUM_THREADS")}
    env["PYTHONPATH"] = str(REPO)
    code = ("import os, devices, devices.catalog, devices.backends; "
            "print(os.environ.get('TVM_NUM_THREADS'))")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "None"
