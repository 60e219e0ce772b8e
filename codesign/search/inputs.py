"""What a search needs resolved before it starts: the LR input, the runtime the result is
deployed in, the device's latency predictor and the cost tables of the space's op instances
(the predictor's, and the one re-fitted on the device's measured networks). Anything that
cannot be resolved raises :class:`SearchError` with one line for the user."""
from __future__ import annotations

import dataclasses
import json
import re
import sys
from pathlib import Path

import pandas as pd

from codesign.search.budget import Budget
from codesign.search.closed_loop import NETWORK_COLUMNS, read_network_profile, refit_on
from codesign.search.cost_source import CostTable, macs_table, predicted_latency_table
from codesign.space.search_space import SearchSpace
from codesign_common.cache import cache_root
from codesign_common.cli import UsageError

REPO = Path(__file__).resolve().parents[2]
MIN_LR_PATCH = 2   # LR patch side (px) the data pipeline needs


class SearchError(UsageError):
    """A search that cannot start (no predictor, unreachable budget …): one line for the user."""


def parse_input(text: str) -> tuple[int, int]:
    """``'180x320'`` → (180, 320): LR input height × width in pixels."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not match or min(int(match.group(1)), int(match.group(2))) < 8:
        raise SearchError(f"--input {text!r} is not HxW in LR pixels (each side ≥ 8), e.g. 180x320")
    return int(match.group(1)), int(match.group(2))


def available_memory_bytes() -> int | None:
    """MemAvailable of /proc/meminfo (bytes); None where it cannot be read."""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def check_memory(lr_hw, scale: int, nf: int) -> None:
    """Refuse an LR input whose one forward pass (evaluation, ONNX export) cannot fit in this
    machine's available memory, before any training: it needs at least the float32 HR output
    (3 × scale² × h × w) and two feature maps of ``nf`` channels at LR (a lower bound)."""
    need = 4 * (3 * scale ** 2 + 2 * nf) * lr_hw[0] * lr_hw[1]
    have = available_memory_bytes()
    if have is not None and need > have:
        raise SearchError(f"--input {lr_hw[0]}x{lr_hw[1]}: one forward pass of a x{scale} network "
                          f"needs at least {need / 1e9:.3g} GB (its float32 output and two "
                          f"{nf}-channel feature maps), more than the {have / 1e9:.3g} GB "
                          f"available here; shrink --input")


def check_patch_size(patch_size: int, scale: int, flag: str = "--patch-size") -> None:
    """The HR patch side (px) given by ``flag`` must be a multiple of the scale and give an LR
    patch of at least MIN_LR_PATCH px."""
    if patch_size % scale or patch_size // scale < MIN_LR_PATCH:
        raise SearchError(f"{flag} {patch_size} must be a multiple of the scale "
                          f"({scale}) and at least {MIN_LR_PATCH * scale} px (an LR patch of "
                          f"{MIN_LR_PATCH} px)")


def resolve_runtime(device, requested: str | None) -> str | None:
    """The runtime the result is deployed and measured with: ``requested``, else the device's
    (devices.catalog.default_runtime); None without a device."""
    if device is None:
        return None
    from devices.backends.base import NoBackend, check_runtime
    from devices.catalog import default_runtime

    runtime = requested or default_runtime(device)
    try:
        check_runtime(device, runtime)
    except NoBackend as exc:
        raise SearchError(f"--runtime {runtime}: {exc}") from None
    return runtime


def find_predictor(device, explicit: str | None, runtime: str | None = None,
                   skip: Path | None = None) -> Path | None:
    """The predictor folder for a device (predictors.store.find_device_predictor, the one lookup
    every command uses): ``explicit``, else this host's predictor for ``runtime`` (local-cpu),
    else the device's, under ``$CODESIGN_PREDICTORS`` then ``predictors/trained``, ``skip``
    passed over; None when none exists."""
    from predictors.store import find_device_predictor

    try:
        return find_device_predictor(device.name, explicit, runtime, skip)
    except ValueError as exc:
        raise SearchError(str(exc)) from None


def predictor_state(path: Path) -> dict:
    """The predictor.json of a predictor folder (device, meta …)."""
    try:
        state = json.loads((Path(path) / "predictor.json").read_text())
    except (OSError, ValueError) as exc:
        raise SearchError(f"predictor {path}: unreadable predictor.json ({exc})") from None
    if not isinstance(state, dict) or not isinstance(state.get("meta", {}), dict):
        raise SearchError(f"predictor {path}: predictor.json is not an object with a meta object")
    return state


def predictor_provenance(state: dict, device_name: str, runtime: str | None) -> tuple[str, str | None]:
    """("predicted", None), or ("transferred-from-<where>", one warning line):
    predictors.store.provenance_here on the predictor.json ``state``."""
    from predictors.store import provenance_here

    return provenance_here(state.get("meta") or {}, device_name, runtime)


def host_profile_gap(device, runtime: str | None, predictor: str | None, budget: Budget,
                     keys) -> tuple[list[str], Path | None]:
    """(op-instance keys this host must time before the search, its own predictor folder or
    None). For a latency search of this host (local-cpu) in a runtime that runs here
    (onnxruntime) with no --predictor: every key of ``keys`` when no predictor of this host and
    runtime exists, else those its ``meta.training_keys`` lack (a predictor made for another
    space or input size is not used for kernels it never saw); the search then profiles them
    first (codesign.search.self_profile). Otherwise ([], None). TVM is not self-profiled: tuning every
    op instance takes hours (python -m codesign.profile --runtime tvm does it on request)."""
    from devices.backends.base import HOST_RUNTIMES
    from devices.catalog import LOCAL_CPU

    if (device is None or device.name != LOCAL_CPU or predictor or budget.metric != "latency_ms"
            or runtime not in HOST_RUNTIMES):
        return [], None
    from devices.host_identity import fingerprint

    keys = list(dict.fromkeys(str(k) for k in keys))
    path = find_predictor(device, None, runtime)
    meta = predictor_state(path).get("meta") or {} if path else {}
    if meta.get("host_id") != fingerprint()["host_id"] or meta.get("runtime") != runtime:
        return keys, None
    trained = set(meta.get("training_keys") or [])
    return [k for k in keys if k not in trained], path


def network_profile_paths(device, runtime: str, explicit: str | None = None
                          ) -> tuple[Path, list[Path]]:
    """(the file a device's measured whole networks are appended to, the files a fit reads).
    ``explicit`` (--network-profile) is both. By default the project writes them under the
    cache, never into the package: ``$CODESIGN_CACHE/profiles/local-cpu/<host_id>/
    <runtime>-networks.csv`` per host and runtime for local-cpu, ``…/profiles/<device>-networks.csv``
    for other devices; the fit also reads the profile shipped with the project at the same
    place under ``devices/profiles/`` (read-only)."""
    if explicit:
        return Path(explicit), [Path(explicit)]
    from devices.catalog import LOCAL_CPU

    if device.name == LOCAL_CPU:
        from devices.host_identity import fingerprint

        place = Path(LOCAL_CPU) / fingerprint()["host_id"] / f"{runtime}-networks.csv"
    else:
        place = Path(f"{device.name}-networks.csv")
    written = cache_root() / "profiles" / place
    return written, [REPO / "devices" / "profiles" / place, written]


def cost_table_for(device, budget: Budget, space: SearchSpace, lr_hw, predictor: str | None,
                   force_predictor: bool = False, runtime: str | None = None) -> CostTable:
    """Counted GMACs for a compute budget, else the device predictor's predicted ms. A predictor
    of another device is refused, or with ``force_predictor`` used and labelled
    ``transferred-from-<its device>``."""
    if budget.metric == "gmacs":
        return macs_table(space, lr_hw)
    if device is None:
        raise SearchError(f"a latency budget ({budget}) needs --device (python -m devices.list)")
    path = find_predictor(device, predictor, runtime)
    if path is None:
        raise SearchError(
            f"no latency predictor for {device.name}: profile it (python -m codesign.profile "
            f"--device {device.name} --out PROFILE.csv), train one (python -m predictors.train "
            f"--device {device.name} --profile PROFILE.csv --out predictors/trained/{device.name}) "
            f"or give --predictor DIR; a GFLOPs budget needs none")
    state = predictor_state(path)
    other = state.get("device")
    if other != device.name and not force_predictor:
        raise SearchError(f"predictor {path} was trained for {other}, not {device.name}: give "
                          f"{device.name}'s predictor, or add --force-predictor to use it anyway "
                          f"(its costs are then labelled transferred-from-{other})")
    try:
        table = predicted_latency_table(space, lr_hw, path)
    except ValueError as exc:
        raise SearchError(str(exc).splitlines()[0]) from None
    if other != device.name:
        return dataclasses.replace(table, provenance=f"transferred-from-{other}")
    label, warning = predictor_provenance(state, device.name, runtime)
    if warning:
        print(warning, file=sys.stderr)
    return dataclasses.replace(table, provenance=label) if label != "predicted" else table


@dataclasses.dataclass(frozen=True, eq=False)
class SearchCosts:
    """The costs a search starts from: the predictor's table, the table it searches with
    (re-fitted on ``measured`` by ``factor``), where the closed loop appends its measurements
    (None: no loop) and the measured networks the re-fit used (genotype, lr_h, lr_w,
    measured_ms, statistic)."""

    predictor_table: CostTable
    table: CostTable
    network_profile: Path | None
    measured: pd.DataFrame
    factor: float = 1.0


def search_costs(device, budget: Budget, space: SearchSpace, lr_hw, predictor: str | None,
                 force_predictor: bool = False, runtime: str | None = None,
                 network_profile: str | None = None, start: Path | None = None) -> SearchCosts:
    """For a latency budget on a device timed here the table is re-fitted on the networks
    measured before (network_profile_paths; ``start``, a run's own record of them, instead
    when given: a resumed run keeps the costs it started with), and the closed loop extends the
    profile; otherwise both tables are the same and there is no profile."""
    table = cost_table_for(device, budget, space, lr_hw, predictor, force_predictor, runtime)
    if device is None or device.method != "tvm-local" or budget.metric != "latency_ms":
        return SearchCosts(table, table, None, pd.DataFrame(columns=NETWORK_COLUMNS))
    written, read = network_profile_paths(device, runtime, network_profile)
    try:
        measured = pd.concat([read_network_profile(p, lr_hw) for p in ([start] if start else read)],
                             ignore_index=True)[NETWORK_COLUMNS]
    except ValueError as exc:
        raise SearchError(str(exc).splitlines()[0]) from None
    refit, factor = refit_on(table, measured, lr_hw)
    return SearchCosts(table, refit, written, measured, factor)
