"""`python -m benchmarks.report [--check]`: the results tables of README.md and docs/results.md,
generated from benchmarks/results/*.csv and the device catalog, never copied by hand.

Each table sits between ``<!-- results:NAME -->`` and ``<!-- /results:NAME -->`` in README.md
or a page of docs/; this command rewrites what lies between the markers. ``--check`` rewrites nothing and exits
1 naming every block that differs from what the CSVs give (tests/benchmarks/test_report.py runs
it, so no figure in the README goes stale). Every table says which command made its CSV, on which
hosts, on which dates and in which runtimes.
"""
from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from benchmarks.benchmark_args import benchmark_parser
from benchmarks.latency import networks_runtime_local_cpu, retest_local_cpu
from codesign_common.atomic import write_text_atomic
from codesign_common.cli import cli_main

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
DOCUMENTS = (REPO / "README.md", *sorted((REPO / "docs").glob("*.md")))
BLOCK = re.compile(r"(<!-- results:(?P<name>[a-z0-9_]+) -->\n)(?P<body>.*?)(<!-- /results:(?P=name) -->)",
                   re.S)
DATE_COLUMNS = ("date", "ended", "started", "evaluated_at")


def host_label(host_id) -> str:
    """Short host name from a host id, e.g. ``AMD znver4`` (the id in full is in the CSV)."""
    if not isinstance(host_id, str) or not host_id:
        return "not recorded"
    parts = host_id.split("-")
    vendor = {"authenticamd": "AMD", "genuineintel": "Intel"}.get(parts[0], parts[0])
    return f"{vendor} {parts[4]}" if len(parts) >= 6 else host_id


def _values(frame: pd.DataFrame, column: str) -> list[str]:
    if column not in frame:
        return []
    return sorted({str(v) for v in frame[column].dropna()})


