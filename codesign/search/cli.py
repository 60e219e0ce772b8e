"""Hardware-aware trilevel search for a device and a budget: the main job of codesign.

    python -m codesign.search --device NAME --budget 50ms [--scale 4] [--input HxW]
                              [--schedule demo|cpu|gpu] [--data DIR|SET] [--out DIR]
                              [--resume | --force] [--penalty hinge]
    python -m codesign.search --budget 20GFLOPs [--scale 4] [--input HxW] …   (no device)
    torchrun --nproc_per_node N -m codesign.search …   (data-parallel search on N GPUs)

The device's latency predictor (or the counted GMACs, for a ``GFLOPs`` budget) gives a cost for
every candidate op instance at the device's LR input size; the supernet's expected cost over its
sparsestmax distributions is penalised towards the budget with a strength adapted by dual ascent
(codesign.search.penalty), the derived network inherits the supernet's weights and is fine-tuned, then
exported (``weights.safetensors``, ``model.onnx`` checked in onnxruntime), compiled with TVM for
the device's target and, where the device is reachable, measured. ``report.csv`` says for every
number whether it is counted, predicted or measured. ``--schedule`` names the search and
fine-tuning schedule and the training set it is meant for (codesign.sr.schedules): ``demo``
(the default) trains on the built-in photos in minutes on 2 cores.

The output folder is locked for the whole run (``OUT/.lock``: a second run into it refuses).
A folder that holds an earlier run is continued only with ``--resume`` (its settings must be
the same, ``run.json``) or cleared with ``--force``. SIGINT/SIGTERM stop the search at the
next step with a checkpoint and print the command that resumes it; checkpoints are also
written every ``--checkpoint-every-s`` seconds. ``report.csv`` is written last: a folder
without one is not a finished run. Once the outputs are written the (large) search checkpoint
is deleted: a finished run is not resumable, ``--force`` starts it over.

This command only parses its flags into a request: the search is codesign.search.api
(``run(plan(SearchRequest(...)))``), which benchmarks and tests call directly.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import shlex
import signal
import sys
import warnings
from pathlib import Path

import torch

from codesign.search.api import (
    BAND_TEXT,
    SearchInterrupted,
    SearchRequest,
    default_schedule,
    plan,
    run,
)
from codesign.search.budget import BudgetError
from codesign.search.inputs import MIN_LR_PATCH
from codesign.search.penalty import FORMS, BudgetPenalty
from codesign.search.train import ResumeMismatch, StopOnSignal
from codesign.sr.data import DataError
from codesign.sr.models.weights import WeightsError
from codesign.sr.schedules import SCHEDULES
from codesign_common.cli import (
    Parser,
    UsageError,
    nonnegative_int,
    number_in,
    one_line_warnings,
    positive_float,
    positive_int,
)
from codesign_common.locks import LockBusy


def init_distributed(torch_device: str | None) -> str | None:
    """Under torchrun (WORLD_SIZE > 1): join the process group (NCCL on GPUs, else gloo) and
    return this rank's GPU as the torch device. Each rank searches on its own share of every
    batch (--batch-size per rank); gradients are averaged (codesign.search.train)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return torch_device
    import torch.distributed as dist

    if torch.cuda.is_available() and torch_device in (None, "cuda"):
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        torch_device = f"cuda:{local}"
    dist.init_process_group("nccl" if str(torch_device).startswith("cuda") else "gloo")
    return torch_device


def request_from(args: argparse.Namespace, torch_device: str | None) -> SearchRequest:
    """The SearchRequest the parsed flags describe; a schedule flag left out is --schedule's."""
    search, named = default_schedule(args.schedule), SCHEDULES[args.schedule]

    def given(flag: str, default):
        value = getattr(args, flag)
        return default if value is None else value

    schedule = dataclasses.replace(
        search, steps=given("steps", search.steps),
        warmup_steps=given("warmup_steps", search.warmup_steps),
        batch_size=given("batch_size", search.batch_size),
        patch_size=given("patch_size", search.patch_size), order_weight=args.order_weight,
        distill_weight=args.distill_weight if args.teacher else 0.0,
        width_relaxation=args.width_relaxation, checkpoint_every_s=args.checkpoint_every_s,
        seed=args.seed)
    return SearchRequest(
        budget=args.budget, device=args.device, runtime=args.runtime, scale=args.scale,
        input=args.input, data=given("data", named.data), out=args.out, resume=args.resume,
        force=args.force,
        predictor=args.predictor, force_predictor=args.force_predictor,
        network_profile=args.network_profile, penalty=args.penalty, strength=args.strength,
        strength_step=args.strength_step, schedule=schedule,
        finetune_steps=given("finetune_steps", named.train.steps),
        finetune_batch_size=given("finetune_batch_size", named.train.batch_size),
        finetune_patch_size=given("finetune_patch_size", named.train.patch_size),
        finetune_lr=given("finetune_lr", named.train.lr), teacher=args.teacher,
        nf=args.nf, num_cells=args.num_cells, fit=not args.no_fit, measure=not args.no_measure,
        trials=args.trials, dominant_trials=args.dominant_trials, rounds=args.rounds,
        torch_device=torch_device, dry_run=args.dry_run)


