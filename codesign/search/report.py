"""Outputs of a finished search: exported network, TVM build and timing, report and plot.

Every number in ``report.csv`` carries its provenance: PSNR/SSIM and GMACs are measured/counted
here, the cost the search optimised is ``counted`` (GMACs) or ``predicted`` (ms, from which
data), and ``measured_ms`` is filled only where the device was reached — otherwise
``measurement`` says why not and how to measure it.
"""
from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from codesign.search.budget import Budget
from codesign.space.search_space import SearchSpace
from codesign.sr.complexity import count_macs, count_params
from codesign.sr.data import load_pairs
from codesign.sr.evaluate import evaluate_model, test_set_quality
from codesign.sr.export import export_onnx, save_weights
from codesign_common.atomic import atomic_path, write_csv_atomic

log = logging.getLogger("codesign.search")


@dataclass(frozen=True)
class ReportOptions:
    """What a search's report describes and how its network is measured."""

    device: object | None         # devices.catalog.Device; None for a GFLOPs search without one
    budget: Budget
    space: SearchSpace
    lr_hw: tuple[int, int]        # LR input height, width (px)
    runtime: str | None           # what the network is deployed and timed in; None without a device
    measure: bool                 # False: neither compiled nor timed (--no-measure)
    trials: int                   # MetaSchedule trials per fused task when timed in TVM
    dominant_trials: int | None   # trials of the task with the most FLOPs (None: TuningSettings' share x trials)
    search_steps: int
    finetune_steps: int


def simulate_on_device(genotype, space, device, lr_hw) -> dict:
    """Simulated latency (ms) of the derived network on a simulated accelerator: the sum of the
    simulator's latency for each op instance the network runs (cached per distinct layer)."""
    from codesign.space.op_instances import build_op_module, op_instances
    from devices.backends.base import for_device

    instances = op_instances(space, lr_hw).set_index("key")
    rows = instances.loc[genotype.op_keys(lr_hw)].reset_index()
    modules = [build_op_module(row)[0] for row in rows.to_dict("records")]
    simulated = for_device(device, "simulator").measure_kernels(rows, modules)
    return {"simulated_ms": float(simulated.latency_ms.sum()),
            "simulation": f"{simulated.provenance.iloc[0]}: {simulated.target.iloc[0]}"}


RETIME_OFF = 0.15
"""measured / predicted - 1 above which the derived network is timed once more and the lower of
the two minima kept (devices.timing.STATISTIC is the minimum, so more repeats only bring it
nearer the floor, and interference only adds time: a timing under its prediction is not
re-timed). The network model predicts measured networks within 4.8 % (MAPE, leave-one-out,
benchmarks/results/networks_runtime_local_cpu.csv, summarised), while on a 2-vCPU Intel Xeon VM
about one 24 s timing in four lands up to 1.4x above the floor
(benchmarks/results/host_steadiness_local_cpu.csv, summarised): in a budget_hit run there without
re-timing, two of the three missed budgets followed a first round measured 1.28x and 1.27x what
the same network re-timed at once measured (ad hoc). With it, benchmarks/results/budget_hit.csv
met 20 of 20 budgets, 6 of its 28 rounds timed twice."""


def _timed(backend, artifact, predicted_ms: float | None):
    """(measurement, timings taken, note for the measurement line): ``artifact`` timed by
    ``backend``; timed again, the lower kept, when the first lies more than RETIME_OFF over
    ``predicted_ms`` (ms)."""
    first = backend.run_measurement(artifact)
    first_ms = first.timing.value_ms()
    if predicted_ms is None or first_ms / predicted_ms - 1 <= RETIME_OFF:
        return first, 1, ""
    again = backend.run_measurement(artifact)
    log.info("measured %.3g ms, %.2fx the predicted %.3g ms: timed again, %.3g ms", first_ms,
             first_ms / predicted_ms, predicted_ms, again.timing.value_ms())
    kept = min(first, again, key=lambda m: m.timing.value_ms())
    return kept, 2, (f"; timed twice, {first_ms:.4g} then {again.timing.value_ms():.4g} ms (the "
                     f"first {first_ms / predicted_ms:.2f}x the predicted {predicted_ms:.4g} ms), "
                     "the lower kept")


