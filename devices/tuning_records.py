"""Tuning records that travel: the best MetaSchedule record of every workload, shipped in the
repository per TVM target (as TVM's TopHub shipped AutoTVM logs), seeding a new machine's database.

`devices/tuning_records/<name>/` (or $CODESIGN_TUNING_RECORDS) holds `target.json` (the catalog target dict the records were
tuned for, and the host they were tuned on) and a MetaSchedule JSON database with one record
per workload, gzipped (`database_*.json.gz`: each workload's TIR is tens of kB of JSON, a
thirteenth of that compressed). A tvm-local backend whose own database is empty copies the records shipped for
exactly its target, so the default search space is not re-tuned from scratch on every machine.
The trials each workload was tuned with ship beside them (`attempted.json`), so the machine
tunes only what its budget asks beyond them.

Records shipped for another target (another -mcpu, other cores) are never applied as they are:
MetaSchedule looks records up by workload alone, so they would be used as if made here, with
another machine's timings. Instead `transfer` re-measures them here: for every fused task this
database holds no record of, the best record of each other set of the same kind and triple is
built for this target and timed on this machine, and only what ran is committed, with this
machine's run time (one trial each; tuning then goes on from them as from any measured record).
`transferred.json` beside the database says which sets each workload's candidates came from and
what they measured, so reports can say whose schedule a build runs (`best_sources`).
"""
from __future__ import annotations

import gzip
import json
import logging
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path

from codesign_common.atomic import atomic_path, write_text_atomic
from codesign_common.cli import Parser, UsageError, cli_main
from devices.tvm_compile.tuning import ATTEMPTS_FILE

log = logging.getLogger(__name__)
SHIPPED_DIR = Path(__file__).resolve().parent / "tuning_records"
DATABASE_FILES = ("database_workload.json", "database_tuning_record.json")
SHIPPED_SUFFIX = ".gz"  # a shipped set holds DATABASE_FILES gzipped
TRANSFERRED_FILE = "transferred.json"  # per workload: {set name: mean seconds measured here}


def shipped_root() -> Path:
    """Where shipped record sets are looked up: $CODESIGN_TUNING_RECORDS, else SHIPPED_DIR."""
    return Path(os.environ.get("CODESIGN_TUNING_RECORDS") or SHIPPED_DIR)


def _canonical(target: dict) -> str:
    return json.dumps(target, sort_keys=True)


def shipped(root: Path | None = None) -> list[tuple[Path, dict]]:
    """(directory, its target.json) of every shipped record set under `root` (default: shipped_root())."""
    root = Path(root) if root else shipped_root()
    if not root.is_dir():
        return []
    return [(d, json.loads((d / "target.json").read_text())) for d in sorted(root.iterdir())
            if (d / "target.json").is_file() and all((d / (f + SHIPPED_SUFFIX)).is_file() for f in DATABASE_FILES)]


def _unpack(directory: Path, dest: Path) -> None:
    """Write a shipped set's database files, decompressed, into `dest` (each renamed into place)."""
    for name in DATABASE_FILES:
        with atomic_path(dest / name) as tmp, gzip.open(directory / (name + SHIPPED_SUFFIX), "rb") as src, \
                open(tmp, "wb") as out:
            shutil.copyfileobj(src, out)


def _pack(directory: Path) -> None:
    """Gzip `directory`'s database files in place (mtime 0: the same records give the same bytes)."""
    for name in DATABASE_FILES:
        with open(directory / name, "rb") as src, gzip.GzipFile(directory / (name + SHIPPED_SUFFIX), "wb",
                                                                 mtime=0) as dst:
            shutil.copyfileobj(src, dst)
        (directory / name).unlink()


def has_database(work_dir: Path) -> bool:
    """Whether `work_dir` already holds a database with at least one record."""
    records = Path(work_dir) / DATABASE_FILES[1]
    return records.is_file() and records.stat().st_size > 0