def _attach_budget_value(argv: list[str]) -> list[str]:
    """``--budget -5ms`` → ``--budget=-5ms`` so argparse does not take the value for an option
    and the budget parser can say what is wrong with it."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--budget" and out[i + 1].startswith("-"):
            out[i:i + 2] = [f"--budget={out[i + 1]}"]
            break
    return out


def resume_command(argv: list[str], out: Path) -> str:
    """The command line that resumes this run: its arguments without --force/--resume, with
    --out and --resume."""
    kept, skip = [], False
    has_out = False
    for arg in argv:
        if skip:
            skip = False
            kept.append(arg)
            continue
        if arg in ("--force", "--resume"):
            continue
        has_out |= arg == "--out" or arg.startswith("--out=")
        skip = arg == "--out"
        kept.append(arg)
    if not has_out:
        kept += ["--out", str(out)]
    return shlex.join(["python", "-m", "codesign.search", *kept, "--resume"])


def build_parser() -> argparse.ArgumentParser:
    schedule = default_schedule()
    p = Parser(prog="python -m codesign.search", description=__doc__,
               formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runtime", choices=("tvm", "onnxruntime"), help="what the result is deployed "
                   "and measured with (default: onnxruntime for local-cpu, else tvm)")
    p.add_argument("--device", help="catalog name (python -m devices.list); optional for a "
                   "GFLOPs budget")
    p.add_argument("--budget", required=True, help="e.g. 50ms, 0.05s or 2.5GFLOPs")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="default: the device's")
    p.add_argument("--input", help="LR input HxW (default: the device's)")
    p.add_argument("--schedule", choices=tuple(SCHEDULES), default="demo",
                   help="named schedule setting the search and fine-tuning steps, batch, patch, "
                        "learning rate and --data (flags given win): "
                        + "; ".join(f"{k}: {s.about}" for k, s in SCHEDULES.items()))
    p.add_argument("--data", help="HR training folder or set name (default: the schedule's)")
    p.add_argument("--out", help="output folder (default: runs/search/DEVICE-BUDGET, the budget "
                   "normalised: 50ms)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue an interrupted run in --out (same settings)")
    again.add_argument("--force", action="store_true",
                       help="start over in an --out that holds an earlier run, deleting its files")
    p.add_argument("--checkpoint-every-s", type=positive_float, default=schedule.checkpoint_every_s,
                   help="also checkpoint the search after this much wall time (s; default "
                        "%(default)g)")
    p.add_argument("--predictor", help="latency predictor folder (default: the device's, "
                   "$CODESIGN_PREDICTORS/DEVICE or predictors/trained/DEVICE)")
    p.add_argument("--force-predictor", action="store_true", help="use a --predictor trained for "
                   "another device (costs labelled transferred-from-THAT-DEVICE)")
    p.add_argument("--penalty", choices=FORMS, default=SearchRequest.penalty)
    p.add_argument("--strength", type=number_in(float, 0, BudgetPenalty.max_strength),
                   default=SearchRequest.strength,
                   help="initial strength s, in units of the task loss (codesign.search.penalty)")
    p.add_argument("--strength-step", type=positive_float, default=SearchRequest.strength_step,
                   help="dual-ascent step")
    p.add_argument("--steps", type=positive_int, help="search steps (radius 0 → 1)")
    p.add_argument("--warmup-steps", type=nonnegative_int, help="weight-only steps first")
    p.add_argument("--batch-size", type=positive_int, help="search batch")
    p.add_argument("--patch-size", type=positive_int,
                   help=f"search HR patch side (px): a multiple of the scale, ≥ {MIN_LR_PATCH} x scale")
    p.add_argument("--finetune-steps", type=nonnegative_int)
    p.add_argument("--finetune-batch-size", type=positive_int)
    p.add_argument("--finetune-patch-size", type=positive_int, help="fine-tuning HR patch side (px)")
    p.add_argument("--finetune-lr", type=positive_float, help="fine-tuning Adam learning rate "
                   "before the cosine decay")
    p.add_argument("--teacher", help="distil from a trained network in the search and the "
                   "fine-tuning: ARCH:FILE (the authors' weights), a codesign.train checkpoint or a "
                   "search folder (codesign.sr.teacher)")
    p.add_argument("--distill-weight", type=positive_float, default=1.0,
                   help="weight w of L1(out, the teacher's output) beside L1(out, HR) (with --teacher)")
    p.add_argument("--order-weight", type=number_in(float, 0), default=schedule.order_weight,
                   help="weight of the order (sorting) loss favouring shallower paths")
    p.add_argument("--nf", type=positive_int, default=SearchRequest.nf,
                   help="supernet feature channels")
    p.add_argument("--num-cells", type=positive_int, default=SearchRequest.num_cells,
                   help="cells including the stem cell")
    p.add_argument("--width-relaxation", default=schedule.width_relaxation,
                   choices=("sparsestmax", "gumbel", "softmax"))
    p.add_argument("--trials", type=positive_int, default=SearchRequest.trials,
                   help="MetaSchedule trials per fused task (at least; the task with the most FLOPs "
                        "--dominant-trials, the others in proportion) when measuring the result in TVM")
    p.add_argument("--dominant-trials", type=positive_int,
                   help="trials of the fused task with the most FLOPs (default 4 x --trials); a TVM "
                        "predictor learned kernels tuned to the profile's levels (README)")
    p.add_argument("--no-measure", action="store_true", help="skip compiling and timing")
    p.add_argument("--network-profile", help="whole networks measured on the device, re-fitted "
                   "on before searching and appended to (default: under $CODESIGN_CACHE/profiles/, "
                   "with the one shipped in devices/profiles/ read too; codesign.search.closed_loop)")
    p.add_argument("--rounds", type=positive_int, default=SearchRequest.rounds,
                   help="closed-loop rounds at most where the device is measured "
                        "(codesign.search.closed_loop; 1: no re-fit)")
    p.add_argument("--no-fit", action="store_true", help="keep the argmax network even when it "
                   f"is outside {BAND_TEXT} (codesign.search.budget_fit)")
    p.add_argument("--seed", type=int, default=schedule.seed)
    p.add_argument("--torch-device", default=SearchRequest.torch_device,
                   help="cpu, cuda … (default: cuda if present)")
    p.add_argument("--dry-run", action="store_true", help="check inputs and the budget, then stop")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    argv = _attach_budget_value(argv)
    args = build_parser().parse_args(argv)
    from devices.catalog import CatalogError, UnknownDeviceError
    from devices.quiet_timing import DisturbedTiming

    stop = StopOnSignal().install() if _main_thread() else None
    shown = warnings.showwarning
    warnings.showwarning = one_line_warnings  # a skipped image: one `warning:` line
    try:
        request = request_from(args, init_distributed(args.torch_device))
        checked = plan(request)
        if request.dry_run:
            print(checked.summary())
            return 0
        try:
            result = run(checked, stop)
        except DisturbedTiming as exc:  # the searched, fine-tuned network waits in its folder
            raise DisturbedTiming(f"{exc}; the searched network is kept in {checked.out}: time it "
                                  f"again with: {resume_command(argv, checked.out)}") from exc
    except (UsageError, BudgetError, UnknownDeviceError, CatalogError, DataError, LockBusy,
            ResumeMismatch, DisturbedTiming, WeightsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except SearchInterrupted as exc:
        at = f" at search step {exc.step}" if exc.step is not None else ""
        print(f"interrupted by {signal.Signals(exc.signum).name}{at}; progress is checkpointed "
              f"in {exc.out}; resume with: {resume_command(argv, exc.out)}", file=sys.stderr)
        return 128 + exc.signum
    except KeyboardInterrupt as exc:  # before the run wrote into its folder
        signum = getattr(exc, "signum", signal.SIGINT)
        print(f"interrupted by {signal.Signals(signum).name} before anything was written; run "
              f"the command again", file=sys.stderr)
        return 128 + signum
    finally:
        warnings.showwarning = shown
        if stop is not None:
            stop.uninstall()
    if result is not None:
        report = result.report
        if len(report) > 1:
            print(report[["round", "cost", "measured_ms", "psnr", "path", "result"]]
                  .to_string(index=False))
        row = result.final
        print(row.drop(labels=["genotype"], errors="ignore").to_string())
        print(f"outputs in {row['out_dir']}")
    return 0


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()