def provenance_line(frame: pd.DataFrame, csv: str, command: str) -> str:
    """`command` → file · hosts · dates · runtimes, as the CSV records them."""
    hosts = sorted({host_label(h) for h in frame["host_id"].dropna()}) if "host_id" in frame else []
    hosts = hosts or _values(frame, "host") or _values(frame, "machine") or ["not recorded"]
    dates = next((sorted({str(v)[:10] for v in frame[c].dropna()}) for c in DATE_COLUMNS
                  if c in frame and frame[c].notna().any()), [])
    date = (dates[0] if len(dates) == 1 else f"{dates[0]} … {dates[-1]}") if dates else "not recorded"
    runtimes = _values(frame, "runtime")
    return (f"`{command}` → `benchmarks/results/{csv}` · hosts: {', '.join(hosts)} · dates: {date}"
            + (f" · runtimes: {', '.join(runtimes)}" if runtimes else ""))


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub Markdown table."""
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _pct(x) -> str:
    return "n/a" if pd.isna(x) else f"{100 * float(x):.0f} %"


TRUE_TEXT = ("true", "1", "1.0")


def _true(column: pd.Series) -> pd.Series:
    """A boolean column as written to CSV (True/False, or text where summary rows share it)."""
    return column.astype(str).str.lower().isin(TRUE_TEXT)


def _num(x, digits=2) -> str:
    return "n/a" if pd.isna(x) else f"{float(x):.{digits}f}"


# --- one renderer per table: frame → (header, rows) -------------------------------------------

def budget_hit(frame):
    """Budgets asked of local-cpu and the share measured in [0.85, 1.0] × budget."""
    rows = []
    runs = frame[frame["budget_ms"].notna()]
    for (host, runtime), g in runs.groupby(["host_id", "runtime"]):
        ratio = g["measured_ms"] / g["budget_ms"]
        rows.append([host_label(host), runtime, len(g),
                     f"{g['budget_ms'].min():.1f}–{g['budget_ms'].max():.1f}",
                     f"{int(_true(g['measured_in_band']).sum())} of {len(g)}",
                     f"{ratio.min():.3f}–{ratio.max():.3f}", _num(g["rounds"].mean(), 1)])
    return (["host", "runtime", "budgets", "budget ms", "measured in band", "measured / budget",
             "rounds (mean)"], rows)


ESTIMATES = {"kernel_sum": "kernel sum", "network_model_loo": "per-op network model, leave-one-out",
             "overhead_plus_scaled_kernel_sum_loo": "overhead + scaled kernel sum, leave-one-out",
             "retest (ceiling)": "retest (ceiling)"}


def network_model(frame):
    """Leave-one-out accuracy of the network model (and of the plain kernel sum) per host."""
    rows = []
    for _, r in frame.sort_values(["runtime", "host_id", "estimate"]).iterrows():
        name = ESTIMATES.get(r["estimate"], r["estimate"])
        rows.append([host_label(r["host_id"]), r["runtime"], name, int(r["n"]), _pct(r["within_10pct"]),
                     _pct(r["within_20pct"]), _num(r["mape_pct"], 1), _num(r["spearman"], 3)])
    return (["host", "runtime", "estimate", "networks", "within ±10 %", "within ±20 %", "MAPE %", "ρ"],
            rows)


def network_headline(frame):
    """The network model's leave-one-out share within ±10 % of the measured minimum, beside the
    retest ceiling (the same networks timed twice agree this often) and the plain kernel sum."""
    rows = []
    for (runtime, host), g in frame.groupby(["runtime", "host_id"]):
        by = dict(zip(g["estimate"], g["within_10pct"]))
        model = by.get("network_model_loo", by.get("overhead_plus_scaled_kernel_sum_loo"))
        mape = g.loc[g["estimate"].str.endswith("_loo"), "mape_pct"]
        rows.append([host_label(host), runtime, _pct(model), _num(mape.iloc[0] if len(mape) else None, 1),
                     _pct(by.get("retest (ceiling)")), _pct(by.get("kernel_sum"))])
    return (["host", "runtime", "network model within ±10 %", "MAPE %", "retest ceiling",
             "kernel sum within ±10 %"], rows)


def retest(frame):
    """The same networks timed twice, ten minutes or more apart: share within ±10 %."""
    rows = [[host_label(r["host_id"]), r["runtime"], r["statistic"], int(r["networks"]),
             _pct(r["within_10pct"]), _pct(r["within_5pct"]), _num(r.get("host_drift"), 3)]
            for _, r in frame.sort_values(["runtime", "host_id", "statistic"]).iterrows()]
    return (["host", "runtime", "statistic", "networks", "within ±10 %", "within ±5 %", "host drift"],
            rows)


def tvm_vs_onnxruntime(frame):
    """Tuned TVM over onnxruntime on whole networks, by the minimum of repeats, per host."""
    nets = frame[frame["key"].astype(str).str.startswith("network:")].dropna(
        subset=["ratio_tvm_tuned_to_ort_min"]).drop_duplicates(["host_id", "key"])
    rows = []
    for host, g in nets.groupby("host_id"):
        r = g["ratio_tvm_tuned_to_ort_min"]
        rows.append([host_label(host), len(g), _num(r.median()), f"{r.min():.2f}–{r.max():.2f}",
                     int((r < 1).sum())])
    return (["host", "networks", "TVM / onnxruntime (median)", "range", "networks faster in TVM"], rows)


def pareto(frame):
    """Searched and reference networks: measured latency and PSNR (built-in validation photos)."""
    rows = [[r["kind"], r["name"], _num(r["measured_ms"]), _num(r["psnr"]), f"{int(r['params']):,}",
             _num(r["gmacs"]), "yes" if str(r["on_or_above_front"]).lower() in TRUE_TEXT else "no"]
            for _, r in frame.sort_values("measured_ms").iterrows()]
    return (["kind", "network", "measured ms", "PSNR dB (built-in val)", "params", "GMACs",
             "on or above the front"], rows)


def predictor_tophub(frame):
    """Public TopHub kernels: the best model per device, grouped cross-validation."""
    best = frame.loc[frame.groupby("device")["within_10pct"].idxmax()]
    rows = [[r["device"], r["model"], int(r["kernels"]), _pct(r["within_10pct"]), _num(r["mape_pct"], 1),
             _num(r["spearman"], 3)] for _, r in best.sort_values("device").iterrows()]
    return (["device", "best model", "kernels", "within ±10 %", "MAPE %", "ρ"], rows)


def published_weights(frame):
    """The reference networks with their authors' weights, evaluated here (Y in floating point,
    `scale` pixels shaved, MATLAB bicubic LR), against the papers' figures."""
    cols = [c for c in ("model", "scale", "set", "images", "psnr_float_y", "psnr_published", "psnr_diff",
                        "ssim_float_y", "ssim_published", "psnr_bicubic_float_y") if c in frame]
    rows = [[_num(v, 3) if isinstance(v, float) else v for v in r]
            for r in frame.sort_values(["model", "scale", "set"])[cols].itertuples(index=False)]
    return (cols, rows)


def accelerator_agreement(frame):
    """Simulated Eyeriss-like array (ZigZag) vs HW-NAS-Bench's eyeriss and fpga estimates
    (public:help) over every NAS-Bench-201 network: rank agreement."""
    rows = [[r["reference"], r["kernel_set"], f"{int(r['n_archs']):,}", _num(r["spearman_rho"], 3),
             _num(r["kendall_tau"], 3)]
            for _, r in frame[frame["section"] == "nb201_agreement"].iterrows()]
    return (["reference", "kernel set", "networks", "Spearman ρ", "Kendall τ"], rows)


