"""The local CPU's LLVM name: from the table where family and model decide it, else asked of TVM
once per CPU in a child process and cached, so that `devices.list` never imports TVM or torch."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from devices import host_cpu

REPO = Path(__file__).resolve().parents[2]
CPUINFO = REPO / "tests" / "data" / "cpuinfo"


@pytest.fixture
def stub_host(monkeypatch, tmp_path):
    """Point host_cpu at a cpuinfo stand-in and an empty cache; returns a setter."""
    monkeypatch.setenv("CODESIGN_CACHE", str(tmp_path / "cache"))

    def use(name: str) -> dict:
        monkeypatch.setenv(host_cpu.CPUINFO_ENV, str(CPUINFO / name))
        host_cpu.detect.cache_clear()
        return host_cpu._cpuinfo()

    yield use
    host_cpu.detect.cache_clear()


class _FakeTvm:
    """Stands in for the child process that asks TVM; counts the calls."""

    def __init__(self, stdout="skylake-avx512\n", returncode=0):
        self.calls, self.stdout, self.returncode = 0, stdout, returncode

    def __call__(self, *args, **kwargs):
        self.calls += 1
        return subprocess.CompletedProcess(args, self.returncode, self.stdout, "boom")


def test_a_cpu_in_the_table_is_named_without_asking_tvm(stub_host, monkeypatch):
    stub_host("zen4.txt")
    fake = _FakeTvm()
    monkeypatch.setattr(host_cpu.subprocess, "run", fake)
    assert host_cpu.detect()["mcpu"] == "znver4" and fake.calls == 0


def test_a_cpu_outside_the_table_asks_tvm_once_and_caches_the_answer(stub_host, monkeypatch):
    info = stub_host("unknown_intel.txt")
    assert host_cpu.llvm_cpu_from_cpuinfo(info) is None
    fake = _FakeTvm()
    monkeypatch.setattr(host_cpu.subprocess, "run", fake)
    assert host_cpu.detect()["mcpu"] == "skylake-avx512"
    host_cpu.detect.cache_clear()
    assert host_cpu.detect()["mcpu"] == "skylake-avx512" and fake.calls == 1
    assert json.loads(host_cpu._mcpu_cache_path(info).read_text())["mcpu"] == "skylake-avx512"


def test_a_corrupt_cached_name_is_asked_again(stub_host, monkeypatch):
    info = stub_host("unknown_intel.txt")
    path = host_cpu._mcpu_cache_path(info)
    path.parent.mkdir(parents=True)
    path.write_text('{"mcpu": "-mcpu=evil; rm -rf /"}')
    fake = _FakeTvm()
    monkeypatch.setattr(host_cpu.subprocess, "run", fake)
    assert host_cpu.detect()["mcpu"] == "skylake-avx512" and fake.calls == 1


def test_tvm_failing_to_name_the_cpu_is_one_clear_error(stub_host, monkeypatch):
    stub_host("unknown_intel.txt")
    monkeypatch.setattr(host_cpu.subprocess, "run", _FakeTvm(stdout="", returncode=1))
    with pytest.raises(RuntimeError, match="TVM could not name this CPU's LLVM target"):
        host_cpu.detect()


@pytest.mark.parametrize("cpuinfo", ["zen4.txt", "unknown_intel.txt"])
def test_devices_list_imports_neither_tvm_nor_torch_on_any_cpu(cpuinfo, tmp_path):
    code = ("import io, sys, contextlib, devices.list as m\n"
            "with contextlib.redirect_stdout(io.StringIO()) as out: m.main([])\n"
            "assert 'local-cpu' in out.getvalue()\n"
            "print(sorted(n for n in ('tvm', 'torch', 'xgboost', 'sklearn') if n in sys.modules))")
    env = {**__import__("os").environ, host_cpu.CPUINFO_ENV: str(CPUINFO / cpuinfo),
           "CODESIGN_CACHE": str(tmp_path)}
    for _ in range(2):  # a CPU outside the table: TVM asked in a child, then the cache
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                                cwd=REPO, env=env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.strip() == "[]"
    assert bool(list(tmp_path.glob("host_cpu/mcpu-*.json"))) == (cpuinfo == "unknown_intel.txt")
