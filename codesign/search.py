"""Hardware-aware trilevel search for a device and a budget: the main job of codesign.

    python -m codesign.search --device NAME --budget 50ms [--scale 4] [--input HxW]
                              [--data DIR] [--out DIR] [--resume | --force] [--penalty hinge]
    python -m codesign.search --budget 20GFLOPs [--scale 4] [--input HxW] …   (no device)
    torchrun --nproc_per_node N -m codesign.search …   (data-parallel search on N GPUs)

The device's latency predictor (or the counted GMACs, for a ``GFLOPs`` budget) gives a cost for
every candidate op instance at the device's LR input size; the supernet's expected cost over its
sparsestmax distributions is penalised towards the budget with a strength adapted by dual ascent
(codesign.penalty), the derived network inherits the supernet's weights and is fine-tuned, then
exported (``weights.safetensors``, ``model.onnx`` checked in onnxruntime), compiled with TVM for
the device's target and, where the device is reachable, measured. ``report.csv`` says for every
number whether it is counted, predicted or measured.

The output folder is locked for the whole run (``OUT/.lock``: a second run into it refuses).
A folder that holds an earlier run is continued only with ``--resume`` (its settings must be
the same, ``run.json``) or cleared with ``--force``. SIGINT/SIGTERM stop the search at the
next step with a checkpoint and print the command that resumes it; checkpoints are also
written every ``--checkpoint-every-s`` seconds. ``report.csv`` is written last: a folder
without one is not a finished run. Once the outputs are written the (large) search checkpoint
is deleted: a finished run is not resumable, ``--force`` starts it over.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import re
import shlex
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import pandas as pd
import torch

from codesign.budget import Budget, BudgetError, parse_budget
from codesign.budget_fit import fit_to_budget
from codesign.closed_loop import read_network_profile, refit_on, run_rounds
from codesign.complexity import hd_lr_hw
from codesign.cost_source import (
    CostTable,
    cost_range,
    feasible_nodes,
    macs_table,
    predicted_latency_table,
)
from codesign.data import DataError, load_pairs
from codesign.device import default_device, describe
from codesign.penalty import FORMS, BudgetPenalty
from codesign.op_instances import op_instances
from codesign.search_space import SearchSpace
from codesign.search_train import (
    CHECKPOINT,
    Interrupted,
    ResumeMismatch,
    SearchConfig,
    StopOnSignal,
    rank_and_world,
    search,
    search_and_train,
)
from codesign_common.atomic import write_csv_atomic, write_text_atomic
from codesign_common.cli import (
    Parser,
    positive_float,
    UsageError,
    check_output_dir,
    nonnegative_int,
    positive_int,
)
from codesign_common.locks import LockBusy, exclusive_lock

REPO = Path(__file__).resolve().parent.parent
log = logging.getLogger("codesign.search")


RUN_FILE = "run.json"          # the run's settings and status (running/interrupted/failed/complete)
# What a run writes in its folder: what --force clears (nothing else is ever deleted).
RUN_FILES = (CHECKPOINT, "search_log.csv", "genotype.json", "report.csv", "weights.safetensors",
             "model.onnx", "model_tvm.so", "pareto.png", "search.log", RUN_FILE)
RUN_DIRS = ("finetune", "round*")
TMP_SUFFIXES = (".tmp", ".png", ".onnx", ".so")   # codesign_common.atomic temporaries
MIN_LR_PATCH = 2   # LR patch side (px) the data pipeline needs


class SearchError(UsageError):
    """A search that cannot start (no predictor, unreachable budget …): one line for the user."""


def parse_input(text: str) -> tuple[int, int]:
    """``'180x320'`` → (180, 320): LR input height × width in pixels."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not match or min(int(match.group(1)), int(match.group(2))) < 8:
        raise SearchError(f"--input {text!r} is not HxW in LR pixels (each side ≥ 8), e.g. 180x320")
    return int(match.group(1)), int(match.group(2))