def relaxations(frame):
    """Width relaxations at the same schedule (one seed, built-in photos): decidedness at the end
    and PSNR after fine-tuning."""
    rows = [[r["width_relaxation"], r["path"], _num(r["width_max_end"], 2), _num(r["width_support_end"], 0),
             _num(r["macs_hd"] / 1e9, 2), _num(r["psnr"], 2), r["schedule"]] for _, r in frame.iterrows()]
    return (["relaxation", "path", "largest width probability", "width support", "GMACs (720p)",
             "PSNR dB", "schedule"], rows)


def published_weights_headline(frame):
    """Per network and scale: test sets whose PSNR here (Y in floating point, as the authors
    compute it) is within ±0.05 dB of the authors' published figure (rows without a published
    figure are counted apart)."""
    rows = []
    for (model, scale), g in frame.groupby(["model", "scale"]):
        published = g[g["psnr_published"].notna()]
        diff = published["psnr_diff"].abs()
        rows.append([model, f"×{scale}", len(published), int((diff <= 0.05).sum()),
                     _num(diff.max(), 3) if len(diff) else "n/a", len(g) - len(published)])
    return (["network", "scale", "sets with a published figure", "within ±0.05 dB", "max |Δ| dB",
             "sets without one"], rows)


TEST_SETS = ("set5", "set14", "b100", "urban100", "manga109")


def _by_schedule(frame):
    """``frame``'s rows with the schedules in their catalog order (demo, cpu, gpu), each keeping
    the order sr_quality wrote it in."""
    from codesign.sr.schedules import SCHEDULES

    order = {name: i for i, name in enumerate(SCHEDULES)}
    return frame.sort_values("schedule", key=lambda col: col.map(order), kind="stable")


def sr_quality(frame):
    """PSNR (dB; Y in floating point, `scale` px shaved) on the standard test sets of networks at
    one named schedule (its steps and training data in the CSV): `searched` by codesign.search,
    reference networks `trained` alike, the same with their `authors`' weights; params, MACs at
    a 1280×720 output, and onnxruntime latency on this host (minimum of repeats)."""
    frame = _by_schedule(frame)
    sets = [s for s in TEST_SETS if s in set(frame["set"])]
    rows = []
    for (schedule, kind, model), g in frame.groupby(["schedule", "kind", "model"], sort=False):
        psnr = g.set_index("set")["psnr"]
        first = g.iloc[0]
        trained = {"authors": "the authors'", "bicubic": "none"}.get(kind, f"`{schedule}`")
        rows.append([trained, kind, model, *[_num(psnr.get(s), 2) for s in sets],
                     f"{first['params'] / 1e3:.0f} k" if first["params"] else "0",
                     _num(first["macs_720p"] / 1e9, 1), _num(first["latency_ms"], 1)])
    return (["trained at", "kind", "network", *[f"{s} ×{int(frame['scale'].iloc[0])}" for s in sets],
             "params", "GMACs 720p", "ms here"], rows)


QAIHUB_CATALOG = ("Samsung Galaxy S24", "Samsung Galaxy S25", "QCS8550 (Proxy)")  # the catalog NPUs' sources
HELD_OUT = {"sr": "SR", "inpainter": "inpainters", "segmenter": "segmenters",
            "small_map": "small-map CNNs"}  # column prefix → name


def qaihub_fit(frame):
    """NPU predictors from AI Hub's whole-model times of the CNNs, on the AI Hub devices the
    catalog's NPUs are fitted on (QCS8550 (Proxy) stands in for the Galaxy S23): the variant of
    least leave-one-model-out MAPE, its leave-one-model-out accuracy over the CNNs, and how many
    of the held-out SR models and of the unseen inpainters, segmenters and small-map CNNs it
    predicts within ±20 %."""
    rows = [[r["device"], r["runtime"], r["precision"], r["variant"], int(r["cnn_models"]),
             _num(r["loo_mape_pct"], 1), _num(r["loo_spearman"], 3), _pct(r["loo_within_10pct"]),
             _pct(r["loo_within_20pct"]),
             *[f"{int(r[f'{k}_within_20pct'])} of {int(r[f'{k}_models'])}" for k in HELD_OUT]]
            for _, r in frame[frame["device"].isin(QAIHUB_CATALOG)].sort_values(
                ["device", "precision", "runtime"]).iterrows()]
    return (["AI Hub device", "runtime", "precision", "variant", "CNNs", "MAPE %", "ρ", "±10 %",
             "±20 %", *[f"{name} within ±20 %" for name in HELD_OUT.values()]], rows)