def seed(work_dir: str | os.PathLike, target: dict, root: Path | None = None) -> str:
    """Copy the records shipped for exactly `target` into an empty `work_dir`. Returns where
    the database's records come from: `own` (work_dir had records), `shipped:<name>`, or
    `none` (nothing for this target; a warning names the targets that were shipped)."""
    work_dir = Path(work_dir)
    if has_database(work_dir):
        return "own"
    sets = shipped(root)
    for directory, meta in sets:
        if _canonical(meta["target"]) == _canonical(target):
            work_dir.mkdir(parents=True, exist_ok=True)
            if (directory / ATTEMPTS_FILE).is_file():
                shutil.copyfile(directory / ATTEMPTS_FILE, work_dir / ATTEMPTS_FILE)
            _unpack(directory, work_dir)  # the records last: has_database() is true only once they are whole
            return f"shipped:{directory.name}"
    others = [f"{d.name} ({m['target'].get('mcpu', m['target'].get('kind'))})" for d, m in sets]
    if others:
        log.warning("no tuning records shipped for this target (%s); shipped for %s: their schedules "
                    "are re-measured here as candidates, never applied as they are",
                    target.get("mcpu", target.get("kind")), ", ".join(others))
    return "none"


def _compatible(meta_target: dict, target: dict) -> bool:
    """Whether a set's schedules can be built for `target`: same kind and triple, another target."""
    return (_canonical(meta_target) != _canonical(target) and meta_target.get("kind") == target.get("kind")
            and meta_target.get("mtriple") == target.get("mtriple"))


def read_transferred(work_dir) -> dict[str, dict[str, float]]:
    """Per workload (structural hash as text): {shipped set: mean seconds its record measured here}."""
    path = Path(work_dir) / TRANSFERRED_FILE
    return json.loads(path.read_text()) if path.exists() else {}


def transfer(tasks, work_dir, target: dict, tvm_target, settings, runner, export_cc: str | None = None,
             root: Path | None = None) -> int:
    """Re-measure here the records that other targets' shipped sets (same kind and triple) hold for
    the `tasks` this database has no record of, and commit those that built and ran, with this
    machine's run seconds and `tvm_target`. Returns the records committed."""
    import tvm_ffi
    from tvm.s_tir import Schedule
    from tvm.s_tir import meta_schedule as ms

    from devices.tvm_compile import tuning

    sets = [(d, m) for d, m in shipped(root) if _compatible(m["target"], target)]
    database = tuning.open_database(work_dir)
    missing = [t for t in tasks if not tuning.records_for(database, t)]
    if not sets or not missing:
        return 0
    candidates = []  # (set name, workload IRModule, record)
    with tempfile.TemporaryDirectory() as scratch:
        for directory, _ in sets:  # read copies: looking a workload up may append to the files
            copy = Path(scratch) / directory.name
            copy.mkdir()
            _unpack(directory, copy)
            source = ms.database.JSONDatabase(work_dir=str(copy), module_equality="structural")
            for task in missing:
                mod = task.dispatched[0]
                record = source.query_tuning_record(mod, tvm_target, "main") if source.has_workload(mod) else None
                if record is not None:
                    candidates.append((directory.name, mod, record))
    if not candidates:
        return 0
    scheduled, applied = [], []
    for candidate in candidates:
        sch = Schedule(candidate[1])
        try:
            candidate[2].trace.apply_to_schedule(sch, remove_postproc=False)
        except (RuntimeError, ValueError) as err:  # e.g. a tensor intrinsic this target lacks
            log.info("record of %s does not apply here: %s", candidate[0], str(err).splitlines()[0] if str(err) else err)
            continue
        scheduled.append(sch)
        applied.append(candidate)
    candidates = applied
    built = tuning.builder(settings, tvm_target, export_cc).build(
        [ms.builder.BuilderInput(s.mod, tvm_target) for s in scheduled])
    runnable = [i for i, b in enumerate(built) if b.error_msg is None]
    device_type = "cpu" if tvm_target.kind.name == "llvm" else tvm_target.kind.name  # cuda, opencl, vulkan
    futures = runner.run([ms.runner.RunnerInput(built[i].artifact_path, device_type,
                                                ms.arg_info.ArgInfo.from_entry_func(scheduled[i].mod))
                          for i in runnable])
    measured = read_transferred(work_dir)
    committed = 0
    for i, future in zip(runnable, futures):
        result = future.result()
        shutil.rmtree(Path(built[i].artifact_path).parent, ignore_errors=True)
        if result.error_msg is not None or not result.run_secs:
            continue
        name, mod, record = candidates[i]
        run_secs = [float(s) for s in result.run_secs]
        database.commit_tuning_record(ms.database.TuningRecord(
            record.trace, database.commit_workload(mod), run_secs, tvm_target,
            ms.arg_info.ArgInfo.from_entry_func(scheduled[i].mod)))
        measured.setdefault(str(tvm_ffi.structural_hash(mod)), {})[name] = sum(run_secs) / len(run_secs)
        committed += 1
    tuning.remember_database(work_dir, database)
    tuning.record_attempts(work_dir, {w: len(by_set) for w, by_set in measured.items()})
    write_text_atomic(Path(work_dir) / TRANSFERRED_FILE, json.dumps(measured, indent=1, sort_keys=True))
    log.info("re-measured here %d of %d records shipped for other targets (%s) for %d tasks without records",
             committed, len(candidates), ", ".join(d.name for d, _ in sets), len(missing))
    return committed