def resolve_runtime(device, requested: str | None) -> str | None:
    """The runtime the result is deployed and measured with: ``--runtime``, else onnxruntime
    for local-cpu (TVM tuned ran a median 2.18x slower here, compile_local_cpu.csv) and TVM for
    every other device; None without a device."""
    if device is None:
        return None
    from devices.backends.base import NoBackend, check_runtime
    from devices.catalog import LOCAL_CPU

    runtime = requested or ("onnxruntime" if device.name == LOCAL_CPU else "tvm")
    try:
        check_runtime(device, runtime)
    except NoBackend as exc:
        raise SearchError(f"--runtime {runtime}: {exc}") from None
    return runtime


def find_predictor(device, explicit: str | None, runtime: str | None = None) -> Path | None:
    """The predictor folder for a device (predictors.store, the one lookup every command uses):
    ``--predictor``, else this host's predictor for ``runtime`` (local-cpu), else the device's,
    under ``$CODESIGN_PREDICTORS`` then ``predictors/trained``; None when none exists."""
    from devices.catalog import LOCAL_CPU
    from predictors.store import find_predictor as lookup

    host_id = None
    if device.name == LOCAL_CPU:
        from devices.host_identity import fingerprint

        host_id = fingerprint()["host_id"]
    try:
        return lookup(device.name, explicit, host_id, runtime)
    except ValueError as exc:
        raise SearchError(str(exc)) from None


def predictor_state(path: Path) -> dict:
    """The predictor.json of a predictor folder (device, meta …)."""
    try:
        state = json.loads((Path(path) / "predictor.json").read_text())
    except (OSError, ValueError) as exc:
        raise SearchError(f"predictor {path}: unreadable predictor.json ({exc})") from None
    if not isinstance(state, dict):
        raise SearchError(f"predictor {path}: predictor.json is not an object")
    return state


def predictor_provenance(state: dict, device_name: str, runtime: str | None) -> tuple[str, str | None]:
    """("predicted", None), or ("transferred-from-<where>", one warning line) when a predictor
    of this host's device was made on another host (predictors.store.host_provenance) or in
    another runtime than the one the result is deployed with."""
    from predictors.store import host_provenance

    meta = state.get("meta") or {}
    label, warning = host_provenance(meta, device_name)
    made_on = meta.get("host_id") or "unrecorded-host"
    timed_in = meta.get("runtime")
    if label == "transferred":
        return f"transferred-from-{made_on}", warning
    if runtime and timed_in and not str(timed_in).startswith(runtime):
        return (f"transferred-from-{timed_in}", f"warning: the {device_name} predictor was timed "
                f"in {timed_in}, the result is deployed in {runtime}: its latencies are labelled "
                f"transferred")
    return "predicted", None


def needs_host_profile(device, args: argparse.Namespace, budget: Budget) -> bool:
    """True for a latency search of this host (local-cpu) in a runtime that runs here
    (onnxruntime) when no predictor of this host and runtime exists and none was given: the
    search then profiles the host first (codesign.self_profile). TVM is not self-profiled:
    tuning every op instance takes hours (devices.profile --runtime tvm does it on request)."""
    from devices.backends.base import HOST_RUNTIMES
    from devices.catalog import LOCAL_CPU

    if (device is None or device.name != LOCAL_CPU or args.predictor or budget.metric != "latency_ms"
            or args.runtime not in HOST_RUNTIMES):
        return False
    from devices.host_identity import fingerprint

    path = find_predictor(device, None, args.runtime)
    meta = predictor_state(path).get("meta") or {} if path else {}
    return meta.get("host_id") != fingerprint()["host_id"] or meta.get("runtime") != args.runtime