def measure_on_device(net, device, lr_hw, out: Path, trials: int, runtime: str = "tvm",
                      predicted_ms: float | None = None, dominant_trials: int | None = None) -> dict:
    """Time the derived network where the device is this machine, in ``runtime``: onnxruntime
    runs ``out/model.onnx``; TVM compiles ``net`` for the device's target (``model_tvm.so``).
    A timing more than RETIME_OFF over ``predicted_ms`` is taken twice. Returns the measurement
    columns of the report."""
    shape = (1, 3, *lr_hw)
    if device is None:
        return {"measured_ms": None, "measured_std_ms": None,
                "measurement": "not measured: no --device given"}
    if device.method == "simulator":
        return {"measured_ms": None, "measured_std_ms": None,
                "measurement": "not measured: a simulated accelerator (see simulated_ms)"}
    if device.method != "tvm-local":
        how = (f"python -m codesign.measure --device {device.name} --genotype "
               f"{out / 'genotype.json'} --rpc-tracker HOST:PORT --rpc-key {device.rpc_key} "
               f"--out MEASURED.csv" if device.method == "tvm-rpc"
               else f"{device.method} backend")
        return {"measured_ms": None, "measured_std_ms": None,
                "measurement": f"not measured: {device.name} is not reachable here; measure with {how}"}
    from devices.backends.base import for_device
    from devices.timing import network_span_s
    from devices.tvm_compile.tuning import TuningSettings

    dominant_trials = dominant_trials or int(TuningSettings.dominant_share * trials)
    backend = for_device(device, runtime, trials=trials, dominant_share=dominant_trials / trials,
                         min_span_s=network_span_s())
    try:
        if runtime != "tvm":
            measurement, timings, note = _timed(
                backend, backend.build_onnx(str(out / "model.onnx"), shape), predicted_ms)
            return _measured_columns(measurement, f"{measurement.runtime}, {measurement.target}",
                                     "model.onnx", timings, note)
        log.info("compiling with TVM for %s and tuning (%d trials per fused task)…",
                 device.name, trials)
        artifact = backend.build(net.cpu().eval(), shape)
        with atomic_path(out / "model_tvm.so", suffix=".so") as tmp:
            artifact.runnable.export_library(str(tmp))
        measurement, timings, note = _timed(backend, artifact, predicted_ms)
    finally:
        backend.close()
    tuned = (f"tuned, >= {trials} MetaSchedule trials per fused task (the one with the most FLOPs "
             f"{dominant_trials}, the others in proportion to their FLOPs)" if artifact.tuned else "untuned")
    return _measured_columns(measurement, f"TVM {tuned}", f"{backend.runtime}, {artifact.target}",
                             timings, note)


def _measured_columns(measurement, what: str, built: str, timings: int = 1, note: str = "") -> dict:
    """The report's measurement columns: ``measured_ms`` by devices.timing.STATISTIC (what
    predictors learn and budgets are judged by), the median and std beside it (ms), load,
    foreign CPU share, host id, how many timings were taken (``measured_timings``: 2 when the
    first lay far over the prediction) and one line saying what was timed where."""
    from devices.host_identity import describe, fingerprint
    from devices.timing import STATISTIC, network_span_s

    timing = measurement.timing
    return {"measured_ms": timing.value_ms(STATISTIC), "measured_statistic": STATISTIC,
            "measured_median_ms": timing.median_ms, "measured_std_ms": timing.std_ms,
            "measured_load_1min": os.getloadavg()[0],
            "measured_foreign_cpu_share": measurement.foreign_cpu_share,
            "measured_host_id": fingerprint()["host_id"],
            "measurement": f"measured: {what}, {STATISTIC} of {timing.repeats} repeats over "
                           f">= {network_span_s():g} s on "
                           f"{describe(fingerprint())} ({built}){note}",
            "measured_timings": timings}


