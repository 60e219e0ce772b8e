"""The hardware-aware search as an API: ``SearchRequest`` → :func:`plan` → ``SearchPlan`` →
:func:`run` → ``SearchResult``. ``python -m codesign.search`` is a thin parser over it.

:func:`plan` resolves and checks everything before anything is written: the device, budget,
LR input and runtime, the cost table (the device's predictor re-fitted on its measured
networks, or counted GMACs for a GFLOPs budget; a local-cpu host without a predictor of its
own is profiled first, codesign.search.self_profile), whether the budget is reachable, the training
data and the output folder. :func:`run` then searches in that folder under its lock, fits the
derived network to the budget band (codesign.search.budget_fit), fine-tunes, exports and measures it
(codesign.search.report) and, where the device is timed here, runs the closed loop
(codesign.search.closed_loop). Errors a user can fix raise :class:`SearchError` (or the data, budget,
device and lock errors of their modules) with one line; an interruption after the folder was
written raises :class:`SearchInterrupted`.
"""
from __future__ import annotations

import logging
import signal
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

import pandas as pd

from codesign.search.budget import BAND, Budget, aim_band, parse_budget
from codesign.search.budget_fit import fit_in_aim
from codesign.search.closed_loop import run_rounds
from codesign.search.cost_source import CostTable, cost_range, feasible_nodes
from codesign.search.folder import (
    FIRST_ROUND,
    RUN_FILES,
    START_NETWORKS,
    clear_run,
    existing_run,
    finished,
    remove_stale_temporaries,
    setting_differences,
    write_run,
)
from codesign.search.inputs import (
    SearchError,
    check_memory,
    check_patch_size,
    find_predictor,
    host_profile_gap,
    parse_input,
    resolve_runtime,
    search_costs,
)
from codesign.search.penalty import BudgetPenalty
from codesign.search.report import ReportOptions, recorded_measurement, write_outputs
from codesign.search.train import (
    CHECKPOINT,
    Interrupted,
    PenaltyHook,
    SearchConfig,
    StopOnSignal,
    rank_and_world,
    search,
    search_and_train,
)
from codesign.space.genotype import Genotype
from codesign.space.op_instances import op_instances
from codesign.space.search_space import SearchSpace
from codesign.sr.complexity import hd_lr_hw
from codesign.sr.data import DataError, load_pairs
from codesign.sr.data.sets import resolve_data
from codesign.sr.device import default_device, describe, threads_restored
from codesign.sr.schedules import SCHEDULES
from codesign.sr.teacher import load_teacher
from codesign_common.atomic import write_csv_atomic
from codesign_common.cache import cache_root, check_cache_dir
from codesign_common.cli import check_output_dir
from codesign_common.locks import exclusive_lock

log = logging.getLogger("codesign.search")
BAND_TEXT = f"[{BAND[0]}, {BAND[1]}] x budget"


SEARCH_SCHEDULES = {
    "demo": SearchConfig(steps=400, warmup_steps=40, batch_size=4, patch_size=48),
    "cpu": SearchConfig(steps=2_000, warmup_steps=200, batch_size=16, patch_size=96),
    "gpu": SearchConfig(steps=20_000, warmup_steps=2_000, batch_size=64, patch_size=192),
}
"""The search's own steps of each named schedule; its fine-tuning is codesign.sr.schedules'."""
DEMO = SCHEDULES["demo"].train


def default_schedule(name: str = "demo") -> SearchConfig:
    """The search schedule of ``python -m codesign.search --schedule NAME`` (its flags' defaults)."""
    return SEARCH_SCHEDULES[name]