def default_network_profile(device, runtime: str) -> Path:
    """Where a device's measured whole networks are kept: per host and runtime for local-cpu
    (``devices/profiles/local-cpu/<host_id>/<runtime>-networks.csv``), else per device."""
    from devices.catalog import LOCAL_CPU

    if device.name != LOCAL_CPU:
        return REPO / "devices" / "profiles" / f"{device.name}-networks.csv"
    from devices.host_identity import fingerprint

    return REPO / "devices" / "profiles" / LOCAL_CPU / fingerprint()["host_id"] / f"{runtime}-networks.csv"


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
            f"no latency predictor for {device.name}: profile it (python -m devices.profile "
            f"--device {device.name} --out PROFILE.csv), train one (python -m predictors.train "
            f"--device {device.name} --profile PROFILE.csv --out predictors/trained/{device.name}) "
            f"or give --predictor DIR; a GFLOPs budget needs none")
    state = predictor_state(path)
    other = state.get("device")
    if other != device.name and not force_predictor:
        raise SearchError(f"predictor {path} was trained for {other}, not {device.name}: give "
                          f"{device.name}'s predictor, or add --force-predictor to use it anyway "
                          f"(its costs are then labelled transferred-from-{other})")
    table = predicted_latency_table(space, lr_hw, path)
    if other != device.name:
        return dataclasses.replace(table, provenance=f"transferred-from-{other}")
    label, warning = predictor_provenance(state, device.name, runtime)
    if warning:
        print(warning, file=sys.stderr)
    return dataclasses.replace(table, provenance=label) if label != "predicted" else table


@dataclass
class PenaltyHook:
    """The search's cost penalty: expected cost under the current distributions (+ per-network
    overhead) pushed towards ``penalty.target``; the strength is adapted after every step."""

    table: CostTable
    lr_hw: tuple[int, int]
    penalty: BudgetPenalty

    def __post_init__(self):
        self.last_log: dict = {}

    def __call__(self, expected_cost_fn, task_loss: torch.Tensor) -> torch.Tensor:
        cost = expected_cost_fn(self.table.mean, self.lr_hw) + self.table.network_overhead
        term = self.penalty(task_loss, cost) - task_loss
        strength = self.penalty.adapt(cost.item())
        self.last_log = {"expected_cost": cost.item(), "strength": strength}
        return term

    def state_dict(self) -> dict:
        return self.penalty.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.penalty.load_state_dict(state)


def check_schedule(args: argparse.Namespace, scale: int) -> None:
    """What argparse's types cannot check alone (before anything is written)."""
    if args.patch_size % scale or args.patch_size // scale < MIN_LR_PATCH:
        raise SearchError(f"--patch-size {args.patch_size} must be a multiple of the scale "
                          f"({scale}) and at least {MIN_LR_PATCH * scale} px (an LR patch of "
                          f"{MIN_LR_PATCH} px)")


def run_settings(args: argparse.Namespace, name: str, budget: Budget, scale: int, lr_hw,
                 table: CostTable) -> dict:
    """Every setting that decides the result, keyed by its option: a resume must match them."""
    return {"--device": name, "--runtime": args.runtime, "--budget": budget.slug, "--scale": scale,
            "--input": f"{lr_hw[0]}x{lr_hw[1]}",
            "--data": str(Path(args.data).resolve()) if args.data else None,
            "--predictor": table.source if table.provenance != "counted" else None,
            "--penalty": args.penalty, "--strength": args.strength,
            "--strength-step": args.strength_step, "--steps": args.steps,
            "--warmup-steps": args.warmup_steps, "--finetune-steps": args.finetune_steps,
            "--batch-size": args.batch_size, "--patch-size": args.patch_size,
            "--order-weight": args.order_weight, "--nf": args.nf, "--num-cells": args.num_cells,
            "--width-relaxation": args.width_relaxation, "--no-fit": args.no_fit,
            "--seed": args.seed}


def existing_run(out: Path) -> list[str]:
    """The files and folders of an earlier run in ``out`` (RUN_FILES, RUN_DIRS)."""
    if not out.is_dir():
        return []
    found = [n for n in RUN_FILES if (out / n).exists()]
    return found + sorted(p.name for pattern in RUN_DIRS for p in out.glob(pattern) if p.is_dir())


def clear_run(out: Path) -> None:
    """--force: delete the earlier run's files and folders (only those; caller holds the lock)."""
    for name in RUN_FILES:
        (out / name).unlink(missing_ok=True)
    for pattern in RUN_DIRS:
        for folder in out.glob(pattern):
            if folder.is_dir():
                shutil.rmtree(folder)


def remove_stale_temporaries(out: Path) -> list[Path]:
    """Delete the atomic writer's temporaries (``.NAME.XXXXXXXX.tmp`` …) a killed run left in
    ``out`` and its fine-tuning/round folders. Safe: the caller holds the folder's lock."""
    folders = [out, *(p for pattern in ("finetune", "round*", "round*/finetune")
                      for p in out.glob(pattern) if p.is_dir())]
    stale = [p for folder in folders for p in folder.glob(".*.*")
             if p.is_file() and p.suffix in TMP_SUFFIXES]
    for p in stale:
        p.unlink(missing_ok=True)
    return stale