def qaihub_groups(frame):
    """Every fitted (AI Hub device, runtime) group, by precision: how many reach ρ ≥ 0.95 over
    the CNNs (leave-one-model-out), the medians of MAPE and of the share within ±10 %, and the
    held-out SR models and unseen inpainters, segmenters and small-map CNNs within ±20 % over all
    groups."""
    rows = [[precision, len(g), int((g["loo_spearman"] >= 0.95).sum()), _num(g["loo_mape_pct"].median(), 1),
             _pct(g["loo_within_10pct"].median()),
             *[f"{int(g[f'{k}_within_20pct'].sum())} of {int(g[f'{k}_models'].sum())}" for k in HELD_OUT]]
            for precision, g in frame.groupby("precision")]
    return (["precision", "groups", "ρ ≥ 0.95", "median MAPE %", "median ±10 %",
             *[f"{name} within ±20 %" for name in HELD_OUT.values()]], rows)


def qaihub_sr(frame):
    """The eight SR models, never in a fit, on the Galaxy S24 NPU in float: predicted / AI Hub's
    measured time, per runtime (within ±20 %: 0.8–1.2)."""
    part = frame[(frame["device"] == "Samsung Galaxy S24") & (frame["precision"] == "float")]
    table = part.pivot(index="model", columns="runtime", values="ratio")
    measured = part.pivot(index="model", columns="runtime", values="measured_ms")
    runtimes = [r for r in ("qnn_dlc", "tflite", "onnx") if r in table]
    rows = [[model, *[f"{_num(table.loc[model, rt], 2)} ({_num(measured.loc[model, rt], 3)} ms)" for rt in runtimes]]
            for model in part["model"].drop_duplicates()]
    return (["model", *[f"{rt}: predicted / measured" for rt in runtimes]], rows)


def qaihub_unseen(frame):
    """The zoo's CNNs of three families never in a fit and added after the fit's design was fixed
    (two inpainters, six segmenters, thirteen small-map CNNs), on the Galaxy S24 NPU in float:
    predicted / AI Hub's measured time, per runtime (within ±20 %: 0.8–1.2)."""
    part = frame[(frame["device"] == "Samsung Galaxy S24") & (frame["precision"] == "float")]
    runtimes = [r for r in ("qnn_dlc", "tflite", "onnx") if r in set(part["runtime"])]
    cell = {(r["device"], r["model"], r["runtime"]): f"{_num(r['ratio'], 2)} ({r['measured_ms']:.3g} ms)"
            for _, r in part.iterrows()}
    pairs = part[["device", "family", "model"]].drop_duplicates().sort_values(["device", "family", "model"])
    rows = [[family, model, *[cell.get((device, model, rt), "n/a") for rt in runtimes]]
            for device, family, model in pairs.itertuples(index=False)]
    return (["family", "model", *[f"{rt}: predicted / measured" for rt in runtimes]], rows)


def qaihub_pooled(frame):
    """The design fitted on every family at once (the fitted CNNs and the unseen ones; a
    diagnosis, not shipped), on the AI Hub devices of the catalog's NPUs in float: its variant,
    leave-one-model-out MAPE, ρ and share within ±20 %; each family predicted by the fit on the
    others (leave-one-family-out, within ±20 %); the SR models, never fitted, by the fit on all."""
    families = {"fitted": "fitted CNNs", **{k: v for k, v in HELD_OUT.items() if k != "sr"}}
    rows = [[r["device"], r["runtime"], r["variant"], int(r["cnn_models"]), _num(r["loo_mape_pct"], 1),
             _num(r["loo_spearman"], 3), _pct(r["loo_within_20pct"]),
             *[f"{int(r[f'{k}_within_20pct'])} of {int(r[f'{k}_models'])}" for k in (*families, "sr")]]
            for _, r in frame.sort_values(["device", "runtime"]).iterrows()]
    return (["AI Hub device", "runtime", "variant", "CNNs", "MAPE %", "ρ", "±20 %",
             *[f"{name}, others fitted" for name in families.values()], "SR, all fitted"], rows)


def qaihub_search(frame):
    """Searches on the Galaxy S24 NPU beside the zoo's SR models: the search's op-table cost,
    the whole-model fit on each network's own graph, AI Hub's time where it has one, and PSNR on
    Set5 ×4 (Y, 4 px shaved) beside bicubic's, after training at the schedule named."""
    rows = [[r["network"], _num(r["op_table_ms"], 3) + (f" ± {_num(r['op_table_std_ms'], 3)}"
                                                        if pd.notna(r["op_table_std_ms"]) else ""),
             _num(r["whole_model_predicted_ms"], 3), _num(r["measured_ms"], 3), _num(r["gmacs"], 2),
             f"{int(r['params']):,}", _num(r["psnr_db"], 2), _num(r.get("psnr_bicubic_db"), 2),
             r["schedule"] if pd.notna(r["schedule"]) else r["psnr_data"]] for _, r in frame.iterrows()]
    return (["network", "op-table ms (predicted)", "whole-model ms (predicted)", "AI Hub ms (measured)",
             "GMACs", "params", "Set5 ×4 dB", "bicubic dB", "trained"], rows)