@dataclass(frozen=True)
class SearchRequest:
    """One search, as ``python -m codesign.search`` takes it: each field is the flag of that
    name (``measure`` and ``fit`` are the negations of --no-measure and --no-fit; the schedule
    holds --steps, --warmup-steps, --batch-size, --patch-size, --order-weight,
    --width-relaxation, --checkpoint-every-s and --seed)."""

    budget: str                          # '50ms', '0.05s' or '2.5GFLOPs' (codesign.search.budget)
    device: str | None = None            # catalog name; may be None for a GFLOPs budget
    runtime: str | None = None           # tvm | onnxruntime (default: onnxruntime on local-cpu, else tvm)
    scale: int | None = None             # default: the device's (4 without a device)
    input: str | None = None             # LR input 'HxW' in px (default: the device's, else 720p out)
    data: str | None = None              # HR training folder (default: the built-in photos)
    out: str | None = None               # output folder (default: runs/search/DEVICE-BUDGET)
    resume: bool = False                 # continue the interrupted run in ``out``
    force: bool = False                  # start over in an ``out`` that holds an earlier run
    predictor: str | None = None         # latency predictor folder (default: predictors.store)
    force_predictor: bool = False        # use a predictor trained for another device
    network_profile: str | None = None   # measured whole networks to re-fit on and extend
    penalty: str = "hinge"               # codesign.search.penalty.FORMS
    strength: float = 1.0                # initial penalty strength (units of the task loss)
    strength_step: float = 0.5           # dual-ascent step of the strength
    schedule: SearchConfig = field(default_factory=default_schedule)
    finetune_steps: int = DEMO.steps
    finetune_batch_size: int = DEMO.batch_size
    finetune_patch_size: int = DEMO.patch_size    # HR px
    finetune_lr: float = DEMO.lr                  # Adam, cosine decay
    teacher: str | None = None           # distil from it in search and fine-tuning (codesign.sr.teacher)
    nf: int = 64                         # supernet feature channels
    num_cells: int = 5                   # cells including the stem cell
    fit: bool = True                     # re-derive a network in the band when the argmax is not
    measure: bool = True                 # compile and time the result where the device is here
    trials: int = 32                     # MetaSchedule trials per fused task (TVM)
    dominant_trials: int | None = None   # trials of the task with the most FLOPs (None: 4 x trials)
    rounds: int = 5                      # closed-loop rounds at most (1: no re-fit; README)
    torch_device: str | None = None      # cpu, cuda … (default: cuda if present)
    dry_run: bool = False                # plan only: a host without a predictor is not profiled


@dataclass(frozen=True, eq=False)
class SearchPlan:
    """A checked request: everything :func:`run` needs, decided before anything is written."""

    request: SearchRequest
    device: object | None                # devices.catalog.Device
    budget: Budget
    scale: int
    lr_hw: tuple[int, int]               # LR input height, width (px)
    runtime: str | None                  # what the result is deployed and measured in
    space: SearchSpace
    predictor_table: CostTable           # the costs before any re-fit
    table: CostTable                     # the costs the search uses (re-fitted where measured)
    network_profile: Path | None         # where the closed loop appends its networks; None: no loop
    measured: pd.DataFrame               # the measured networks ``table`` was re-fitted on
    low: float                           # cheapest network of the space under ``table``
    high: float                          # dearest network of the space under ``table``
    feasible: list[bool]                 # per tree node: can a network ending there meet the budget
    out: Path
    settings: dict                       # what a --resume must match (run.json)
    teacher: object | None = None        # the frozen teacher network, loaded from request.teacher

    @property
    def name(self) -> str:
        return self.device.name if self.device else "no-device"

    @property
    def above(self) -> bool:
        """Whether even the dearest network is below the band: every network meets the budget."""
        return self.budget.value * BAND[0] > self.high

    def summary(self) -> str:
        """What --dry-run prints: the cost span of the space and whether the budget is reachable."""
        unit = self.table.unit
        span = (f"{self.name}: {self.table.provenance} cost of the space at {self.lr_hw[0]}x"
                f"{self.lr_hw[1]} LR spans {self.low:.3g} … {self.high:.3g} {unit}")
        if self.above:
            return (f"{span}; budget {self.budget} is above the dearest network: every network "
                    f"meets it, the search will derive the largest ({self.high:.3g} {unit}), "
                    f"below {BAND_TEXT}")
        return f"{span}; budget {self.budget} is reachable; outputs would go to {self.out}"

    def report_options(self) -> ReportOptions:
        request = self.request
        return ReportOptions(self.device, self.budget, self.space, self.lr_hw, self.runtime,
                             request.measure, request.trials, request.dominant_trials, request.schedule.steps,
                             request.finetune_steps)

    def penalty_hook(self) -> PenaltyHook:
        request = self.request
        return PenaltyHook(self.table, self.lr_hw,
                           BudgetPenalty(self.budget.value, request.penalty,
                                         strength=request.strength,
                                         step_size=request.strength_step))