def plot_candidates(search_log: pd.DataFrame, final_cost: float, budget: float, unit: str,
                    provenance: str, path: Path) -> None:
    """Expected cost vs architecture loss of every search step, the derived net and the budget."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    steps = search_log.dropna(subset=["expected_cost", "arch_loss"])
    fig, ax = plt.subplots(figsize=(6, 4))
    points = ax.scatter(steps.expected_cost, steps.arch_loss, c=steps.step, cmap="viridis", s=12)
    fig.colorbar(points, label="search step")
    ax.axvline(budget, color="red", ls="--", label=f"budget {budget:g} {unit}")
    ax.axvline(final_cost, color="black", ls=":", label=f"derived net {final_cost:.3g} {unit}")
    ax.set_xlabel(f"expected cost ({provenance} {unit})")
    ax.set_ylabel("architecture-step L1 loss")
    ax.set_title("candidates seen during the search")
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=120)
    plt.close(fig)


def recorded_measurement(report: Path, genotype) -> dict | None:
    """The measurement columns (``measured*``, ``measurement``) of ``genotype`` in the report
    CSV an interrupted run wrote, None when there is none: a resumed closed loop keeps the
    timings its decisions were made on instead of timing again (a new timing can differ and
    derive another network than the one whose fine-tuning it resumes)."""
    try:
        row = pd.read_csv(report).iloc[0]
    except (OSError, IndexError, pd.errors.EmptyDataError, pd.errors.ParserError):
        return None
    if row.get("genotype") != genotype.to_json() or pd.isna(row.get("measured_ms")):
        return None
    return {k: (None if pd.isna(v) else v) for k, v in row.items()
            if k.startswith("measured") and k != "measured_within_budget" or k == "measurement"}


def write_outputs(out: Path, genotype, net, table, options: ReportOptions, argmax=None,
                  timing: dict | None = None, plot: bool = True, write_report: bool = True,
                  measured: dict | None = None) -> pd.DataFrame:
    """Evaluate, export, compile/measure, plot (the search log's candidates) and, last (it
    marks the folder complete), write ``report.csv`` in ``out`` unless ``write_report`` is
    False (the caller writes it once more rounds are done); returns the report. ``table`` is
    the cost table the network was chosen with, ``argmax`` the network the search ended on
    when the budget fit chose another (codesign.search.budget_fit); ``measured`` the measurement
    columns to keep instead of timing it (recorded_measurement)."""
    device, budget, lr_hw = options.device, options.budget, options.lr_hw
    scale = genotype.scale
    val = evaluate_model(net, load_pairs(None, "val", scale), scale)
    save_weights(net, out / "weights.safetensors")
    onnx_diff = export_onnx(net, lr_hw, out / "model.onnx")
    log.info("model.onnx matches PyTorch in onnxruntime (max |diff| %.1e)", onnx_diff)
    cost, cost_std = table.network_cost(genotype.op_keys(lr_hw))
    row = {
        "device": device.name if device else "", "runtime": options.runtime or "",
        "budget": str(budget), "budget_value": budget.value,
        "cost": cost, "cost_std": cost_std, "cost_unit": table.unit,
        "cost_provenance": table.provenance, "cost_source": table.source,
        "within_budget": cost <= budget.value,
        "psnr": float(val.psnr.mean()), "ssim": float(val.ssim.mean()),
        "val_data": "built-in val (" + ", ".join(val.image) + ")",
        **test_set_quality(net, scale),
        "params": count_params(net), "gmacs": count_macs(net, lr_hw) / 1e9,
        "lr_h": lr_hw[0], "lr_w": lr_hw[1], "scale": scale, "path": genotype.path,
        "search_steps": options.search_steps, "finetune_steps": options.finetune_steps,
        "derivation": "argmax" if argmax is None or argmax == genotype else "fitted to budget",
        "argmax_cost": table.network_cost((argmax or genotype).op_keys(lr_hw))[0],
        **(timing or {}),
    }
    if not options.measure:
        row.update(measured_ms=None, measured_std_ms=None, measurement="not measured: --no-measure")
    elif measured is not None:
        log.info("kept the measurement of this network the interrupted run took (%s ms)",
                 measured.get("measured_ms"))
        row.update(measured)
    else:
        row.update(measure_on_device(net, device, lr_hw, out, options.trials, options.runtime,
                                     predicted_ms=cost if table.unit == "ms" else None,
                                     dominant_trials=options.dominant_trials))
    if device is not None and device.method == "simulator":
        row.update(simulate_on_device(genotype, options.space, device, lr_hw))
    if row["measured_ms"] is not None and budget.metric == "latency_ms":
        row["measured_within_budget"] = row["measured_ms"] <= budget.value
    row.update({"genotype": genotype.to_json(), "out_dir": str(out)})
    report = pd.DataFrame([row])
    if plot:
        plot_candidates(pd.read_csv(out / "search_log.csv"), cost, budget.value, table.unit,
                        table.provenance, out / "pareto.png")
    if write_report:
        write_csv_atomic(report, out / "report.csv")
    log.info("derived %s: %.2f dB PSNR, %s %.3g %s (budget %s); %s", genotype.path or "(stem)",
             row["psnr"], table.provenance, cost, table.unit, budget, row["measurement"])
    return report