def sr_presets(frame):
    """The main job's searched network at each schedule (with a teacher where one was used):
    PSNR (dB, Y, `scale` px shaved) on the five test sets, its gain over bicubic on Set5,
    onnxruntime latency on this host, and the steps of its search and fine-tuning."""
    frame = _by_schedule(frame)
    sets = [s for s in TEST_SETS if s in set(frame["set"])]
    rows = []
    for (schedule, kind, model), g in frame[frame["kind"].str.startswith("searched")].groupby(
            ["schedule", "kind", "model"], sort=False):
        psnr, first = g.set_index("set"), g.iloc[0]
        gain = psnr["psnr"].get("set5", np.nan) - psnr["psnr_bicubic"].get("set5", np.nan)
        rows.append([f"`{schedule}`", model + (" + teacher" if kind.endswith("teacher") else ""),
                     *[_num(psnr["psnr"].get(s), 2) for s in sets], f"+{_num(gain, 2)}",
                     _num(first["latency_ms"], 1), f"{int(first['steps']):,}"])
    return (["schedule", "searched network", *[f"{s} ×{int(frame['scale'].iloc[0])}" for s in sets],
             "Set5 over bicubic", "ms here", "steps"], rows)


def sr_quality_front(frame):
    """Each searched network against the front of the reference networks trained alike (same
    schedule and host, with a teacher where it had one), per test set: on or above it when no
    such reference runs in no more measured time at a higher PSNR. The references not trained
    alike are listed with their measured time in the same run (their authors' weights: a
    network's time does not depend on its weights): one that is slower than the searched network
    could not be on the front below it, however it were trained; a faster one is left unchecked."""
    frame = _by_schedule(frame)
    sets = [s for s in TEST_SETS if s in set(frame["set"])]
    rows = []
    for (host, schedule, kind, model), ours in frame[frame["kind"].str.startswith("searched")].groupby(
            ["host_id", "schedule", "kind", "model"], sort=False):
        run = frame[(frame["host_id"] == host) & (frame["schedule"] == schedule)]
        alike = run[run["kind"] == kind.replace("searched", "trained")]
        ms = ours["latency_ms"].iloc[0]
        faster = alike[alike["latency_ms"] <= ms]
        psnr = ours.set_index("set")["psnr"]
        have = [s for s in sets if s in psnr]
        above = [s for s in have if not (faster[faster["set"] == s]["psnr"] > psnr[s]).any()]
        others = run[(run["kind"] == "authors") & ~run["model"].isin(alike["model"])]
        others = others.groupby("model", sort=False)["latency_ms"].first().sort_values()
        rows.append([f"`{schedule}`", kind, model, _num(ms, 1),
                     ", ".join(sorted(set(alike["model"]))) or "none",
                     *[("yes" if s in above else "no") if s in have else "n/a" for s in sets],
                     f"{len(above)} of {len(have)}", _others(others, ms)])
    return (["trained at", "kind", "network", "ms here", "references trained alike", *sets,
             "on or above", "not trained alike (ms here)"], rows)


def _others(latency_ms, ms: float) -> str:
    """``model ms`` of each reference not trained alike, and whether all are slower than ``ms``."""
    if latency_ms.empty:
        return "none"
    listed = ", ".join(f"{m} {_num(v, 1)}" for m, v in latency_ms.items())
    quicker = [m for m, v in latency_ms.items() if v <= ms]
    return f"{listed}: " + (f"{', '.join(quicker)} not slower, unchecked" if quicker else "all slower")


def sr_teacher(frame):
    """What the teacher changes: for each network trained or searched with and without it at one
    schedule on one host (same steps, seed and data), its PSNR with the
    teacher minus without, per test set (dB; positive: the teacher helped), beside the student's
    parameters."""
    frame = _by_schedule(frame)
    sets = [s for s in TEST_SETS if s in set(frame["set"])]
    rows = []
    taught = frame[frame["kind"].str.endswith("+teacher")]
    for (host, schedule, kind, model), part in taught.groupby(["host_id", "schedule", "kind", "model"], sort=False):
        plain = frame[(frame["host_id"] == host) & (frame["schedule"] == schedule)
                      & (frame["kind"] == kind.removesuffix("+teacher")) & (frame["model"] == model)]
        if plain.empty:
            continue
        gain = part.set_index("set")["psnr"] - plain.set_index("set")["psnr"]
        rows.append([f"`{schedule}`", kind.removesuffix("+teacher"), model,
                     f"{int(plain['params'].iloc[0]):,} → {int(part['params'].iloc[0]):,}",
                     *[_num(gain.get(s), 2) for s in sets], _num(gain.mean(), 2)])
    return (["trained at", "kind", "network", "params without → with", *[f"{s} dB" for s in sets],
             "mean dB"], rows)