@dataclass(frozen=True, eq=False)
class SearchResult:
    """A finished search: ``report`` has one row per closed-loop round (as in ``report.csv``;
    after a closed loop its ``result`` column marks the delivered round, which is the one
    measured in the band or nearest to it, not necessarily the last) and ``out`` holds the
    written files."""

    report: pd.DataFrame
    out: Path

    @property
    def final(self) -> pd.Series:
        """The delivered round's row."""
        if "result" in self.report:
            return self.report[self.report["result"].astype(bool)].iloc[0]
        return self.report.iloc[-1]

    @property
    def genotype(self) -> Genotype:
        return Genotype.from_json(self.final["genotype"])

    @property
    def cost(self) -> float:
        """The derived network's cost under the search's table (``final.cost_unit``)."""
        return float(self.final["cost"])

    @property
    def measured_ms(self) -> float | None:
        """Its latency measured on the device (ms), None where it was not measured."""
        value = self.final.get("measured_ms")
        return None if value is None or pd.isna(value) else float(value)

    @property
    def psnr(self) -> float:
        """Its PSNR on the built-in validation photos (dB)."""
        return float(self.final["psnr"])

    @property
    def files(self) -> list[Path]:
        """The run's files in ``out`` (codesign.search.folder.RUN_FILES that exist)."""
        return [self.out / name for name in RUN_FILES if (self.out / name).is_file()]


class SearchInterrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM stopped a run after it started writing ``out``, where its progress is
    checkpointed: ``signum``; ``step``, the search step checkpointed (None when the signal came
    outside the search's step loop)."""

    def __init__(self, out: Path, signum: int, step: int | None):
        super().__init__(out, signum, step)
        self.out, self.signum, self.step = out, signum, step


def plan(request: SearchRequest) -> SearchPlan:
    """Resolve and check ``request`` before anything is written (see the module doc)."""
    from devices.catalog import get_device

    if request.resume and request.force:
        raise SearchError("--resume and --force exclude each other")
    if request.dominant_trials is not None and request.dominant_trials < request.trials:
        raise SearchError("--dominant-trials must be at least --trials")
    if request.teacher and not request.schedule.distill_weight > 0:
        raise SearchError(f"--teacher {request.teacher} with a distillation weight of "
                          f"{request.schedule.distill_weight}: the teacher would not be used; give "
                          f"the schedule a --distill-weight above 0")
    device = get_device(request.device) if request.device else None
    budget = parse_budget(request.budget)
    scale = request.scale or (device.scale if device else 4)
    if request.input:
        lr_hw = parse_input(request.input)
    else:
        lr_hw = tuple(device.lr_input_hw) if device else hd_lr_hw(scale)
    name = device.name if device else "no-device"
    schedule = request.schedule
    check_patch_size(schedule.patch_size, scale)
    check_patch_size(request.finetune_patch_size, scale, "--finetune-patch-size")
    runtime = resolve_runtime(device, request.runtime)
    space = SearchSpace(nf=request.nf, num_cells=request.num_cells, scale=scale)
    check_memory(lr_hw, scale, request.nf)
    pairs = load_pairs(request.data, "train", scale,
                       min_size=max(schedule.patch_size, request.finetune_patch_size))
    if len(pairs) < 2:
        raise DataError("the search needs at least 2 training images (weights and architecture "
                        f"halves); {request.data or 'the built-in photos'} has {len(pairs)}")
    out = check_output_dir(Path(request.out or Path("runs") / "search" / f"{name}-{budget.slug}"))
    earlier = existing_run(out)
    if earlier and not (request.resume or request.force):
        raise SearchError(f"{out} holds an earlier run ({', '.join(earlier[:4])}"
                          f"{' …' if len(earlier) > 4 else ''}): add --resume to continue it "
                          f"or --force to start over")
    if device is not None and device.method == "tvm-local":  # timed here: check before any work
        from devices.quiet_timing import check_timing_settings

        check_timing_settings()
    predictor = _host_predictor(request, device, runtime, budget, space, lr_hw)
    start = out / START_NETWORKS
    costs = search_costs(device, budget, space, lr_hw, predictor, request.force_predictor,
                         runtime, request.network_profile,
                         start if request.resume and not request.force and start.is_file() else None)
    table = costs.table
    if costs.network_profile is not None and not request.network_profile and not request.dry_run:
        check_cache_dir(costs.network_profile.parent.relative_to(cache_root()))  # appended to
    low, high = cost_range(space, table, lr_hw)
    if not (0 < low <= high < float("inf")):
        raise SearchError(f"the {table.provenance} costs of this space span {low:.3g} … "
                          f"{high:.3g} {table.unit}, not a positive finite range: check the "
                          f"predictor ({table.source})")
    if budget.value < low:
        raise SearchError(f"budget {budget} is below the cheapest network of this space on "
                          f"{name} at {lr_hw[0]}x{lr_hw[1]} LR: {low:.3g} {table.unit} "
                          f"({table.provenance}); raise the budget or shrink --input")
    settings = _run_settings(request, name, budget, scale, lr_hw, runtime, costs)
    if request.resume and not request.force:
        _check_resumable(out, settings)
    if device is not None and "hub_device" in device.predictor.get("assumes", {}):
        _note_hub_predictor(name, tuple(device.lr_input_hw), lr_hw)
    teacher = load_teacher(request.teacher, scale)[0] if request.teacher else None
    return SearchPlan(request, device, budget, scale, lr_hw, runtime, space,
                      costs.predictor_table, table, costs.network_profile, costs.measured, low, high,
                      feasible_nodes(space, table, lr_hw, budget.value), out, settings, teacher)


def _note_hub_predictor(name: str, checked_hw: tuple[int, int], lr_hw: tuple[int, int]) -> None:
    """Say on stderr what an AI Hub NPU's predicted costs rest on (docs/accelerators.md)."""
    where = (f"; at {lr_hw[0]}x{lr_hw[1]} its costs are extrapolated, and networks of larger "
             f"feature maps ran slower than it predicted" if lr_hw != checked_hw else "")
    print(f"note: {name}'s predictor is fitted on AI Hub's whole-model times of other CNNs and "
          f"checked on the zoo's SR networks at {checked_hw[0]}x{checked_hw[1]} LR; CNNs of "
          f"families it never saw were mostly outside ±20 %{where} (docs/accelerators.md, "
          f"predictor_qaihub.csv part unseen): measure the derived network on the device",
          file=sys.stderr)


def _host_predictor(request: SearchRequest, device, runtime: str | None, budget: Budget,
                    space: SearchSpace, lr_hw) -> str | None:
    """The predictor folder the search uses: ``--predictor``, else, where this host must first
    time op instances its own predictor lacks (inputs.host_profile_gap), the predictor
    codesign.search.self_profile fits after timing them (a dry run times nothing and shows the next
    predictor in predictors.store's order instead), else None (predictors.store decides)."""
    gap, own = host_profile_gap(device, runtime, request.predictor, budget,
                                op_instances(space, lr_hw)["key"])
    if not gap:
        return request.predictor
    if request.dry_run:
        fallback = find_predictor(device, None, runtime, skip=own)
        had = f"its predictor lacks {len(gap)} of them" if own else "it has no predictor yet"
        print(f"note: this host has no {runtime} predictor for this space at {lr_hw[0]}x{lr_hw[1]} "
              f"({had}): the search will first time those {len(gap)} op instances here "
              f"(codesign.search.self_profile); below, the costs of "
              f"{fallback or 'that predictor, extrapolated'}", file=sys.stderr)
        return str(fallback) if fallback else None
    check_cache_dir()
    from codesign.search.self_profile import profile_this_host

    return str(profile_this_host(device, runtime, space, lr_hw,
                                 progress=rank_and_world()[0] == 0))


def run(plan: SearchPlan, stop: StopOnSignal | None = None) -> SearchResult | None:
    """Search, derive, fine-tune, export, measure and report in ``plan.out``, holding its lock;
    returns the result (None on a data-parallel helper rank, which only searches). A
    ``--resume`` of a finished run runs nothing and returns its report. ``stop`` (installed by
    the caller) turns SIGINT/SIGTERM into a checkpoint at the next search step."""
    request, out, settings = plan.request, plan.out, plan.settings
    if request.dry_run:
        raise SearchError("a --dry-run plan is only printed, not run")
    if rank_and_world()[0] != 0:  # data-parallel helper rank (torchrun): the search only
        out.mkdir(parents=True, exist_ok=True)
        search(plan.space, request.schedule, out_dir=out, data=request.data,
               resume=request.resume, penalty=plan.penalty_hook(), device=request.torch_device,
               progress=False, feasible_nodes=plan.feasible, stop=stop)
        return None
    with exclusive_lock(out / ".lock", f"output folder {out}"):
        earlier = existing_run(out)  # again, under the lock
        if earlier and not (request.resume or request.force):
            raise SearchError(f"{out} holds an earlier run: add --resume to continue it or "
                              f"--force to start over")
        if request.force:
            clear_run(out)
        elif request.resume and _check_resumable(out, settings):
            print(f"{out} holds this search, finished: its report is the result (nothing was "
                  f"run; --force starts it over)", file=sys.stderr)
            return SearchResult(pd.read_csv(out / "report.csv"), out)
        stale = remove_stale_temporaries(out)
        write_run(out, settings, "running")
        if plan.network_profile is not None and not (out / START_NETWORKS).is_file():
            write_csv_atomic(plan.measured, out / START_NETWORKS)
        try:
            with threads_restored():
                report = _search_locked(plan, stale, stop)
        except KeyboardInterrupt as exc:  # Interrupted (SIGINT/SIGTERM) or fine-tuning's own
            write_run(out, settings, "interrupted" if isinstance(exc, Interrupted) else "failed")
            raise SearchInterrupted(out, getattr(exc, "signum", signal.SIGINT),
                                    exc.step if isinstance(exc, Interrupted) else None) from exc
        except BaseException:
            write_run(out, settings, "failed")
            raise
        write_run(out, settings, "complete")
    return SearchResult(report, out)


def _run_settings(request: SearchRequest, name: str, budget: Budget, scale: int, lr_hw,
                  runtime: str | None, costs) -> dict:
    """Every setting that decides the result, keyed by its option: a resume must match them
    (``costs``: the re-fit of the predictor's costs on the networks measured before the run;
    ``--predictor``: the digest of its costs, not its folder, so that a run resumes from
    another checkout or after the predictor moved, and refuses when it was re-trained)."""
    schedule, table = request.schedule, costs.predictor_table
    refit = (f"x {costs.factor:.6g} on {len(costs.measured)} measured network(s)"
             if costs.network_profile is not None else None)
    return {"costs": refit, "--device": name, "--runtime": runtime, "--budget": budget.slug, "--scale": scale,
            "--input": f"{lr_hw[0]}x{lr_hw[1]}",
            "--data": str(resolve_data(request.data).resolve()) if request.data else None,
            "--predictor": (f"{table.provenance} {table.unit} of {len(table.mean)} op instances, "
                            f"sha256 {table.digest()}") if table.provenance != "counted" else None,
            "--penalty": request.penalty, "--strength": request.strength,
            "--strength-step": request.strength_step, "--steps": schedule.steps,
            "--warmup-steps": schedule.warmup_steps, "--finetune-steps": request.finetune_steps,
            "--finetune-batch-size": request.finetune_batch_size,
            "--finetune-patch-size": request.finetune_patch_size, "--finetune-lr": request.finetune_lr,
            "--teacher": request.teacher, "--distill-weight": schedule.distill_weight,
            "--batch-size": schedule.batch_size, "--patch-size": schedule.patch_size,
            "--order-weight": schedule.order_weight, "--nf": request.nf,
            "--num-cells": request.num_cells, "--width-relaxation": schedule.width_relaxation,
            "--no-fit": not request.fit, "--seed": schedule.seed}


def _check_resumable(out: Path, settings: dict) -> bool:
    """Refuse to --resume a run written with other settings (named); True when the run in
    ``out`` is already finished (its report is the result: nothing is run again)."""
    differ = setting_differences(out, settings)
    if differ:
        raise SearchError(f"cannot --resume {out}: it was run with {'; '.join(differ)}; resume "
                          f"with the same settings, or use --force to start over")
    return finished(out)


def _setup_logging(out: Path) -> None:
    log.setLevel(logging.INFO)
    log.handlers.clear()
    for handler in (logging.FileHandler(out / "search.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)


def _search_locked(plan: SearchPlan, stale: list[Path], stop: StopOnSignal | None) -> pd.DataFrame:
    """The search proper, in ``plan.out`` whose lock the caller holds; returns the report."""
    request, out, table, lr_hw, budget = plan.request, plan.out, plan.table, plan.lr_hw, plan.budget
    _setup_logging(out)
    unit = table.unit
    log.info("device %s, LR input %dx%d, x%d, budget %s", plan.name, *lr_hw, plan.scale, budget)
    log.info("costs: %s %s from %s; space spans %.3g … %.3g %s",
             table.provenance, unit, table.source, plan.low, plan.high, unit)
    if request.force:
        log.info("--force: cleared the earlier run in %s", out)
    if stale:
        log.info("removed %d temporary file(s) a killed run left: %s", len(stale),
                 ", ".join(p.name for p in stale))
    if request.resume and (out / CHECKPOINT).exists():
        log.info("resuming from %s", out / CHECKPOINT)
    elif request.resume:
        log.info("--resume: no search checkpoint in %s yet; starting the search", out)
    if plan.above:
        log.info("budget %s is above the dearest network of the space (%.3g %s): every network "
                 "meets it; the derived network will be at most the largest, below %s",
                 budget, plan.high, unit, BAND_TEXT)
    log.info("%d of %d output nodes can meet the budget; the others are excluded",
             sum(plan.feasible), len(plan.feasible))
    genotype, net, summary = search_and_train(
        plan.space, request.schedule, out_dir=out, data=request.data,
        finetune_steps=request.finetune_steps, finetune_batch_size=request.finetune_batch_size,
        finetune_patch_size=request.finetune_patch_size, finetune_lr=request.finetune_lr,
        teacher=plan.teacher, teacher_name=request.teacher or "", penalty=plan.penalty_hook(),
        resume=request.resume, device=request.torch_device, feasible_nodes=plan.feasible,
        fit=partial(fit_in_aim, table=table, lr_hw=lr_hw, budget=budget.value,
                    aim=aim_band(budget))
        if request.fit else None, stop=stop)
    argmax = summary["argmax_genotype"]
    if argmax != genotype:
        cost = table.network_cost(genotype.op_keys(lr_hw))[0]
        aim = aim_band(budget)
        where = (f"the least-regret network at {cost:.3g} {unit}" if cost >= BAND[0] * budget.value
                 else f"instead the costliest network under the budget ({cost:.3g} {unit}): no "
                      f"network of the space lies inside the band")
        log.info("the argmax network (%s %.3g %s) was outside the aim [%g, %g] x budget "
                 "(an aim inside the band %s); derived %s (codesign.search.budget_fit)", table.provenance,
                 table.network_cost(argmax.op_keys(lr_hw))[0], unit, *aim, BAND_TEXT, where)
    options = plan.report_options()
    timing = {"train_device": describe(default_device(request.torch_device)),
              "search_finetune_wall_s": round(summary["search_s"] + summary["train_s"], 1)}
    def recorded(report_csv: Path, genotype) -> dict | None:  # a resumed loop keeps its timings
        return recorded_measurement(report_csv, genotype) if request.resume else None

    report = write_outputs(out, genotype, net, table, options, argmax, timing,
                           write_report=plan.network_profile is None,
                           measured=recorded(out / FIRST_ROUND, genotype))
    if plan.network_profile is not None:
        write_csv_atomic(report, out / FIRST_ROUND)

        def evaluate_round(genotype, net, refit, round_dir):
            return write_outputs(round_dir, genotype, net, refit, options, plot=False,
                                 timing={"train_device": timing["train_device"]},
                                 measured=recorded(round_dir / "report.csv", genotype)
                                 ).iloc[0].to_dict()

        schedule = request.schedule
        finetune = {"data": request.data, "scale": plan.scale, "steps": request.finetune_steps,
                    "batch_size": request.finetune_batch_size, "lr": request.finetune_lr,
                    "teacher": plan.teacher, "distill_weight": schedule.distill_weight,
                    "teacher_name": request.teacher or "",
                    "patch_size": request.finetune_patch_size,
                    "resume": request.resume, "device": request.torch_device,
                    "seed": schedule.seed}
        report = run_rounds(report.iloc[0], out=out, space=plan.space,
                            table=plan.predictor_table, lr_hw=lr_hw, budget=budget.value,
                            rounds=request.rounds, finetune=finetune,
                            evaluate_round=evaluate_round, profile_path=plan.network_profile,
                            device=plan.device.name, measured_before=plan.measured)
        write_csv_atomic(report, out / "report.csv")
    (out / CHECKPOINT).unlink(missing_ok=True)
    log.info("outputs written; deleted the search checkpoint (a finished run is not resumable: "
             "--force starts it over)")
    return report