def best_sources(tasks, work_dir) -> dict[str, int]:
    """How many of `tasks` run a schedule transferred from each shipped set (their best record
    is the one `transfer` measured here), found on this target (`here`), or without any record
    (`none`: such a task builds untuned)."""
    from devices.tvm_compile import tuning

    database = tuning.open_database(work_dir)
    transferred = read_transferred(work_dir)
    counts: dict[str, int] = {}
    for task in tasks:
        best = tuning.best_seconds(database, task)
        mine = transferred.get(tuning.workload_id(task), {})
        source = "none" if best is None else next(
            (name for name, s in mine.items() if math.isclose(s, best, rel_tol=1e-6)), "here")
        counts[source] = counts.get(source, 0) + 1
    return counts


def export_best(work_dir: str | os.PathLike, dest: str | os.PathLike, target: dict, host: dict) -> int:
    """Write the best record of every workload in `work_dir`'s database to `dest` (a new
    shipped set: database files + target.json naming `target` and `host`), with the trials each
    workload was tuned with (ATTEMPTS_FILE): a machine seeded from the set counts them as spent, so
    it tunes only what its trial budget asks beyond them. Returns records."""
    import tvm_ffi
    from tvm.s_tir import meta_schedule as ms

    from devices.tvm_compile import tuning

    source = tuning.open_database(work_dir)
    dest = Path(dest)
    staging = dest.with_name(dest.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    best = ms.database.JSONDatabase(work_dir=str(staging), module_equality="structural")
    attempts = tuning.read_attempts(work_dir)
    levels: dict[str, int] = {}
    for record in source.get_all_tuning_records():
        workload = record.workload
        key = str(tvm_ffi.structural_hash(workload.mod))
        if key in levels:
            continue
        top = source.get_top_k(workload, 1 << 20)
        if top:
            best.commit_tuning_record(ms.database.TuningRecord(
                top[0].trace, best.commit_workload(workload.mod), top[0].run_secs, top[0].target,
                top[0].args_info))
            levels[key] = max(len(top), attempts.get(key, 0))
    _pack(staging)
    write_text_atomic(staging / ATTEMPTS_FILE, json.dumps(levels, indent=0, sort_keys=True))
    write_text_atomic(staging / "target.json", json.dumps({"target": target, "host": host}, indent=1, sort_keys=True))
    if dest.exists():
        shutil.rmtree(dest)
    staging.rename(dest)
    return len(levels)


def default_name(target: dict) -> str:
    """Folder name of a shipped set: the target's -mcpu (or kind), cores and a hash of the dict."""
    import hashlib

    digest = hashlib.sha1(_canonical(target).encode()).hexdigest()[:8]
    return f"{target.get('mcpu', target.get('kind'))}-{target.get('num-cores', 1)}c-{digest}"


@cli_main()
def main(argv=None) -> int:
    """`python -m devices.tuning_records --device local-cpu`: ship the device's tuning database."""
    from devices import host_identity
    from devices.backends import create
    from devices.catalog import get_device

    parser = Parser(prog="python -m devices.tuning_records",
                    description="Write the best tuning record of every workload in a device's "
                                "MetaSchedule database to devices/tuning_records/<target>/.")
    parser.add_argument("--device", default="local-cpu")
    parser.add_argument("--work-dir", help="database to ship (default: the tvm-local backend's)")
    parser.add_argument("--root", type=Path, help="where record sets are kept (default: $CODESIGN_TUNING_RECORDS, else devices/tuning_records)")
    args = parser.parse_args(argv)
    device = get_device(args.device)
    work_dir = Path(args.work_dir) if args.work_dir else create("tvm-local", device, trials=0).work_dir
    if not has_database(work_dir):
        raise UsageError(f"no tuning records in {work_dir}")
    dest = (args.root or shipped_root()) / default_name(device.target)
    count = export_best(work_dir, dest, device.target, host_identity.fingerprint())
    print(f"{count} records → {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