def sr_quality_gap(frame):
    """The gap to the authors' weights at equal measured latency: for each network with its
    authors' weights, the best network trained here (searched or trained alike, at each
    schedule) that runs in no more time on the same host, timed in the same run, and the
    authors' PSNR minus its PSNR per test set (dB; positive: the authors' weights are better)."""
    frame = _by_schedule(frame)
    sets = [s for s in TEST_SETS if s in set(frame["set"])]
    mine = frame[~frame["kind"].isin(("authors", "bicubic"))]
    rows = []
    for (host, schedule, model), theirs in frame[frame["kind"] == "authors"].groupby(
            ["host_id", "schedule", "model"], sort=False):
        limit = theirs["latency_ms"].iloc[0]
        ours = mine[(mine["host_id"] == host) & (mine["schedule"] == schedule)]
        fast = ours[ours["latency_ms"] <= limit]
        if fast.empty:
            continue
        best = fast.groupby(["kind", "model"])["psnr"].mean().idxmax()  # best over the sets
        pick = fast[(fast["kind"] == best[0]) & (fast["model"] == best[1])].set_index("set")
        their = theirs.set_index("set")["psnr"]
        rows.append([model, _num(limit, 1), f"`{schedule}`", f"{best[1]} ({best[0]})",
                     _num(pick["latency_ms"].iloc[0], 1),
                     *[_num(their.get(s) - pick["psnr"].get(s), 2) for s in sets]])
    return (["authors' network", "ms here", "trained at", "best of ours in no more time", "its ms",
             *[f"{s} gap dB" for s in sets]], rows)


def devices_table(by_provenance: bool = False) -> str:
    """The catalog: where each device's latencies come from (``by_provenance``: one row per
    kind of predictor, naming its devices)."""
    from devices.catalog import list_devices

    devices = list_devices()
    if by_provenance:
        kinds = sorted({d.predictor["provenance"] for d in devices})
        rows = [[k, ", ".join(f"`{d.name}`" for d in devices if d.predictor["provenance"] == k)]
                for k in kinds]
        return markdown_table(["predictor", "devices"], rows)
    rows = [[d.name, d.kind, d.method, d.predictor["provenance"]] for d in devices]
    return markdown_table(["device", "kind", "latency from", "predictor"], rows)


@dataclass(frozen=True)
class Table:
    """A results table: its block name, the CSV it reads, the command that makes the CSV.
    ``where`` (column, value) keeps the rows holding that value (one runtime of the file);
    ``derive``, where given, is the benchmark's summary of the rows, rendered instead of them (a
    summary is computed where it is read, never stored)."""
    name: str
    csv: str
    command: str
    render: Callable[[pd.DataFrame], tuple[list[str], list[list]]]
    derive: Callable[[pd.DataFrame], pd.DataFrame] | None = None
    where: tuple[str, str] | None = None

    def markdown(self) -> str:
        path = RESULTS / self.csv
        if not path.exists():
            return f"No results yet: run `{self.command}`."
        frame = pd.read_csv(path)
        if self.where:
            frame = frame[frame[self.where[0]] == self.where[1]]
        header, rows = self.render(self.derive(frame) if self.derive else frame)
        doc = " ".join((self.render.__doc__ or "").split())
        return f"{doc}\n\n{provenance_line(frame, self.csv, self.command)}\n\n{markdown_table(header, rows)}"


