"""Quality where the field looks, beside what it costs: PSNR/SSIM on Set5, Set14, B100, Urban100
and Manga109 (those present; Y in floating point, `scale` px shaved), params, MACs at a
1280×720 output and onnxruntime latency on this host, for networks trained at one named
schedule (codesign.sr.schedules).

    python -m benchmarks.quality.sr_quality [--schedule demo] [--scale 4]
        [--searches pixel7:50ms ...] [--archs fsrcnn espcn ...] [--authors imdn rlfn ...]
        [--teacher ARCH:FILE [--teacher-archs espcn ...]] [--work runs/sr_quality]
        [--out benchmarks/results/sr_quality.csv]

One row per network and test set; `kind` says what the network is:
- `searched`: ``python -m codesign.search --device D --budget B --schedule S`` (the search's own
  cost of it and that cost's provenance from its report.csv);
- `trained`: a reference network trained alike, at the schedule's steps, batch, patch, learning
  rate and data (benchmarks.quality.baselines.train_reference);
- `searched+teacher`, `trained+teacher` (with ``--teacher``): the same searches and trainings
  again, at the same steps, with L1 to the teacher's output on each whole training image added to
  the loss (weight 1; codesign.sr.teacher), the `teacher` column naming it; ``--teacher-archs``
  limits the trainings taught to some of ``--archs``;
- `authors`: a reference network with its authors' weights; its quality is read from
  published_weights.csv, where it is measured (benchmarks.quality.published_weights);
- `bicubic`.
`latency_ms` is the minimum of onnxruntime repeats on this host at local-cpu's LR input, taken
after all training (a disturbed timing is refused, devices.quiet_timing). Searches and trainings
in ``--work`` are reused, so the same command resumes; rows of other schedules and hosts stay.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import sys
from dataclasses import replace
from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from benchmarks.host_rows import replace_rows
from benchmarks.quality.baselines import machine, reference_run_dir, train_reference
from codesign.search.api import SEARCH_SCHEDULES, SearchRequest, plan, run
from codesign.sr.complexity import complexity_row
from codesign.sr.data import DataError
from codesign.sr.data.sets import present_test_sets
from codesign.sr.evaluate import evaluation_table, load_model_from_run
from codesign.sr.models import build_model, list_models
from codesign.sr.schedules import SCHEDULES
from codesign.sr.teacher import teacher_label
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import (
    UsageError,
    check_output_dir,
    check_output_file,
    cli_main,
)
from devices.catalog import get_device
from devices.host_identity import fingerprint
from devices.measure import time_network
from devices.quiet_timing import DisturbedTiming

ROW_KEYS = ("host_id", "schedule", "kind", "model", "set")
"""A row of sr_quality.csv: one network of one kind at one schedule on one test set, one host."""


def weights_digest(model) -> str:
    """sha256 of a network's weights, in state-dict order: what an evaluation cache is keyed by."""
    digest = hashlib.sha256()
    for key, tensor in model.state_dict().items():
        digest.update(key.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


def quality_rows(model, name: str, scale: int, cache: Path | None = None) -> pd.DataFrame:
    """Mean PSNR/SSIM (float Y) of ``model`` and of bicubic on every test set present; read
    from ``cache`` where an earlier run wrote them for these very weights and the same sets,
    written there after."""
    digest, sets = weights_digest(model), present_test_sets()
    if cache is not None and cache.exists():
        cached = pd.read_csv(cache)
        if ("weights_sha256" in cached and (cached["weights_sha256"] == digest).all()
                and list(cached["set"]) == list(sets)):  # a cache from before the digest is stale
            return cached.drop(columns="weights_sha256")
    rows = []
    for test_set in sets:
        table = evaluation_table(model, name, scale, test_set)
        mean = table[table.image == "mean"].iloc[0]
        rows.append({"set": test_set, "images": len(table) - 1, "psnr": mean["psnr_float_y"],
                     "ssim": mean["ssim_float_y"], "psnr_bicubic": mean["psnr_bicubic_float_y"],
                     "ssim_bicubic": mean["ssim_bicubic_float_y"]})
    if cache is not None:
        cache.parent.mkdir(parents=True, exist_ok=True)
        write_csv_atomic(pd.DataFrame(rows).assign(weights_sha256=digest), cache)
    return pd.DataFrame(rows)


def searched(spec: str, schedule: str, scale: int, work: Path,
             teacher: str | None = None) -> tuple[object, pd.DataFrame, dict]:
    """A search ``DEVICE:BUDGET`` at ``schedule`` in ``work`` (a finished one is reused), distilled
    from ``teacher`` in search and fine-tuning where one is named."""
    device, _, budget = spec.partition(":")
    named = SCHEDULES[schedule]
    out = work / (f"search-{device}-{budget}-x{scale}" + ("-teacher" if teacher else ""))
    request = SearchRequest(
        budget=budget, device=device, scale=scale, data=named.data, out=str(out),
        resume=(out / "run.json").exists(),
        schedule=replace(SEARCH_SCHEDULES[schedule], distill_weight=1.0 if teacher else 0.0),
        finetune_steps=named.train.steps, finetune_batch_size=named.train.batch_size,
        finetune_patch_size=named.train.patch_size, finetune_lr=named.train.lr, measure=False,
        teacher=teacher)
    report = run(plan(request)).final
    model = load_model_from_run(out)
    facts = {"budget": budget, "device": device, "cost": report["cost"],
             "cost_unit": report["cost_unit"], "cost_provenance": report["cost_provenance"],
             "steps": int(report["search_steps"]) + int(report["finetune_steps"]),
             "train_wall_s": report["search_finetune_wall_s"], "teacher": teacher_label(teacher) if teacher else ""}
    return model, quality_rows(model, f"searched {spec}", scale, out / "quality.csv"), facts


def authors(arch: str, scale: int) -> pd.DataFrame:
    """The authors' weights' quality, as published_weights.csv measured it."""
    rows = pd.read_csv(RESULTS / "published_weights.csv")
    rows = rows[(rows.model == arch) & (rows.scale == scale)]
    if rows.empty:
        raise UsageError(f"--authors {arch}: no x{scale} rows in published_weights.csv "
                         f"(python -m benchmarks.quality.published_weights)")
    return pd.DataFrame({"set": rows["set"], "images": rows["images"], "psnr": rows["psnr_float_y"],
                         "ssim": rows["ssim_float_y"], "psnr_bicubic": rows["psnr_bicubic_float_y"],
                         "ssim_bicubic": rows["ssim_bicubic_float_y"],
                         "weights_file": rows["weights_file"]}).reset_index(drop=True)


def latency(model, name: str, scale: int, work: Path) -> dict:
    """onnxruntime on this host at local-cpu's LR input: min of repeats (ms), where, and with how
    many threads (``latency_target``)."""
    lr_hw = tuple(get_device("local-cpu").lr_input_hw)
    row = time_network("local-cpu", str(work / "latency.csv"), name, (1, 3, *lr_hw), scale,
                       module=model, runtimes=("onnxruntime",))[0]
    return {"latency_ms": row["latency_min_ms"], "latency_median_ms": row["latency_ms"],
            "runtime": row["runtime"], "latency_target": row["target"],
            "latency_lr_hw": f"{lr_hw[0]}x{lr_hw[1]}",
            "latency_host": row["host"]}


def figure(rows: pd.DataFrame, path: Path) -> None:
    """PSNR against measured latency, one row of panels per schedule (each timed in one run),
    one panel per test set, one marker per kind."""
    import matplotlib
    import matplotlib.ticker

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sets, schedules = list(dict.fromkeys(rows["set"])), list(dict.fromkeys(rows["schedule"]))
    fig, axes = plt.subplots(len(schedules), len(sets), figsize=(3.2 * len(sets), 3.2 * len(schedules)),
                             squeeze=False)
    for axes_row, schedule in zip(axes, schedules):
        for ax, name in zip(axes_row, sets):
            for colour, (kind, marker) in enumerate((("searched", "o"), ("searched+teacher", "P"), ("trained", "s"),
                                                     ("trained+teacher", "D"), ("authors", "^"), ("bicubic", "x"))):
                part = rows[(rows["schedule"] == schedule) & (rows["set"] == name) & (rows["kind"] == kind)]
                if part.empty:
                    continue
                ax.scatter(part["latency_ms"], part["psnr"], marker=marker, color=f"C{colour}", label=kind)
                for _, r in part.iterrows():
                    ax.annotate(r["model"], (r["latency_ms"], r["psnr"]), fontsize=6)
            ax.set_title(f"{name}, trained at {schedule}")
            ax.set_xscale("log")
            ax.xaxis.set_major_formatter(matplotlib.ticker.FormatStrFormatter("%g"))
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
            ax.set_xlabel("onnxruntime ms on this host")
        axes_row[0].set_ylabel("PSNR (dB, Y)")
        axes_row[0].legend(fontsize=6)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=120)
    plt.close(fig)
    tmp.replace(path)


