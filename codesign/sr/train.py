"""Train an SR network with L1 loss and Adam; atomic checkpoints and exact resume.

    python -m codesign.train --arch NAME --scale 4 [--schedule demo|cpu|gpu] [--data DIR|SET] --out DIR [--steps N]
                             [--resume | --force] [--torch-device cpu|cuda|…]

``DIR/checkpoint.pt`` holds the network (name, scale, kwargs, weights), optimizer, LR schedule,
step and torch RNG state; ``--resume`` continues from it exactly (the batch of step t is fixed
by the seed, see codesign.sr.data.patches), and only with the settings it was started with:
a different --steps, --lr, --batch-size, --patch-size, --seed, --arch or --scale is refused,
naming the setting (--steps fixes the LR schedule, so it cannot be raised on resume either).
``DIR/train_log.csv`` logs loss and validation PSNR.

A checkpoint is written every --checkpoint-every steps and every --checkpoint-seconds of wall
time, and at the end. SIGINT (Ctrl-C) or SIGTERM checkpoints the last finished step and exits
with 128 + the signal number, printing the command that resumes; a second signal stops at once
(the previous checkpoint stays intact). A run killed outright (SIGKILL) resumes from its last
checkpoint; temporary files a kill during a write left behind are removed on the next start.
An output folder is used by one run at a time (lock file DIR/.lock); a folder that already
holds a checkpoint is refused unless --resume (continue) or --force (start over) is given.

The same --seed gives bit-identical weights on CPU (the network is built after seeding).
List the network names with ``python -m codesign.models``.
"""
from __future__ import annotations

import argparse
import math
import shlex
import signal
import sys
import threading
import time
import warnings
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import torch
from tqdm import tqdm

from codesign.sr.checkpoint import (
    CheckpointError,
    load,
    save_atomic,
    stale_temporaries,
    state_dict_mismatch,
)
from codesign.sr.data import DataError, SRPatchDataset, load_pairs, make_train_loader
from codesign.sr.device import (
    add_device_flags,
    check_torch_device,
    default_device,
    keep_threads,
    refuse_retired_device,
    threads_restored,
)
from codesign.sr.evaluate import evaluate_model, load_eval_pairs, model_min_lr_side
from codesign.sr.models.weights import WeightsError
from codesign.sr.schedules import SCHEDULES
from codesign.sr.teacher import distilled_l1, load_teacher, taught_pairs
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import (
    Parser,
    UsageError,
    check_output_dir,
    cli_main,
    nonnegative_int,
    one_line_warnings,
    positive_float,
    positive_int,
)
from codesign_common.locks import LockBusy, exclusive_lock

CHECKPOINT = "checkpoint.pt"
LOG = "train_log.csv"
LOCK = ".lock"
#: Settings a resumed run must share with its checkpoint, and the CLI flag naming each.
RESUME_SETTINGS = {"arch": "--arch", "scale": "--scale", "steps": "--steps", "lr": "--lr",
                   "batch_size": "--batch-size", "patch_size": "--patch-size",
                   "seed": "--seed", "model_kwargs": "the network options (model_kwargs)",
                   "teacher": "--teacher", "distill_weight": "--distill-weight"}
CHECKPOINT_KEYS = ("model", "optimizer", "scheduler", "step", "torch_rng")


class TrainingInterrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM stopped training after ``step``; the checkpoint holds that step."""

    def __init__(self, step: int, signum: int, checkpoint: Path):
        super().__init__(f"interrupted by {signal.Signals(signum).name} at step {step}")
        self.step, self.signum, self.checkpoint = step, signum, checkpoint


def cosine_lr(step: int, steps: int, warmup: int = 0, floor: float = 0.01) -> float:
    """LR multiplier: linear warm-up, then cosine decay from 1 to ``floor`` at ``steps``."""
    if step < warmup:
        return (step + 1) / warmup
    t = (step - warmup) / max(steps - warmup, 1)
    return floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(t, 1.0)))


def _state(model, optimizer, scheduler, step, meta) -> dict:
    return {**meta, "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "step": step,
            "torch_rng": torch.get_rng_state()}


def _flag(key: str, value) -> str:
    flag = RESUME_SETTINGS[key]
    if value == "":
        return f"no {flag}"
    return f"{flag} {value}" if flag.startswith("--") else f"{flag} {value!r}"


def check_resume_settings(ckpt: dict, meta: dict, ckpt_path) -> None:
    """Refuse (UsageError, one line) a resume whose settings differ from the checkpoint's."""
    for key in RESUME_SETTINGS:
        if key not in ckpt:  # older checkpoints lack some settings
            continue
        if ckpt[key] != meta[key]:
            raise UsageError(
                f"cannot resume {ckpt_path}: it was started with {_flag(key, ckpt[key])}, this "
                f"run asks for {_flag(key, meta[key])}; a resumed run keeps every setting "
                f"(give the checkpoint's, or --force to start over)")