TABLES = [
    Table("budget_hit", "budget_hit.csv", "python -m benchmarks.search.budget_hit", budget_hit),
    Table("networks_onnxruntime", "networks_runtime_local_cpu.csv",
          "python -m benchmarks.latency.networks_runtime_local_cpu --runtime onnxruntime", network_model,
          networks_runtime_local_cpu.summarise, ("runtime", "onnxruntime")),
    Table("networks_tvm", "networks_runtime_local_cpu.csv",
          "python -m benchmarks.latency.networks_runtime_local_cpu --runtime tvm", network_model,
          networks_runtime_local_cpu.summarise, ("runtime", "tvm")),
    Table("network_headline", "networks_runtime_local_cpu.csv",
          "python -m benchmarks.latency.networks_runtime_local_cpu --runtime onnxruntime|tvm", network_headline,
          networks_runtime_local_cpu.summarise),
    Table("retest", "retest_local_cpu.csv",
          "python -m benchmarks.latency.retest_local_cpu --rounds 60 --gap-minutes 10", retest,
          retest_local_cpu.summarise),
    Table("tvm_vs_onnxruntime", "compile_local_cpu.csv", "python -m benchmarks.latency.compile_local_cpu",
          tvm_vs_onnxruntime),
    Table("pareto", "pareto_local_cpu.csv", "python -m benchmarks.search.pareto_local_cpu", pareto),
    Table("published_weights_headline", "published_weights.csv", "python -m benchmarks.quality.published_weights",
          published_weights_headline),
    Table("accelerator_agreement", "accelerator_sim.csv", "python -m benchmarks.prediction.accelerator_sim",
          accelerator_agreement),
    Table("relaxations", "sparsestmax_vs_gumbel.csv", "python -m benchmarks.search.sparsestmax_vs_gumbel",
          relaxations),
    Table("predictor_tophub", "predictor_tophub.csv", "python -m benchmarks.prediction.predictor_tophub",
          predictor_tophub),
    Table("published_weights", "published_weights.csv", "python -m benchmarks.quality.published_weights",
          published_weights),
    Table("sr_quality", "sr_quality.csv", "python -m benchmarks.quality.sr_quality", sr_quality),
    Table("sr_presets", "sr_quality.csv", "python -m benchmarks.quality.sr_quality", sr_presets),
    Table("sr_quality_front", "sr_quality.csv", "python -m benchmarks.quality.sr_quality", sr_quality_front),
    Table("sr_quality_gap", "sr_quality.csv", "python -m benchmarks.quality.sr_quality", sr_quality_gap),
    Table("sr_teacher", "sr_quality.csv", "python -m benchmarks.quality.sr_quality", sr_teacher),
    Table("qaihub_fit", "predictor_qaihub.csv", "python -m benchmarks.prediction.predictor_qaihub", qaihub_fit,
          where=("part", "fit")),
    Table("qaihub_groups", "predictor_qaihub.csv", "python -m benchmarks.prediction.predictor_qaihub",
          qaihub_groups, where=("part", "fit")),
    Table("qaihub_sr", "predictor_qaihub.csv", "python -m benchmarks.prediction.predictor_qaihub", qaihub_sr,
          where=("part", "sr")),
    Table("qaihub_unseen", "predictor_qaihub.csv", "python -m benchmarks.prediction.predictor_qaihub",
          qaihub_unseen, where=("part", "unseen")),
    Table("qaihub_pooled", "predictor_qaihub.csv", "python -m benchmarks.prediction.predictor_qaihub",
          qaihub_pooled, where=("part", "pooled")),
    Table("qaihub_search", "predictor_qaihub.csv",
          "python -m benchmarks.prediction.predictor_qaihub --searches RUN_DIR ...", qaihub_search,
          where=("part", "search")),
]


FILES = {
    "accelerator_sim.csv": "python -m benchmarks.prediction.accelerator_sim",
    "baselines.csv": "python -m benchmarks.quality.baselines (--steps 20000 on an H100: benchmarks/gpu_h100.sh)",
    "budget_hit.csv": "python -m benchmarks.search.budget_hit [--runtime tvm]",
    "compile_local_cpu.csv": "python -m benchmarks.latency.compile_local_cpu (phase tuning: also --tune-only)",
    "host_steadiness_local_cpu.csv": "python -m benchmarks.latency.host_steadiness_local_cpu",
    "nb201_noise_floor.csv": "python -m benchmarks.prediction.nb201_noise_floor",
    "networks_local_cpu.csv": "python -m benchmarks.latency.networks_local_cpu (the 50 derived networks the local-cpu benchmarks time)",
    "networks_runtime_local_cpu.csv": "python -m benchmarks.latency.networks_runtime_local_cpu --runtime RUNTIME (one run per runtime: onnxruntime, tvm)",
    "pareto_local_cpu.csv": "python -m benchmarks.search.pareto_local_cpu (searched rows: a budget_hit run, --searched)",
    "pareto_local_cpu.png": "python -m benchmarks.search.pareto_local_cpu",
    "predictor_local_cpu.csv": "python -m benchmarks.prediction.predictor_local_cpu --profile devices/profiles/local-cpu/HOST/RUNTIME.csv",
    "predictor_nb201.csv": "python -m benchmarks.prediction.predictor_nb201",
    "predictor_tophub.csv": "python -m benchmarks.prediction.predictor_tophub",
    "published_weights.csv": "python -m benchmarks.quality.published_weights",
    "retest_local_cpu.csv": "python -m benchmarks.latency.retest_local_cpu --rounds 60 --gap-minutes 10",
    "predictor_qaihub.csv": "python -m benchmarks.prediction.predictor_qaihub (part search: --searches RUN_DIR ...)",
    "predictor_qaihub_learned.csv": "python -m benchmarks.prediction.predictor_qaihub_learned",
    "search_flops.csv": "python -m benchmarks.search.search_flops (at a GPU schedule, and the main job row: benchmarks/gpu_h100.sh)",
    "sr_quality.csv": "python -m benchmarks.quality.sr_quality [--schedule demo|cpu|gpu]",
    "sr_quality.png": "python -m benchmarks.quality.sr_quality",
    "sparsestmax_vs_gumbel.csv": "python -m benchmarks.search.sparsestmax_vs_gumbel",
    "timing_span_local_cpu.csv": "python -m benchmarks.latency.timing_span_local_cpu",
    "transfer.csv": "python -m benchmarks.prediction.transfer",
    "tvm_tuning_curve.csv": "python -m benchmarks.latency.tvm_tuning_curve",
    "tvm_tuning_curve.png": "python -m benchmarks.latency.tvm_tuning_curve",
}
"""Every file of benchmarks/results/ → the command that makes it (tests/benchmarks/test_report.py
fails on a file missing here)."""


