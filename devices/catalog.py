"""Device catalog: one JSON file per device under devices/catalog/, looked up by name.

Each file holds name, kind, TVM target (a JSON dict), measurement method, default LR input size
and latency budget, a spec sheet whose every value names its source, and the provenance of the
device's latency predictor. Devices whose latencies come from public or transferred data also
say how many CPU threads those latencies assume (`threads`: value and source; null for GPUs). `local-cpu` is filled in at run time from the host (devices.host_cpu).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

CATALOG_DIR = Path(__file__).parent / "catalog"
KINDS = ("cpu", "gpu", "mobile_cpu", "mobile_gpu", "accelerator")
METHODS = ("tvm-local", "tvm-rpc", "simulator")
PROVENANCES = ("measured", "public", "transferred", "simulated")
SPEC_FIELDS = ("cores", "clock_ghz", "peak_fp32_gflops", "mem_bandwidth_gbs")
REQUIRED = ("name", "kind", "description", "target", "measurement", "lr_input_hw", "scale",
            "latency_budget_ms", "spec", "predictor")
NOT_MEASURED_HERE = ("public", "transferred")  # predictor provenances that need `threads`
LOCAL_CPU = "local-cpu"


def default_runtime(device) -> str:
    """The runtime a device's results are deployed and measured with unless one is asked for:
    onnxruntime for local-cpu (tuned TVM only matches it after long tuning on every new target:
    benchmarks/results/compile_local_cpu.csv, docs/latency.md), TVM for every other device."""
    return "onnxruntime" if device.name == LOCAL_CPU else "tvm"


class CatalogError(ValueError):
    """A catalog file that cannot be read or does not follow the schema (one line naming it)."""


class UnknownDeviceError(KeyError):
    """A device name that is not in the catalog; str() is one line listing the known ones."""

    def __str__(self) -> str:
        return self.args[0]


@dataclass(frozen=True)
class Device:
    """One catalog entry. `target` is a TVM target JSON dict; `lr_input_hw` is (h, w) LR pixels."""

    name: str
    kind: str
    description: str
    target: dict
    measurement: dict
    lr_input_hw: tuple[int, int]
    scale: int
    latency_budget_ms: float
    spec: dict
    predictor: dict
    threads: dict | None = None  # {value: CPU threads the latencies assume (None: a GPU), source}

    @property
    def method(self) -> str:
        """How kernels are timed: `tvm-local`, `tvm-rpc` or `simulator`."""
        return self.measurement["method"]

    @property
    def rpc_key(self) -> str | None:
        """Key under which the device registers with an RPC tracker (None when local)."""
        return self.measurement.get("rpc_key")

    @property
    def target_kind(self) -> str:
        return self.target["kind"]


def _validate(data: dict, path: Path) -> None:
    """Raise CatalogError naming the file and the first field that is wrong."""
    if not isinstance(data, dict):
        raise CatalogError(f"{path.name}: not a JSON object")
    missing = [k for k in REQUIRED if k not in data]
    if missing:
        raise CatalogError(f"{path.name}: missing fields {missing}")
    unknown = sorted(set(data) - set(Device.__dataclass_fields__))
    if unknown:
        raise CatalogError(f"{path.name}: unknown fields {unknown}")
    if data["name"] != path.stem:
        raise CatalogError(f"{path.name}: name {data['name']!r} differs from the file name")
    if data["kind"] not in KINDS:
        raise CatalogError(f"{path.name}: kind {data['kind']!r} not in {KINDS}")
    if not isinstance(data["target"], dict) or "kind" not in data["target"]:
        raise CatalogError(f"{path.name}: target must be a TVM target JSON dict with a kind")
    for name in ("measurement", "spec", "predictor"):
        if not isinstance(data[name], dict):
            raise CatalogError(f"{path.name}: {name} must be a JSON object")
    if data["measurement"].get("method") not in METHODS:
        raise CatalogError(f"{path.name}: measurement.method not in {METHODS}")
    if data["measurement"]["method"] == "tvm-rpc" and not data["measurement"].get("rpc_key"):
        raise CatalogError(f"{path.name}: tvm-rpc devices need measurement.rpc_key")
    hw = data["lr_input_hw"]
    if not isinstance(hw, list) or len(hw) != 2 or not all(
            isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in hw):
        raise CatalogError(f"{path.name}: lr_input_hw must be two positive ints (h, w)")
    if data["scale"] not in (2, 3, 4) or isinstance(data["scale"], bool):
        raise CatalogError(f"{path.name}: scale {data['scale']!r} is not 2, 3 or 4")
    budget = data["latency_budget_ms"]
    if isinstance(budget, bool) or not isinstance(budget, (int, float)) or not 0 < budget < float("inf"):
        raise CatalogError(f"{path.name}: latency_budget_ms must be a positive number")
    for name in SPEC_FIELDS:
        entry = data["spec"].get(name)
        if not isinstance(entry, dict) or "value" not in entry or not entry.get("source"):
            raise CatalogError(f"{path.name}: spec.{name} needs a value and a source")
    if data["predictor"].get("provenance") not in PROVENANCES:
        raise CatalogError(f"{path.name}: predictor.provenance not in {PROVENANCES}")
    threads = data.get("threads")
    needed = data["predictor"]["provenance"] in NOT_MEASURED_HERE or threads is not None
    if needed and (not isinstance(threads, dict) or not threads.get("source")
                   or not (threads.get("value") is None
                           or (isinstance(threads["value"], int) and threads["value"] > 0))):
        raise CatalogError(f"{path.name}: threads needs a value (a positive int, or null for a "
                         f"GPU) and a source where the latencies are {data['predictor']['provenance']}")


def _local_cpu(data: dict) -> dict:
    """Fill the detected fields of the local-cpu entry from the host (devices.host_cpu)."""
    from devices import host_cpu

    cpu = host_cpu.detect()
    data = json.loads(json.dumps(data))
    data["target"] = {"kind": "llvm", "mtriple": cpu["mtriple"], "mcpu": cpu["mcpu"], "num-cores": cpu["cores"]}
    clock = f" @ {cpu['clock_ghz']} GHz" if cpu["clock_ghz"] else ""
    described = f"{cpu['model']}, {cpu['cores']} cores{clock}, {cpu['mcpu']}, {' '.join(cpu['isa_flags'])}"
    data["description"] = f"{data['description']} Detected: {described}."
    data["spec"]["cores"] = {"value": cpu["cores"], "source": "psutil.cpu_count(logical=False)"}
    data["spec"]["clock_ghz"] = {"value": cpu["clock_ghz"], "source": "/proc/cpuinfo (cpu MHz)"}
    data["spec"]["isa_flags"] = {"value": cpu["isa_flags"], "source": "/proc/cpuinfo (flags)"}
    data["spec"]["model"] = {"value": cpu["model"], "source": "/proc/cpuinfo (model name)"}
    return data


def _load(path: Path) -> Device:
    try:
        data = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise CatalogError(f"{path.name}: {err}") from None
    _validate(data, path)
    if data["name"] == LOCAL_CPU:
        data = _local_cpu(data)
    return Device(**(data | {"lr_input_hw": tuple(data["lr_input_hw"])}))


def device_names() -> list[str]:
    """Names of all catalogued devices, sorted."""
    return sorted(p.stem for p in CATALOG_DIR.glob("*.json"))


def get_device(name: str) -> Device:
    """The catalog entry `name`; UnknownDeviceError (one line listing known names) otherwise."""
    path = CATALOG_DIR / f"{name}.json"
    if "/" in name or not path.is_file():
        raise UnknownDeviceError(f"unknown device {name!r}; known devices: {', '.join(device_names())}")
    return _load(path)


def list_devices() -> list[Device]:
    """Every catalog entry, validated, sorted by name."""
    return [get_device(n) for n in device_names()]