@cli_main(DataError, DisturbedTiming)
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--schedule", choices=tuple(SCHEDULES), default="demo")
    p.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    p.add_argument("--searches", nargs="*", default=["pixel7:50ms"], metavar="DEVICE:BUDGET")
    p.add_argument("--archs", nargs="*", default=["fsrcnn", "espcn"],
                   help="reference networks trained alike")
    p.add_argument("--authors", nargs="*", default=["imdn", "rlfn", "rlfn_ntire"],
                   help="reference networks with their authors' weights (published_weights.csv)")
    p.add_argument("--teacher", help="also every search and training again with this teacher "
                   "(codesign.sr.teacher: ARCH:FILE, a checkpoint or a search folder)")
    p.add_argument("--teacher-archs", nargs="*", metavar="ARCH",
                   help="the --archs trained again with the teacher (default: all of them)")
    p.add_argument("--work", default="runs/sr_quality", help="searches and trainings (resumable)")
    p.add_argument("--out", default=str(RESULTS / "sr_quality.csv"))
    args = p.parse_args(argv)
    unknown = sorted((set(args.archs) | set(args.authors)) - set(list_models()))
    if unknown:
        raise UsageError(f"unknown network(s) {', '.join(unknown)}; known: {', '.join(list_models())}")
    taught = args.archs if args.teacher_archs is None else args.teacher_archs
    if args.teacher_archs is not None and (not args.teacher or set(taught) - set(args.archs)):
        raise UsageError("--teacher-archs needs --teacher and names some of --archs")
    out, work = check_output_file(args.out), check_output_dir(args.work, "--work")
    named, found = SCHEDULES[args.schedule], []
    for teacher in (None, args.teacher) if args.teacher else (None,):
        suffix = "+teacher" if teacher else ""
        for spec in args.searches:
            model, quality, facts = searched(spec, args.schedule, args.scale, work, teacher)
            found.append(("searched" + suffix, f"{facts['device']} {facts['budget']}", model, quality, facts))
        for arch in taught if teacher else args.archs:
            train = named.train
            model, facts = train_reference(arch, scale=args.scale, steps=train.steps,
                                           batch_size=train.batch_size, patch_size=train.patch_size,
                                           lr=train.lr, data=named.data, work=work, teacher=teacher)
            cache = reference_run_dir(work, arch, args.scale, teacher) / "quality.csv"
            found.append(("trained" + suffix, arch, model, quality_rows(model, arch, args.scale, cache), facts))
    for arch in args.authors:
        found.append(("authors", arch, build_model(arch, args.scale).eval(), authors(arch, args.scale), {}))
    bicubic = build_model("bicubic", args.scale).eval()
    found.append(("bicubic", "bicubic", bicubic,
                  quality_rows(bicubic, "bicubic", args.scale, work / "bicubic" / "quality.csv"), {}))
    # every network is timed after all training, one after another
    host = {"host_id": fingerprint()["host_id"], "machine": machine(),
            "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")}
    rows = []
    for kind, name, model, quality, facts in found:
        cost = complexity_row(model, args.scale)
        timed = latency(model, name.replace(" ", "-"), args.scale, work)
        rows.append(quality.assign(**{
            "kind": kind, "model": name, "schedule": args.schedule, "scale": args.scale,
            "train_data": named.data or "built-in photos", "params": cost["params"],
            "macs_720p": cost["macs_720p"], **facts, **timed, **host}))
    table = replace_rows(out, pd.concat(rows, ignore_index=True), ROW_KEYS)
    write_csv_atomic(table, out)
    figure(table[table.host_id == host["host_id"]],
           out.with_suffix(".png"))
    print(table[table.schedule == args.schedule][["kind", "model", "set", "psnr", "psnr_bicubic",
                                                  "params", "latency_ms"]].to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