def _refuse_existing(ckpt_path: Path) -> None:
    raise UsageError(f"{ckpt_path.parent} already holds a training checkpoint "
                     f"({ckpt_path.name}); add --resume to continue it or --force to start over")


class _StopSignals:
    """While active, SIGINT/SIGTERM set ``signum`` (training stops at the end of the step); a
    second one raises KeyboardInterrupt at once. Only in the main thread (Python's rule).
    :meth:`forward` then passes the signal to the handler that was there before, when a caller
    (e.g. codesign.search around its fine-tuning) installed one of its own."""

    def __init__(self):
        self.signum, self._previous = None, {}

    def _handler(self, signum, frame):
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)

    def forward(self) -> None:
        """Call the caller's own handler for the recorded signal (it may raise its own
        exception); Python's default SIGINT handler and SIG_DFL/SIG_IGN are not called."""
        previous = self._previous.get(self.signum)
        if callable(previous) and previous is not signal.default_int_handler:
            previous(self.signum, None)


def train_model(model: torch.nn.Module, *, data=None, scale: int, steps: int,
                batch_size: int = 16, patch_size: int = 96, lr: float = 5e-4, out_dir,
                resume: bool = False, device=None, seed: int = 0, val_data=None,
                val_every: int = 0, checkpoint_every: int = 200,
                checkpoint_seconds: float | None = 60.0, arch: str | None = None,
                model_kwargs: dict | None = None, progress: bool = True,
                stop_at: int | None = None, if_exists: str = "overwrite",
                teacher: torch.nn.Module | None = None, distill_weight: float = 1.0,
                teacher_name: str = "") -> dict:
    """Train ``model`` for ``steps`` steps of ``batch_size`` HR patches of ``patch_size`` px.

    The data is read and checked before ``out_dir`` is touched; ``out_dir`` is then locked
    (``out_dir/.lock``: a second run into it raises LockBusy) and temporary files a killed
    checkpoint write left there are removed. ``resume`` continues from ``out_dir/checkpoint.pt``
    if present (its settings must equal these: UsageError naming the one that differs). Without
    ``resume`` an existing checkpoint is overwritten (``if_exists="overwrite"``) or refused
    (``"refuse"``: UsageError naming --resume and --force).

    A checkpoint is written every ``checkpoint_every`` steps, every ``checkpoint_seconds`` of
    wall time (None: never by time) and at the end. SIGINT/SIGTERM (main thread only) stop after
    the current step with a checkpoint and raise :class:`TrainingInterrupted`, after calling
    the SIGINT/SIGTERM handler the caller had installed, if any (it may raise its own exception).
    ``stop_at`` ends the run early at that step with a checkpoint, as an interruption would
    (the LR schedule still spans ``steps``); ``resume=True`` then continues it.

    With a ``teacher`` (codesign.sr.teacher, frozen) the loss is L1(out, HR) +
    ``distill_weight`` · L1(out, T), T the teacher's output on the whole LR training image, made
    once before the first step (codesign.sr.teacher.taught_pairs); ``teacher_name`` is recorded
    with the settings, so a resume with another teacher is refused.

    Returns a summary: steps done, start step, last loss, final validation PSNR (dB) if
    validated, wall time of this call (s), wall time of all the training up to the last step
    over every resume (``train_s``, s; also in the log's every row), the torch thread count it
    ran on (``torch_threads``: recorded in the checkpoint and kept by a resume, which sets it
    before any arithmetic, as a CPU's float sums depend on it; None for a run begun before the
    record), checkpoint path.
    """
    if if_exists not in ("overwrite", "refuse"):
        raise ValueError(f"if_exists must be 'overwrite' or 'refuse', got {if_exists!r}")
    out_dir = Path(out_dir)
    ckpt_path, log_path = out_dir / CHECKPOINT, out_dir / LOG
    if not resume and if_exists == "refuse" and ckpt_path.exists():
        _refuse_existing(ckpt_path)  # early, before reading the data; checked again under the lock
    device = default_device(device) if not isinstance(device, torch.device) else device
    with threads_restored():  # a resume sets its own thread count for this run only
        # before any arithmetic: a resumed run continues on the thread count it was written with
        threads = (_resumed_threads(ckpt_path) if resume and ckpt_path.exists()
                   else torch.get_num_threads())
        # Data first: a bad data folder must fail before anything is written.
        pairs = load_pairs(data, "train", scale, min_size=patch_size)
        if teacher is not None and distill_weight > 0:
            pairs = taught_pairs(pairs, teacher.to(device), device)
        dataset = SRPatchDataset(pairs, scale, patch_size, seed=seed)
        val_pairs = None
        if val_every:
            val_pairs = load_eval_pairs(val_data, scale, arch)
        created = not out_dir.exists()
        out_dir.mkdir(parents=True, exist_ok=True)
        try:
            with exclusive_lock(out_dir / LOCK, f"output folder {out_dir}"):
                for tmp in stale_temporaries(out_dir, CHECKPOINT, LOG):
                    tmp.unlink(missing_ok=True)
                return _train_locked(model, dataset, val_pairs, device=device, scale=scale,
                                     steps=steps, batch_size=batch_size, patch_size=patch_size,
                                     lr=lr, resume=resume, seed=seed, val_every=val_every,
                                     checkpoint_every=checkpoint_every,
                                     checkpoint_seconds=checkpoint_seconds, arch=arch,
                                     model_kwargs=model_kwargs, progress=progress, stop_at=stop_at,
                                     if_exists=if_exists, ckpt_path=ckpt_path, log_path=log_path,
                                     teacher=teacher, distill_weight=distill_weight,
                                     teacher_name=teacher_name, threads=threads)
        except BaseException:
            if created and {p.name for p in out_dir.iterdir()} <= {LOCK}:
                (out_dir / LOCK).unlink(missing_ok=True)  # leave no empty folder behind
                out_dir.rmdir()
            raise