def _read_run(out: Path) -> dict:
    try:
        return json.loads((out / RUN_FILE).read_text())
    except (OSError, ValueError):
        return {}


def _write_run(out: Path, settings: dict, status: str) -> None:
    write_text_atomic(out / RUN_FILE, json.dumps({"status": status, "settings": settings},
                                                 indent=1) + "\n")


def check_resumable(out: Path, settings: dict) -> bool:
    """Refuse to --resume a run written with other settings (named); True when the run in
    ``out`` is already finished (its report is the result: nothing is run again)."""
    saved = _read_run(out)
    old = saved.get("settings") or {}
    differ = [f"{k} {old[k]} (this run: {settings.get(k)})" for k in settings
              if k in old and old[k] != settings.get(k)]
    if differ:
        raise SearchError(f"cannot --resume {out}: it was run with {'; '.join(differ)}; resume "
                          f"with the same settings, or use --force to start over")
    return saved.get("status") == "complete" and (out / "report.csv").is_file()


def _setup_logging(out: Path) -> None:
    log.setLevel(logging.INFO)
    log.handlers.clear()
    for handler in (logging.FileHandler(out / "search.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)


def config_for(args: argparse.Namespace) -> SearchConfig:
    return SearchConfig(steps=args.steps, warmup_steps=args.warmup_steps,
                        batch_size=args.batch_size, patch_size=args.patch_size, seed=args.seed,
                        width_relaxation=args.width_relaxation, order_weight=args.order_weight,
                        checkpoint_every_s=args.checkpoint_every_s)


def penalty_for(args: argparse.Namespace, budget: Budget) -> BudgetPenalty:
    return BudgetPenalty(budget.value, args.penalty, strength=args.strength,
                         step_size=args.strength_step)


def init_distributed(args: argparse.Namespace) -> None:
    """Under torchrun (WORLD_SIZE > 1): join the process group (NCCL on GPUs, else gloo) and
    use this rank's GPU. Each rank searches on its own share of every batch (--batch-size per
    rank); gradients are averaged (codesign.search_train)."""
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return
    import torch.distributed as dist

    if torch.cuda.is_available() and args.torch_device in (None, "cuda"):
        local = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local)
        args.torch_device = f"cuda:{local}"
    dist.init_process_group("nccl" if str(args.torch_device).startswith("cuda") else "gloo")


def run_search(args: argparse.Namespace, stop: StopOnSignal | None = None) -> pd.DataFrame:
    """Everything after argument parsing; returns the report table (also written to disk).
    Every input is checked before anything is written; ``args.out_dir`` is set to the output
    folder once this run has written into it (for the resume hint of an interruption)."""
    from devices.catalog import get_device

    device = get_device(args.device) if args.device else None
    budget = parse_budget(args.budget)
    scale = args.scale or (device.scale if device else 4)
    if args.input:
        lr_hw = parse_input(args.input)
    else:
        lr_hw = tuple(device.lr_input_hw) if device else hd_lr_hw(scale)
    name = device.name if device else "no-device"
    check_schedule(args, scale)
    args.runtime = resolve_runtime(device, args.runtime)
    space = SearchSpace(nf=args.nf, num_cells=args.num_cells, scale=scale)
    if needs_host_profile(device, args, budget):
        if args.dry_run:
            print(f"note: this host has no {args.runtime} predictor yet: the search will first time "
                  f"the space's {len(op_instances(space, lr_hw))} op instances here "
                  f"(codesign.self_profile; below, the costs of the fallback predictor)", file=sys.stderr)
        else:
            from codesign.self_profile import profile_this_host

            args.predictor = str(profile_this_host(device, args.runtime, space, lr_hw,
                                                   progress=rank_and_world()[0] == 0))
    predictor_table = cost_table_for(device, budget, space, lr_hw, args.predictor,
                                     args.force_predictor, args.runtime)
    table, network_profile = predictor_table, None
    if device is not None and device.method == "tvm-local" and budget.metric == "latency_ms":
        network_profile = Path(args.network_profile or default_network_profile(device, args.runtime))
        table, _ = refit_on(predictor_table, read_network_profile(network_profile, lr_hw), lr_hw)
    low, high = cost_range(space, table, lr_hw)
    unit = table.unit
    if budget.value < low:
        raise SearchError(f"budget {budget} is below the cheapest network of this space on "
                          f"{name} at {lr_hw[0]}x{lr_hw[1]} LR: {low:.3g} {unit} "
                          f"({table.provenance}); raise the budget or shrink --input")
    above = budget.value * 0.85 > high
    pairs = load_pairs(args.data, "train", scale, min_size=args.patch_size)
    if len(pairs) < 2:
        raise DataError("the search needs at least 2 training images (weights and architecture "
                        f"halves); {args.data or 'the built-in photos'} has {len(pairs)}")
    out = check_output_dir(Path(args.out or Path("runs") / "search" / f"{name}-{budget.slug}"))
    earlier = existing_run(out)
    if earlier and not (args.resume or args.force):
        raise SearchError(f"{out} holds an earlier run ({', '.join(earlier[:4])}"
                          f"{' …' if len(earlier) > 4 else ''}): add --resume to continue it "
                          f"or --force to start over")
    settings = run_settings(args, name, budget, scale, lr_hw, predictor_table)
    if args.resume and not args.force:
        check_resumable(out, settings)
    if args.dry_run:
        span = (f"{name}: {table.provenance} cost of the space at {lr_hw[0]}x{lr_hw[1]} LR "
                f"spans {low:.3g} … {high:.3g} {unit}")
        if above:
            print(f"{span}; budget {budget} is above the dearest network: every network meets "
                  f"it, the search will derive the largest ({high:.3g} {unit}), below "
                  f"[0.85, 1.0] x budget")
        else:
            print(f"{span}; budget {budget} is reachable; outputs would go to {out}")
        return pd.DataFrame()
    rank, _ = rank_and_world()
    if rank != 0:  # data-parallel helper rank (torchrun): the search only; rank 0 does the rest
        out.mkdir(parents=True, exist_ok=True)
        search(space, config_for(args), out_dir=out, data=args.data, resume=args.resume,
               penalty=PenaltyHook(table, lr_hw, penalty_for(args, budget)),
               device=args.torch_device, progress=False,
               feasible_nodes=feasible_nodes(space, table, lr_hw, budget.value), stop=stop)
        return pd.DataFrame()
    with exclusive_lock(out / ".lock", f"output folder {out}"):
        earlier = existing_run(out)  # again, under the lock
        if earlier and not (args.resume or args.force):
            raise SearchError(f"{out} holds an earlier run: add --resume to continue it or "
                              f"--force to start over")
        if args.force:
            clear_run(out)
        elif args.resume and check_resumable(out, settings):
            print(f"{out} holds this search, finished: its report is the result (nothing was "
                  f"run; --force starts it over)", file=sys.stderr)
            return pd.read_csv(out / "report.csv")
        stale = remove_stale_temporaries(out)
        args.out_dir = out
        _write_run(out, settings, "running")
        try:
            report = _run_locked(args, out, device, budget, name, lr_hw, scale, space, table,
                                 predictor_table, network_profile, low, high, above, stale, stop)
        except Interrupted:
            _write_run(out, settings, "interrupted")
            raise
        except BaseException:
            _write_run(out, settings, "failed")
            raise
        _write_run(out, settings, "complete")
    return report


def _run_locked(args, out, device, budget, name, lr_hw, scale, space, table, predictor_table,
                network_profile, low, high, above, stale, stop) -> pd.DataFrame:
    """The search proper, in ``out`` whose lock the caller holds."""
    _setup_logging(out)
    unit = table.unit
    log.info("device %s, LR input %dx%d, x%d, budget %s", name, *lr_hw, scale, budget)
    log.info("costs: %s %s from %s; space spans %.3g … %.3g %s",
             table.provenance, unit, table.source, low, high, unit)
    if args.force:
        log.info("--force: cleared the earlier run in %s", out)
    if stale:
        log.info("removed %d temporary file(s) a killed run left: %s", len(stale),
                 ", ".join(p.name for p in stale))
    if args.resume and (out / CHECKPOINT).exists():
        log.info("resuming from %s", out / CHECKPOINT)
    elif args.resume:
        log.info("--resume: no search checkpoint in %s yet; starting the search", out)
    if above:
        log.info("budget %s is above the dearest network of the space (%.3g %s): every network "
                 "meets it; the derived network will be at most the largest, below [0.85, 1.0] "
                 "x budget", budget, high, unit)
    config = config_for(args)
    hook = PenaltyHook(table, lr_hw, penalty_for(args, budget))
    feasible = feasible_nodes(space, table, lr_hw, budget.value)
    log.info("%d of %d output nodes can meet the budget; the others are excluded",
             sum(feasible), len(feasible))
    started = time.perf_counter()
    genotype, net, summary = search_and_train(
        space, config, out_dir=out, data=args.data, finetune_steps=args.finetune_steps,
        penalty=hook, resume=args.resume, device=args.torch_device, feasible_nodes=feasible,
        fit=None if args.no_fit else partial(fit_to_budget, table=table, lr_hw=lr_hw,
                                             budget=budget.value), stop=stop)
    argmax = summary["argmax_genotype"]
    if argmax != genotype:
        cost = table.network_cost(genotype.op_keys(lr_hw))[0]
        where = ("the least-regret network inside it" if cost >= 0.85 * budget.value
                 else f"instead the costliest network under the budget ({cost:.3g} {unit}): no "
                      f"network of the space lies inside the band")
        log.info("the argmax network (%s %.3g %s) was outside [0.85, 1.0] x budget; derived %s "
                 "(codesign.budget_fit)", table.provenance,
                 table.network_cost(argmax.op_keys(lr_hw))[0], unit, where)
    from codesign.search_report import write_outputs

    timing = {"train_device": describe(default_device(args.torch_device)),
              "search_finetune_wall_s": round(time.perf_counter() - started, 1)}
    report = write_outputs(out, device, budget, genotype, net, table, lr_hw, args, space, argmax,
                           timing, write_report=network_profile is None)
    if network_profile is not None:
        def evaluate_round(genotype, net, refit, round_dir):
            return write_outputs(round_dir, device, budget, genotype, net, refit, lr_hw, args,
                                 space, plot=False).iloc[0].to_dict()

        finetune = dict(data=args.data, scale=scale, steps=args.finetune_steps,
                        batch_size=args.batch_size, patch_size=args.patch_size,
                        resume=args.resume, device=args.torch_device, seed=args.seed)
        report = run_rounds(report.iloc[0], out=out, space=space, table=predictor_table,
                            lr_hw=lr_hw, budget=budget.value, rounds=args.rounds,
                            finetune=finetune, evaluate_round=evaluate_round,
                            profile_path=network_profile, device=device.name)
        write_csv_atomic(report, out / "report.csv")
    (out / CHECKPOINT).unlink(missing_ok=True)
    log.info("outputs written; deleted the search checkpoint (a finished run is not resumable: "
             "--force starts it over)")
    return report


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
    p = Parser(prog="python -m codesign.search", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runtime", choices=("tvm", "onnxruntime"), help="what the result is deployed "
                   "and measured with (default: onnxruntime for local-cpu, else tvm)")
    p.add_argument("--device", help="catalog name (python -m devices.list); optional for a "
                   "GFLOPs budget")
    p.add_argument("--budget", required=True, help="e.g. 50ms, 0.05s or 2.5GFLOPs")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="default: the device's")
    p.add_argument("--input", help="LR input HxW (default: the device's)")
    p.add_argument("--data", help="HR training folder (default: built-in photos)")
    p.add_argument("--out", help="output folder (default: runs/search/DEVICE-BUDGET, the budget "
                   "normalised: 50ms)")
    again = p.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue an interrupted run in --out (same settings)")
    again.add_argument("--force", action="store_true",
                       help="start over in an --out that holds an earlier run, deleting its files")
    p.add_argument("--checkpoint-every-s", type=positive_float, default=60.0,
                   help="also checkpoint the search after this much wall time (s; default 60)")
    p.add_argument("--predictor", help="latency predictor folder (default: the device's, "
                   "$CODESIGN_PREDICTORS/DEVICE or predictors/trained/DEVICE)")
    p.add_argument("--force-predictor", action="store_true", help="use a --predictor trained for "
                   "another device (costs labelled transferred-from-THAT-DEVICE)")
    p.add_argument("--penalty", choices=FORMS, default="hinge")
    p.add_argument("--strength", type=float, default=1.0,
                   help="initial strength s, in units of the task loss (codesign.penalty)")
    p.add_argument("--strength-step", type=float, default=0.5, help="dual-ascent step")
    p.add_argument("--steps", type=positive_int, default=400, help="search steps (radius 0 → 1)")
    p.add_argument("--warmup-steps", type=nonnegative_int, default=40,
                   help="weight-only steps first")
    p.add_argument("--finetune-steps", type=nonnegative_int, default=3000)
    p.add_argument("--batch-size", type=positive_int, default=4)
    p.add_argument("--patch-size", type=positive_int, default=48,
                   help=f"HR patch side (px): a multiple of the scale, ≥ {MIN_LR_PATCH} x scale")
    p.add_argument("--order-weight", type=float, default=0.01,
                   help="weight of the order (sorting) loss favouring shallower paths")
    p.add_argument("--nf", type=positive_int, default=64, help="supernet feature channels")
    p.add_argument("--num-cells", type=positive_int, default=5,
                   help="cells including the stem cell")
    p.add_argument("--width-relaxation", default="sparsestmax",
                   choices=("sparsestmax", "gumbel", "softmax"))
    p.add_argument("--trials", type=positive_int, default=32,
                   help="MetaSchedule trials per fused task when measuring the result")
    p.add_argument("--no-measure", action="store_true", help="skip compiling and timing")
    p.add_argument("--network-profile", help="whole networks measured on the device, re-fitted "
                   "on before searching and appended to (default: "
                   "devices/profiles/DEVICE-networks.csv; codesign.closed_loop)")
    p.add_argument("--rounds", type=positive_int, default=3,
                   help="closed-loop rounds at most where the device is measured "
                        "(codesign.closed_loop; 1: no re-fit)")
    p.add_argument("--no-fit", action="store_true", help="keep the argmax network even when it "
                   "is outside [0.85, 1.0] x budget (codesign.budget_fit)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--torch-device", default=None, help="cpu, cuda … (default: cuda if present)")
    p.add_argument("--dry-run", action="store_true", help="check inputs and the budget, then stop")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    argv = _attach_budget_value(argv)
    args = build_parser().parse_args(argv)
    from devices.catalog import UnknownDeviceError

    args.out_dir = None
    stop = StopOnSignal().install() if _main_thread() else None
    try:
        init_distributed(args)
        report = run_search(args, stop)
    except (UsageError, BudgetError, UnknownDeviceError, DataError, LockBusy,
            ResumeMismatch) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:  # Interrupted (SIGINT/SIGTERM) or fine-tuning's own
        signum = getattr(exc, "signum", signal.SIGINT)
        what = signal.Signals(signum).name
        if args.out_dir is None:
            print(f"interrupted by {what} before anything was written; run the command again",
                  file=sys.stderr)
        else:
            step = getattr(exc, "step", None) if isinstance(exc, Interrupted) else None
            at = f" at search step {step}" if step is not None else ""
            print(f"interrupted by {what}{at}; progress is checkpointed in {args.out_dir}; "
                  f"resume with: {resume_command(argv, args.out_dir)}", file=sys.stderr)
        return 128 + signum
    finally:
        if stop is not None:
            stop.uninstall()
    if not report.empty:
        if len(report) > 1:
            print(report[["round", "cost", "measured_ms", "psnr", "path"]].to_string(index=False))
        row = report.iloc[-1]
        print(row.drop(labels=["genotype"], errors="ignore").to_string())
        print(f"outputs in {row['out_dir']}")
    return 0


def _main_thread() -> bool:
    import threading

    return threading.current_thread() is threading.main_thread()


if __name__ == "__main__":
    sys.exit(main())