def files_index() -> str:
    """One row per file of benchmarks/results/: the command, rows, hosts and dates it holds."""
    rows = []
    for name in sorted(p.name for p in RESULTS.iterdir() if p.is_file()):
        command = FILES.get(name, "not listed in benchmarks.report.FILES")
        if name.endswith(".csv"):
            frame = pd.read_csv(RESULTS / name)
            _, rest = provenance_line(frame, name, command).split(" · ", 1)
            rows.append([f"`{name}`", f"`{command}`", len(frame), rest.replace(" · ", "; ")])
        else:
            rows.append([f"`{name}`", f"`{command}`", "", "figure"])
    return markdown_table(["file", "made by", "rows", "hosts; dates; runtimes"], rows)


def schedules_table() -> str:
    """The named schedules of codesign.search and codesign.train (``--schedule``), from the code."""
    from codesign.search.api import SEARCH_SCHEDULES
    from codesign.sr.schedules import SCHEDULES

    rows = []
    for name, s in SCHEDULES.items():
        search, train = SEARCH_SCHEDULES[name], s.train
        rows.append([f"`{name}`", f"{search.steps:,} + {search.warmup_steps:,} warm-up, "
                     f"{search.batch_size}, {search.patch_size} px",
                     f"{train.steps:,}, {train.batch_size}, {train.patch_size} px, {train.lr:g}",
                     f"`{s.data}`" if s.data else "built-in photos", s.about])
    return markdown_table(["schedule", "search (steps, batch, HR patch)",
                           "fine-tuning (steps, batch, HR patch, Adam lr)", "data", "costs"], rows)


def blocks() -> dict[str, str]:
    """Every block's generated Markdown, by name."""
    out = {t.name: t.markdown() for t in TABLES}
    out["schedules"] = schedules_table()
    out["devices"] = devices_table()
    out["device_kinds"] = devices_table(by_provenance=True)
    out["files"] = files_index()
    return out


def rewrite(text: str, generated: dict[str, str]) -> tuple[str, list[str]]:
    """``text`` with each known block replaced; returns it and the names of blocks that changed.
    An unknown block name raises ValueError (a typo would otherwise go unchecked)."""
    changed = []

    def replace(match: re.Match) -> str:
        name = match["name"]
        if name not in generated:
            raise ValueError(f"unknown results block {name!r}; known: {', '.join(sorted(generated))}")
        body = generated[name].rstrip("\n") + "\n"
        if match["body"] != body:
            changed.append(name)
        return match.group(1) + body + match.group(4)

    return BLOCK.sub(replace, text), changed


def update(documents=None, check: bool = False) -> list[str]:
    """Rewrite (or with ``check`` only compare) the results blocks of ``documents``; returns
    ``file:block`` for each block that differed."""
    generated = blocks()
    stale = []
    for path in DOCUMENTS if documents is None else documents:
        text = Path(path).read_text()
        new, changed = rewrite(text, generated)
        stale += [f"{Path(path).relative_to(REPO) if Path(path).is_relative_to(REPO) else path}:{n}"
                  for n in changed]
        if changed and not check:
            write_text_atomic(path, new)
    return stale


@cli_main(ValueError)
def main(argv=None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 if a block differs from what the CSVs give")
    args = parser.parse_args(argv)
    stale = update(check=args.check)
    for name in stale:
        print(f"{'stale' if args.check else 'rewritten'}: {name}")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
