"""MetaSchedule tuning of fused tasks into a JSON database directory that later runs reuse.

Re-profiling is incremental: a task whose workload already has the records its level asks for
(or was tuned at that level before) is not tuned again (TuningSettings: at least `trials` per task,
more for the tasks that hold the FLOPs, then for those that hold the measured time). A task whose design space
holds fewer distinct schedules than `trials` (a pixel-shuffle reshape has one) can never reach
`trials` records, so the trials already spent on each workload are kept in `attempted.json`
beside the database and such a task is not tuned again either. After compilation,
`database_hits` counts the fused PrimFuncs that MetaScheduleApplyDatabase really replaced (a
tuned build as slow as the untuned one would mean the records were not applied).
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from codesign_common.atomic import write_text_atomic
from devices.tvm_compile.env import (
    intrinsic_family,
    load_cpu_tensor_intrinsics,
    prepare_cpu_tuning,
)

log = logging.getLogger(__name__)
META_SCHEDULE_LOGGER = "tvm.s_tir.meta_schedule"


@contextmanager
def handlers_set_aside(logger_name: str = META_SCHEDULE_LOGGER):
    """Detach the handlers on MetaSchedule's logger while it tunes, then put them back.

    MetaSchedule's ``create_loggers`` lists every handler on that logger by ``get_name()`` and
    re-configures the logger with ``logging.config.dictConfig``: an unnamed handler (pytest 9's,
    or one a user's application adds) makes it crash with ``'NoneType' object has no attribute
    'format'``, and a named one it did not create fails dictConfig. Tuning must not depend on
    what the caller attached, and the caller's handlers must survive it."""
    logger = logging.getLogger(logger_name)
    saved = list(logger.handlers)
    for handler in saved:
        logger.removeHandler(handler)
    try:
        yield
    finally:
        for handler in saved:
            if handler not in logger.handlers:
                logger.addHandler(handler)


@dataclass(frozen=True)
class TuningSettings:
    """Trial budget and the MetaSchedule builder/runner knobs (seconds).

    Every task is tuned with at least `trials` trials; the task holding the most FLOPs (times
    its occurrences) gets `dominant_share` x `trials`, and every other task that much times its
    FLOPs relative to that task's, rounded up to whole batches of `trials_per_iter`
    (`trial_targets`); then the same again with measured latency in place of FLOPs (TRIAL_RULE). Builds run on `max_workers` processes
    (default: every CPU); MetaSchedule's LocalRunner times each candidate only after the build
    batch, never beside it. `population` is the evolutionary search's population per round
    (MetaSchedule's default, 512; a small one only makes tiny test builds quicker)."""

    trials: int = 64
    trials_per_iter: int = 32
    dominant_share: float = 4.0
    population: int = 512
    builder_timeout_s: float = 120.0
    runner_timeout_s: float = 60.0
    max_workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    seed: int = 0


@contextmanager
def database_lock(work_dir: str | os.PathLike):
    """Hold `work_dir`'s tuning database for this process (an exclusive flock on `.lock`).

    MetaSchedule's JSON database is not safe across processes: each keeps its own workload
    numbering and appends to the same files, so a profile and a search tuning into one
    directory at once wrote records that point at another process's workloads (seen here: the
    database then no longer loaded). Tuning and compiling with the database take this lock."""
    Path(work_dir).mkdir(parents=True, exist_ok=True)
    with open(Path(work_dir) / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_OPEN: dict[str, tuple[tuple, object]] = {}


def _files_stamp(work_dir) -> tuple:
    """(size, mtime) of the database's two files: changes whenever anyone appends to them."""
    files = [Path(work_dir) / n for n in ("database_workload.json", "database_tuning_record.json")]
    return tuple((f.stat().st_size, f.stat().st_mtime_ns) if f.exists() else None for f in files)


def open_database(work_dir: str | os.PathLike):
    """The JSON database (workloads + tuning records) in `work_dir`, created when absent; a
    database that does not load is salvaged first (see `salvage_database`).

    Parsing it takes 8-11 s here once it holds a few hundred workloads, so the loaded object is
    kept per directory and reused while the files are as this process last saw them (call
    `remember_database` after writing through it, under `database_lock`)."""
    from tvm.s_tir import meta_schedule as ms

    Path(work_dir).mkdir(parents=True, exist_ok=True)
    key = str(Path(work_dir).resolve())
    cached = _OPEN.get(key)
    if cached and cached[0] == _files_stamp(work_dir):
        return cached[1]
    try:
        database = ms.database.JSONDatabase(work_dir=str(work_dir), module_equality="structural")
    except RuntimeError:
        salvage_database(work_dir)
        database = ms.database.JSONDatabase(work_dir=str(work_dir), module_equality="structural")
    remember_database(work_dir, database)
    return database


def remember_database(work_dir, database) -> None:
    """Mark `database` as up to date with `work_dir`'s files as they are now."""
    _OPEN[str(Path(work_dir).resolve())] = (_files_stamp(work_dir), database)


def salvage_database(work_dir: str | os.PathLike) -> int:
    """Keep only the tuning records that load against their workload; the original record file
    is kept as `database_tuning_record.json.corrupt`. Returns the number of records dropped."""
    from tvm.s_tir import meta_schedule as ms

    work_dir = Path(work_dir)
    records = work_dir / "database_tuning_record.json"
    lines = records.read_text().splitlines(keepends=True)
    kept = []
    with tempfile.TemporaryDirectory() as probe:
        shutil.copy(work_dir / "database_workload.json", probe)
        for line in lines:
            Path(probe, records.name).write_text(line)
            try:
                ms.database.JSONDatabase(work_dir=probe, module_equality="structural")
            except RuntimeError:
                continue
            kept.append(line)
    if lines and not kept:
        raise RuntimeError(f"no tuning record in {work_dir} loads: are the target's tensor "
                           "intrinsics registered (devices.tvm_compile.env.prepare_cpu_tuning)?")
    shutil.copy(records, records.with_name(records.name + ".corrupt"))
    write_text_atomic(records, "".join(kept))
    log.warning("tuning database %s did not load: kept %d of %d records (the rest pointed at "
                "the wrong workloads)", work_dir, len(kept), len(lines))
    return len(lines) - len(kept)


def records_for(database, task) -> int:
    """Number of valid tuning records the database holds for an extracted task."""
    mod = task.dispatched[0]
    if not database.has_workload(mod):
        return 0
    return len(database.get_top_k(database.commit_workload(mod), 1 << 20))


ATTEMPTS_FILE = "attempted.json"  # trials spent per workload, beside the database


def _attempts_path(work_dir) -> Path:
    return Path(work_dir) / ATTEMPTS_FILE


def read_attempts(work_dir) -> dict[str, int]:
    """Trials spent so far per workload (structural hash as text) in `work_dir`."""
    path = _attempts_path(work_dir)
    return json.loads(path.read_text()) if path.exists() else {}


def record_attempts(work_dir, spent: dict[str, int]) -> None:
    """Raise the trials recorded as spent on each workload in `work_dir` to at least `spent`'s."""
    attempts = read_attempts(work_dir)
    for workload, trials in spent.items():
        attempts[workload] = max(attempts.get(workload, 0), trials)
    write_text_atomic(_attempts_path(work_dir), json.dumps(attempts, indent=0, sort_keys=True))


def workload_id(task) -> str:
    """Structural hash of an extracted task's PrimFunc (what the database keys records by)."""
    import tvm_ffi

    return str(tvm_ffi.structural_hash(task.dispatched[0]))


def _worker_init(target):
    """Initializer of MetaSchedule's popen workers: the target's CPU intrinsics only."""
    return partial(load_cpu_tensor_intrinsics, intrinsic_family(target)) if target.kind.name == "llvm" else None


def builder(settings: TuningSettings, target, export_cc: str | None):
    from tvm.s_tir import meta_schedule as ms

    from devices.tvm_compile import cross_compile

    f_export = partial(cross_compile.export_artifact, cc=export_cc) if export_cc else None
    return ms.builder.LocalBuilder(max_workers=settings.max_workers,
                                   timeout_sec=settings.builder_timeout_s,
                                   initializer=_worker_init(target), f_export=f_export)


def local_runner(settings: TuningSettings, target):
    """MetaSchedule runner timing candidates on this machine."""
    from tvm.s_tir import meta_schedule as ms

    return ms.runner.LocalRunner(timeout_sec=settings.runner_timeout_s,
                                 evaluator_config=ms.runner.EvaluatorConfig(number=3, repeat=1, min_repeat_ms=50),
                                 initializer=_worker_init(target))


def task_flops(task) -> float:
    """FLOPs of one call of an extracted task's PrimFunc (TVM's estimate_tir_flops)."""
    from tvm.s_tir.analysis import estimate_tir_flops

    return float(estimate_tir_flops(task.dispatched[0]))


TRIAL_RULE = "flops+latency"
"""Name of the rule `tune_tasks` spends trials by (rows record it, so rows tuned by an older rule
are measured again): FLOP targets first, then targets by measured latency share."""


def trial_targets(tasks, settings: TuningSettings, latencies_s=None) -> list[int]:
    """Trials each task is tuned to (see TuningSettings): MetaSchedule's gradient scheduler
    cannot do this itself at small budgets, because its warm-up round gives every task one
    batch of `trials_per_iter` first and a budget of `trials` per task is then spent.

    A task's work is its FLOPs x occurrences, or, given `latencies_s` (best measured seconds per
    call, None where unknown), its measured seconds x occurrences: its share of the network's time."""
    quantum = max(1, min(settings.trials_per_iter, settings.trials))
    if latencies_s is None:
        work = [task_flops(t) * int(t.weight) for t in tasks]
    else:
        work = [(s or 0.0) * int(t.weight) for t, s in zip(tasks, latencies_s)]
    largest = max(work, default=0.0) or 1.0
    cap = max(settings.trials, int(settings.dominant_share * settings.trials))
    targets = []
    for relative in (w / largest for w in work):
        wanted = -(-cap * relative // quantum) * quantum
        targets.append(int(min(cap, max(settings.trials, wanted))))
    return targets


def best_seconds(database, task) -> float | None:
    """Mean measured seconds of the database's best record for an extracted task (None: no valid record)."""
    mod = task.dispatched[0]
    if not database.has_workload(mod):
        return None
    best = database.get_top_k(database.commit_workload(mod), 1)
    return sum(float(s) for s in best[0].run_secs) / len(best[0].run_secs) if best and best[0].run_secs else None


def tune_tasks(tasks, target, work_dir, settings: TuningSettings, runner, export_cc: str | None = None) -> int:
    """Tune the tasks by TRIAL_RULE: each to its FLOP level in `trial_targets`, then, once every
    task has been timed, each to its level by measured latency share (the few tasks that hold a
    network's time get the most trials, as MetaSchedule's gradient scheduler would weight them).
    A task is not tuned again where it reached its level before (records, or an earlier
    session's level in attempted.json); returns the trials spent now."""
    prepare_cpu_tuning(target)
    database = open_database(work_dir)
    spent = _tune_to(tasks, trial_targets(tasks, settings), database, target, work_dir, settings, runner, export_cc)
    latencies = [best_seconds(database, t) for t in tasks]
    spent += _tune_to(tasks, trial_targets(tasks, settings, latencies), database, target, work_dir, settings,
                      runner, export_cc)
    remember_database(work_dir, database)  # records_for and tuning wrote through this object
    return spent


def _tune_to(tasks, targets, database, target, work_dir, settings: TuningSettings, runner, export_cc) -> int:
    """Tune each task up to its level in `targets` (records or attempted.json count as reached)."""
    from tvm.s_tir import meta_schedule as ms

    attempts = read_attempts(work_dir)
    by_missing: dict[int, list] = {}
    levels: dict[str, int] = {}
    # tasks missing the same number of trials tune in one session: worker pools start once each
    for task, level in zip(tasks, targets):
        spent = max(records_for(database, task), attempts.get(workload_id(task), 0))
        if level - spent > 0:
            by_missing.setdefault(level - spent, []).append(task)
            levels[workload_id(task)] = level
    for missing, group in sorted(by_missing.items()):
        with handlers_set_aside():  # both calls (re)create MetaSchedule's loggers
            contexts, weights = ms.relax_integration.extracted_tasks_to_tune_contexts(
                group, str(work_dir), num_threads=settings.max_workers, seed=settings.seed,
                strategy=ms.search_strategy.EvolutionarySearch(population_size=settings.population))
            ms.tune_tasks(tasks=contexts, task_weights=weights, work_dir=str(work_dir),
                          max_trials_global=missing * len(group), max_trials_per_task=missing,
                          num_trials_per_iter=min(settings.trials_per_iter, missing),
                          builder=builder(settings, target, export_cc), runner=runner,
                          database=database)
        record_attempts(work_dir, {workload_id(t): levels[workload_id(t)] for t in group})
    return sum(missing * len(group) for missing, group in by_missing.items())


def database_hits(fused_mod, target, database) -> tuple[int, int]:
    """(PrimFuncs replaced by tuned records, PrimFuncs) when the database is applied to a fused module."""
    import tvm
    from tvm import relax, tirx

    with target, database, tvm.transform.PassContext(opt_level=3):
        applied = relax.transform.MetaScheduleApplyDatabase()(fused_mod)
    funcs = [f for _, f in applied.functions.items() if isinstance(f, tirx.PrimFunc)]
    hits = sum(bool(f.attrs and f.attrs.get("tirx.is_scheduled", False)) for f in funcs)
    return hits, len(funcs)


def compile_tuned(mod, target, work_dir):
    """Relax executable of `mod` with the database's best schedules applied (compile_relax,
    which applies MetaScheduleApplyDatabase after FuseOps/FuseTIR)."""
    from tvm.s_tir import meta_schedule as ms

    prepare_cpu_tuning(target)
    return ms.relax_integration.compile_relax(open_database(work_dir), mod, target, None)


def compile_untuned(mod, target):
    """Relax executable with TVM's default (untuned) schedules; label its timings `untuned`.
    For CUDA targets TVM's default pipeline schedules every fused task with DLight."""
    import tvm

    return tvm.compile(mod, target=target)