def _resumed_threads(ckpt_path: Path) -> int | None:
    """The thread count the checkpoint was written with, now this process's (keep_threads)."""
    return keep_threads(load(ckpt_path).get("torch_threads"), ckpt_path)


def _train_locked(model, dataset, val_pairs, *, device, scale, steps, batch_size, patch_size,
                  lr, resume, seed, val_every, checkpoint_every, checkpoint_seconds, arch,
                  model_kwargs, progress, stop_at, if_exists, ckpt_path, log_path, teacher,
                  distill_weight, teacher_name, threads) -> dict:
    torch.manual_seed(seed)
    meta = {"arch": arch, "scale": scale, "model_kwargs": model_kwargs or {}, "steps": steps,
            "batch_size": batch_size, "patch_size": patch_size, "lr": lr, "seed": seed,
            "teacher": teacher_name if teacher is not None else "",
            "distill_weight": distill_weight if teacher is not None else 0.0,
            "torch_threads": threads}
    ckpt = None
    if ckpt_path.exists():
        if not resume and if_exists == "refuse":
            _refuse_existing(ckpt_path)
        if resume:
            ckpt = load(ckpt_path, required=CHECKPOINT_KEYS)
            check_resume_settings(ckpt, meta, ckpt_path)
    model.to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.9, 0.999))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: cosine_lr(s, steps, warmup=min(100, steps // 20)))
    start, log_rows = 0, []
    if ckpt is not None:
        why = state_dict_mismatch(model, ckpt["model"])
        if why is not None:
            raise CheckpointError(f"checkpoint {ckpt_path} does not fit this network: {why}")
        try:
            model.load_state_dict(ckpt["model"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            torch.set_rng_state(ckpt["torch_rng"])
        except (RuntimeError, ValueError, KeyError, TypeError) as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CheckpointError(f"checkpoint {ckpt_path} does not fit this network: "
                                  f"{first}") from None
        start = int(ckpt["step"])
        if log_path.exists():
            log_rows = pd.read_csv(log_path).query("step <= @start").to_dict("records")
    loader = make_train_loader(scale=scale, batch_size=batch_size, seed=seed,
                               steps=min(steps, stop_at or steps), start_step=start,
                               dataset=dataset)

    def checkpoint(step):
        # The log first: a kill between the two writes then leaves a log that reaches at least
        # the checkpoint's step (resume keeps rows <= it), never a checkpoint ahead of its log.
        write_csv_atomic(pd.DataFrame(log_rows), log_path)
        save_atomic(_state(model, optimizer, scheduler, step, meta), ckpt_path)

    t0, step, loss_value, val_psnr = time.time(), start, float("nan"), None
    before_s = _logged_train_s(log_rows) if start else 0.0  # seconds spent before a resume
    last_save = time.monotonic()
    bar = tqdm(total=steps, initial=start, desc=f"train {arch or type(model).__name__}",
               disable=not progress)
    model.train()
    with _StopSignals() as stop:
        try:
            for lr_batch, hr_batch, *taught in loader:
                if stop.signum is not None:
                    break
                lr_batch, hr_batch = lr_batch.to(device), hr_batch.to(device)
                target = taught[0].to(device) if taught else None
                loss = distilled_l1(model(lr_batch), hr_batch, target, distill_weight)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                scheduler.step()
                step += 1
                loss_value = loss.item()
                row = {"step": step, "loss": loss_value, "lr": scheduler.get_last_lr()[0],
                       "train_s": before_s + time.time() - t0}
                if val_every and (step % val_every == 0 or step == steps):

                    val_psnr = float(evaluate_model(model, val_pairs, scale, device).psnr.mean())
                    row["val_psnr"] = val_psnr
                    model.train()
                log_rows.append(row)
                bar.update(1)
                bar.set_postfix(loss=f"{loss_value:.4f}",
                                **({"psnr": f"{val_psnr:.2f}"} if val_psnr else {}))
                due = checkpoint_seconds is not None and \
                    time.monotonic() - last_save >= checkpoint_seconds
                if step % checkpoint_every == 0 or due:
                    checkpoint(step)
                    last_save = time.monotonic()
            bar.close()
            checkpoint(step)
        finally:
            bar.close()
    if stop.signum is not None:
        stop.forward()
        raise TrainingInterrupted(step, stop.signum, ckpt_path)
    return {"steps": step, "start_step": start, "loss": loss_value, "val_psnr": val_psnr,
            "wall_s": time.time() - t0, "train_s": _logged_train_s(log_rows),
            "torch_threads": threads, "checkpoint": str(ckpt_path)}


def _logged_train_s(log_rows: list[dict]) -> float:
    """Wall seconds of training up to the last logged step, over every resume (the log's
    cumulative ``train_s``; NaN for no log or one written before that column existed)."""
    last = log_rows[-1].get("train_s") if log_rows else None
    return float(last) if last is not None else float("nan")


def resume_command(argv: list[str]) -> str:
    """The command line that resumes a run started with ``argv`` (--force dropped)."""
    args = [a for a in argv if a != "--force"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join([Path(sys.executable).name, "-m", "codesign.train", *args])


def with_schedule(args: argparse.Namespace) -> argparse.Namespace:
    """``args`` with every schedule flag left out taken from ``--schedule``."""
    schedule = SCHEDULES[args.schedule]
    for key, value in asdict(schedule.train).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    args.data = args.data or schedule.data
    return args


@cli_main(DataError, LockBusy, WeightsError)
def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = Parser(prog="python -m codesign.train", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--arch", required=True,
                        help="network name (list them: python -m codesign.models)")
    parser.add_argument("--scale", type=int, default=4, choices=(2, 3, 4))
    parser.add_argument("--schedule", choices=tuple(SCHEDULES), default="demo",
                        help="named schedule setting --steps, --batch-size, --patch-size, --lr "
                             "and --data (codesign.sr.schedules; flags given win): "
                             + "; ".join(f"{k}: {s.about}" for k, s in SCHEDULES.items()))
    parser.add_argument("--data", default=None,
                        help="HR training folder or set name (default: the schedule's)")
    parser.add_argument("--val-data", default=None, help="validation folder (default: built-in)")
    parser.add_argument("--out", required=True, help="output folder")
    parser.add_argument("--steps", type=positive_int,
                        help="training steps; fixes the LR schedule (cannot change on --resume)")
    parser.add_argument("--batch-size", type=positive_int)
    parser.add_argument("--patch-size", type=positive_int,
                        help="HR patch side (px), a multiple of --scale")
    parser.add_argument("--lr", type=positive_float, help="Adam learning rate before the cosine decay")
    parser.add_argument("--teacher", help="distil from a trained network: ARCH:FILE (the authors' "
                        "weights), a codesign.train checkpoint or a search folder (codesign.sr.teacher)")
    parser.add_argument("--distill-weight", type=positive_float, default=1.0,
                        help="weight w of L1(out, the teacher's output) beside L1(out, HR) (with --teacher)")
    parser.add_argument("--val-every", type=nonnegative_int, default=500,
                        help="validate every N steps (0: never)")
    parser.add_argument("--seed", type=nonnegative_int, default=0)
    parser.add_argument("--checkpoint-every", type=positive_int, default=200, metavar="STEPS",
                        help="checkpoint every N steps (default 200)")
    parser.add_argument("--checkpoint-seconds", type=positive_float, default=60.0,
                        metavar="S", help="and every S seconds of wall time (default 60)")
    add_device_flags(parser)
    again = parser.add_mutually_exclusive_group()
    again.add_argument("--resume", action="store_true",
                       help="continue the checkpoint in --out with the same settings")
    again.add_argument("--force", action="store_true",
                       help="start over, replacing a checkpoint already in --out")
    args = with_schedule(parser.parse_args(argv))
    refuse_retired_device(args)
    device = check_torch_device(args.torch_device)
    if args.patch_size % args.scale:
        raise UsageError(f"--patch-size {args.patch_size} is not a multiple of --scale "
                         f"{args.scale}")

    if args.patch_size < model_min_lr_side(args.arch) * args.scale:
        raise UsageError(f"--patch-size {args.patch_size} is too small for {args.arch}: it needs "
                         f"at least {model_min_lr_side(args.arch) * args.scale} px at "
                         f"x{args.scale}")
    out = check_output_dir(args.out)
    from codesign.sr.models import build_model

    with warnings.catch_warnings():
        warnings.showwarning = one_line_warnings
        torch.manual_seed(args.seed)  # before the network is built: its init depends on it
        try:
            model = build_model(args.arch, args.scale)
        except KeyError as exc:  # UnknownModelError: lists the known names
            raise UsageError(str(exc)) from None
        teacher = load_teacher(args.teacher, args.scale)[0] if args.teacher else None
        try:
            summary = train_model(
                model, data=args.data, scale=args.scale, steps=args.steps,
                teacher=teacher, distill_weight=args.distill_weight, teacher_name=args.teacher or "",
                batch_size=args.batch_size, patch_size=args.patch_size, lr=args.lr,
                out_dir=out, resume=args.resume, device=device, seed=args.seed,
                val_data=args.val_data, val_every=args.val_every, arch=args.arch,
                checkpoint_every=args.checkpoint_every,
                checkpoint_seconds=args.checkpoint_seconds,
                if_exists="overwrite" if args.force else "refuse")
        except TrainingInterrupted as stop:
            print(f"{stop}: checkpoint {stop.checkpoint} holds step {stop.step} of "
                  f"{args.steps}; resume with:\n  {resume_command(argv)}", file=sys.stderr)
            return 128 + stop.signum
    psnr = f", validation PSNR {summary['val_psnr']:.2f} dB" if summary["val_psnr"] else ""
    print(f"trained {args.arch} x{args.scale} for {summary['steps']} steps{psnr} "
          f"-> {summary['checkpoint']}")
    return 0
