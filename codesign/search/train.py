"""Single-phase trilevel search, then derivation and fine-tuning of the standalone network.

Each search step is first-order: one weight step (Adam, grad-norm clip 5) on a batch from one
half of the training images, then one architecture step (Adam, lr 3e-4, betas (0.5, 0.999)) on
a batch from the other half. The sparsestmax radius grows linearly from 0 at the first search
step to 1 at the last, so every distribution ends one-hot and the derived network is the one
the supernet ended on. An optional warm-up trains weights only, at radius 0.

Architecture loss = L1(SR, HR) [+ distillation] + order_weight · order_loss(γ)
[+ penalty(expected_cost_fn, task_loss)], where ``expected_cost_fn(table, lr_hw)`` is the
supernet's differentiable expected cost under the step's distributions (codesign.space.supernet) and
the hook returns the term to add (:class:`PenaltyHook` with codesign.search.penalty's hinge or
multiplicative form); a hook with a ``last_log`` dict has it copied into the step's log row.

``out_dir/search_checkpoint.pt`` (supernet, optimizers, step, RNG) makes a resumed run
identical to an uninterrupted one; it is written every ``checkpoint_every`` steps, at least
every ``checkpoint_every_s`` seconds of wall time, and at the end. A :class:`StopOnSignal`
installed for SIGINT/SIGTERM makes the search stop at the next step boundary with a
checkpoint (:class:`Interrupted`); outside the step loop it raises at once (fine-tuning
checkpoints on KeyboardInterrupt). ``search_log.csv`` logs every step (with its wall time
``step_s``, s). ``search_and_train`` then fine-tunes the derived network under
``out_dir/finetune`` and writes ``genotype.json``.
"""
from __future__ import annotations

import contextlib
import signal
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import torch
import torch.distributed as dist
from torch.utils.data import default_collate
from tqdm import tqdm

from codesign.search.cost_source import CostTable
from codesign.search.penalty import BudgetPenalty
from codesign.space.derive import derive, derive_genotype
from codesign.space.genotype import Genotype, TrilevelNet
from codesign.space.network_tree import NetworkTree
from codesign.space.search_space import SearchSpace
from codesign.space.supernet import Supernet
from codesign.sr.checkpoint import load, save_atomic
from codesign.sr.data import DataError, SRPatchDataset, load_pairs
from codesign.sr.device import default_device, keep_threads
from codesign.sr.teacher import distilled_l1, taught_pairs
from codesign.sr.train import train_model
from codesign_common.atomic import write_csv_atomic

CHECKPOINT = "search_checkpoint.pt"
ExpectedCostFn = Callable[..., torch.Tensor]


@dataclass
class SearchConfig:
    """Schedule and loss weights of the search (steps count search steps after the warm-up)."""

    steps: int = 200
    warmup_steps: int = 0
    batch_size: int = 8
    patch_size: int = 48          # HR patch side (px)
    weight_lr: float = 5e-4
    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    grad_clip: float = 5.0
    order_weight: float = 0.01
    width_relaxation: str = "sparsestmax"
    gumbel_tau: float = 1.0
    distill_weight: float = 0.0   # L1 to a teacher's output, used when a teacher is given
    checkpoint_every: int = 25
    checkpoint_every_s: float = 60.0   # wall time between checkpoints (s), as well as the steps
    seed: int = 0


# Settings that change when checkpoints are written, not what is computed: a resume may change them.
RUNTIME_KEYS = ("checkpoint_every", "checkpoint_every_s")


class ResumeMismatch(ValueError):
    """A checkpoint written for other settings than this run's; the message names them."""


class Interrupted(KeyboardInterrupt):
    """SIGINT/SIGTERM stopped the run: ``signum``, and ``step`` the search step checkpointed
    (None when the signal came outside the search's step loop)."""

    def __init__(self, signum: int, step: int | None = None):
        super().__init__(signum, step)
        self.signum, self.step = signum, step


class StopOnSignal:
    """Handler of SIGINT/SIGTERM for a resumable run. Inside :meth:`deferred` (the search's
    step loop) a signal is only recorded: the loop finishes its step, checkpoints and raises
    :class:`Interrupted`, so the checkpoint is never taken in the middle of a step. Elsewhere
    the handler raises :class:`Interrupted` at once."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self):
        self.signum: int | None = None
        self._deferring = 0

    def install(self) -> StopOnSignal:
        """Handle SIGINT and SIGTERM (main thread only); :meth:`uninstall` puts back the
        handlers there were."""
        self._previous = {sig: signal.signal(sig, self) for sig in self.SIGNALS}
        return self

    def uninstall(self) -> None:
        for sig, handler in getattr(self, "_previous", {}).items():
            signal.signal(sig, handler if handler is not None else signal.SIG_DFL)
        self._previous = {}

    def __call__(self, signum, frame=None):
        self.signum = signum
        if not self._deferring:
            raise Interrupted(signum)

    @contextlib.contextmanager
    def deferred(self):
        self._deferring += 1
        try:
            yield self
        finally:
            self._deferring -= 1


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


def radius_at(step: int, config: SearchConfig) -> float:
    """Sparsestmax radius at global step ``step``: 0 in warm-up, then linear 0 → 1."""
    t = step - config.warmup_steps
    if t < 0:
        return 0.0
    return min(1.0, t / max(config.steps - 1, 1))


def order_loss(gamma: torch.Tensor, tree: NetworkTree) -> torch.Tensor:
    """The 'sorting' loss: mean over root-to-leaf paths of Σ relu(γ_child − γ_parent) along the
    path. Zero when γ never grows with depth on any path; positive weight favours shallow nets."""
    paths = torch.tensor(tree.root_to_leaf_paths, device=gamma.device)
    g = gamma[paths]
    return torch.relu(g[:, 1:] - g[:, :-1]).sum(dim=1).mean()


def rank_and_world() -> tuple[int, int]:
    """(rank, world size) of the torch.distributed group, (0, 1) without one."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def _average_gradients(params) -> None:
    """Data parallelism: mean of every gradient over the ranks (all ranks run the same ops,
    as the distributions, hence the skipped ops, are the same everywhere)."""
    _, world = rank_and_world()
    if world == 1:
        return
    for p in params:
        if p.grad is not None:
            dist.all_reduce(p.grad)
            p.grad /= world


class _Batches:
    """Batch of step t = samples t·B … t·B+B−1 of a fixed-seed patch dataset (resumable); with
    W ranks of batch B each, rank r takes samples t·B·W + r·B … of the same sequence, so the
    global batch of W ranks equals one process's batch of B·W."""

    def __init__(self, pairs, scale: int, config: SearchConfig, seed: int):
        self.dataset = SRPatchDataset(pairs, scale, config.patch_size, seed=seed)
        self.batch_size = config.batch_size

    def __call__(self, step: int, device) -> list[torch.Tensor]:
        """LR, HR (and the teacher's target where the pairs have one) of ``step``, on ``device``."""
        rank, world = rank_and_world()
        first = (step * world + rank) * self.batch_size
        batch = default_collate([self.dataset[i] for i in range(first, first + self.batch_size)])
        return [t.to(device) for t in batch]


def _split_pairs(data, scale: int, patch_size: int):
    pairs = load_pairs(data, "train", scale, min_size=patch_size)
    if len(pairs) < 2:
        raise DataError("the search needs at least 2 training images (weights and architecture "
                        "halves)")
    return pairs[0::2], pairs[1::2]


def _task_loss(sr, hr, target, config) -> torch.Tensor:
    return distilled_l1(sr, hr, target, config.distill_weight)


def search(space: SearchSpace, config: SearchConfig, *, out_dir, data=None,
           penalty: Callable[[ExpectedCostFn, torch.Tensor], torch.Tensor] | None = None,
           teacher: torch.nn.Module | None = None, resume: bool = False, device=None,
           max_steps: int | None = None, progress: bool = True,
           feasible_nodes: list[bool] | None = None,
           stop: StopOnSignal | None = None) -> Supernet:
    """Run the search (or its remainder when ``resume``); returns the supernet.

    ``feasible_nodes`` (one flag per tree node) excludes output nodes that cannot meet the
    budget whatever their cells (codesign.search.cost_source.feasible_nodes).

    ``max_steps`` stops this call after that many global steps (a time slice of a long run;
    resume continues it). The genotype is written once the schedule is complete.

    ``stop`` (a :class:`StopOnSignal` installed by the caller) ends the run at the next step
    boundary after SIGINT/SIGTERM with a checkpoint, raising :class:`Interrupted`. A resumed
    search continues on the torch thread count its checkpoint records (keep_threads).
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    device = device if isinstance(device, torch.device) else default_device(device)
    torch.manual_seed(config.seed)
    supernet = Supernet(space, config.width_relaxation, config.gumbel_tau).to(device)
    if feasible_nodes is not None:
        supernet.restrict_nodes(feasible_nodes)
    w_opt = torch.optim.Adam(supernet.weight_parameters(), lr=config.weight_lr)
    a_opt = torch.optim.Adam(supernet.arch_parameters(), lr=config.arch_lr, betas=config.arch_betas)
    total = config.warmup_steps + config.steps
    start, log, threads = 0, [], torch.get_num_threads()
    ckpt_path = out_dir / CHECKPOINT
    if resume and ckpt_path.exists():
        ckpt = load(ckpt_path)
        threads = keep_threads(ckpt.get("torch_threads"), ckpt_path)  # before any arithmetic
        differ = _differences(ckpt["space"], space.to_dict())
        differ += _differences(ckpt["config"], _config_dict(config), ignore=RUNTIME_KEYS)
        if differ:
            raise ResumeMismatch(f"cannot resume {ckpt_path}: it was written with "
                                 f"{', '.join(differ)}; rerun with the same settings, or "
                                 f"start over with --force")
        supernet.load_state_dict(ckpt["supernet"])
        w_opt.load_state_dict(ckpt["weight_optimizer"])
        a_opt.load_state_dict(ckpt["arch_optimizer"])
        torch.set_rng_state(ckpt["torch_rng"])
        if device.type == "cuda" and ckpt.get("cuda_rng") is not None:
            torch.cuda.set_rng_state(ckpt["cuda_rng"], device)
        start, log = ckpt["step"], ckpt["log"]
        if hasattr(penalty, "load_state_dict") and ckpt.get("penalty") is not None:
            penalty.load_state_dict(ckpt["penalty"])
    weight_half, arch_half = _split_pairs(data, space.scale, config.patch_size)
    if teacher is not None and config.distill_weight > 0:
        teacher = teacher.to(device).eval()
        weight_half, arch_half = (taught_pairs(half, teacher, device) for half in (weight_half, arch_half))
    weight_batch = _Batches(weight_half, space.scale, config, config.seed)
    arch_batch = _Batches(arch_half, space.scale, config, config.seed + 1)
    amp = torch.autocast("cuda", dtype=torch.bfloat16, enabled=device.type == "cuda")

    def checkpoint(step):
        if rank_and_world()[0] != 0:
            return
        save_atomic({"supernet": supernet.state_dict(), "weight_optimizer": w_opt.state_dict(),
                     "arch_optimizer": a_opt.state_dict(), "step": step, "log": log,
                     "torch_rng": torch.get_rng_state(),
                     "cuda_rng": torch.cuda.get_rng_state(device) if device.type == "cuda" else None,
                     "space": space.to_dict(),
                     "penalty": penalty.state_dict() if hasattr(penalty, "state_dict") else None,
                     "config": _config_dict(config), "torch_threads": threads}, ckpt_path)
        write_csv_atomic(pd.DataFrame(log), out_dir / "search_log.csv")

    end = total if max_steps is None else min(total, max_steps)
    supernet.train()
    last_checkpoint = time.monotonic()
    with stop.deferred() if stop is not None else contextlib.nullcontext():
        for step in tqdm(range(start, end), initial=start, total=total, desc="search",
                         disable=not progress):
            step_started = time.perf_counter()
            supernet.radius = radius_at(step, config)
            lr, hr, *target = weight_batch(step, device)
            with amp:
                w_loss = _task_loss(supernet(lr), hr, target[0] if target else None, config)
            w_opt.zero_grad(set_to_none=True)
            w_loss.backward()
            _average_gradients(supernet.weight_parameters())
            torch.nn.utils.clip_grad_norm_(supernet.weight_parameters(), config.grad_clip)
            w_opt.step()
            row = {"step": step + 1, "radius": supernet.radius, "weight_loss": w_loss.item()}
            if step >= config.warmup_steps:
                row.update(_arch_step(supernet, a_opt, arch_batch(step, device), penalty,
                                      config, amp))
            if device.type == "cuda":
                torch.cuda.synchronize(device)
            row["step_s"] = time.perf_counter() - step_started
            log.append(row)
            interrupted = stop is not None and stop.signum is not None
            if ((step + 1) % config.checkpoint_every == 0 or step + 1 == end or interrupted
                    or time.monotonic() - last_checkpoint >= config.checkpoint_every_s):
                checkpoint(step + 1)
                last_checkpoint = time.monotonic()
            if interrupted:
                raise Interrupted(stop.signum, step + 1)
    if start == end and rank_and_world()[0] == 0:
        write_csv_atomic(pd.DataFrame(log), out_dir / "search_log.csv")
    if end == total:
        supernet.radius = 1.0
    return supernet


def _arch_step(supernet, a_opt, batch, penalty, config, amp) -> dict:
    lr, hr, *target = batch
    d = supernet.distributions()
    with amp:
        task = _task_loss(supernet(lr, d), hr, target[0] if target else None, config)
    order = order_loss(d.gamma, supernet.tree)
    loss = task + config.order_weight * order
    row = {"arch_loss": task.item(), "order_loss": order.item()}
    if penalty is not None:
        cost_penalty = penalty(lambda table, lr_hw: supernet.expected_cost(table, lr_hw, d), task)
        loss = loss + cost_penalty
        row["penalty"] = cost_penalty.item()
        row.update(getattr(penalty, "last_log", {}))
    a_opt.zero_grad(set_to_none=True)
    loss.backward()
    _average_gradients(supernet.arch_parameters())
    a_opt.step()
    row.update(sparsity_stats(d))
    return row


def sparsity_stats(d) -> dict:
    """How decided the distributions are: mean number of non-zero entries per row and mean
    largest probability, for γ, α and the widths."""
    stats = {}
    for name in ("gamma", "alpha", "width"):
        p = getattr(d, name).detach().reshape(-1, getattr(d, name).shape[-1])
        stats[f"{name}_support"] = float((p > 1e-6).sum(-1).float().mean())
        stats[f"{name}_max"] = float(p.max(-1).values.mean())
    return stats


def _config_dict(config: SearchConfig) -> dict:
    return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(config).items()}


def _differences(saved: dict, now: dict, ignore=()) -> list[str]:
    """``key=saved (this run: now)`` for every setting that differs."""
    return [f"{k}={saved.get(k)!r} (this run: {now.get(k)!r})"
            for k in sorted(set(saved) | set(now))
            if k not in ignore and saved.get(k, now.get(k)) != now.get(k)]


def search_and_train(space: SearchSpace, config: SearchConfig, *, out_dir, data=None,
                     finetune_steps: int = 500, finetune_lr: float = 5e-4,
                     finetune_batch_size: int | None = None, finetune_patch_size: int | None = None,
                     penalty: Callable[[ExpectedCostFn, torch.Tensor], torch.Tensor] | None = None,
                     teacher: torch.nn.Module | None = None, teacher_name: str = "",
                     resume: bool = False, device=None, progress: bool = True, feasible_nodes: list[bool] | None = None,
                     fit: Callable[[Supernet], Genotype | None] | None = None,
                     stop: StopOnSignal | None = None
                     ) -> tuple[Genotype, TrilevelNet, dict]:
    """Search, derive (weights inherited), fine-tune the standalone network with codesign.train
    (checkpoints under ``out_dir/finetune``; batch and patch those of the search unless given),
    then write ``genotype.json`` (so a run that fails
    before the end leaves none). Returns the genotype, the trained network and the fine-tuning
    summary (codesign.sr.train; ``train_s`` its wall time over every resume, s), with
    ``search_s``: the search steps' wall time over every resume (s, search_log.csv).

    ``fit`` (e.g. codesign.search.budget_fit.fit_to_budget bound to a table and budget) may replace
    the argmax genotype; the summary then holds the argmax one as ``argmax_genotype``."""
    out_dir = Path(out_dir)
    supernet = search(space, config, out_dir=out_dir, data=data, penalty=penalty,
                      teacher=teacher, resume=resume, device=device, progress=progress,
                      feasible_nodes=feasible_nodes, stop=stop)
    argmax = derive_genotype(supernet)
    fitted = fit(supernet) if fit is not None else None
    genotype, net = derive(supernet, genotype=fitted or argmax)
    summary = train_model(net, data=data, scale=space.scale, steps=finetune_steps,
                          batch_size=finetune_batch_size or config.batch_size,
                          patch_size=finetune_patch_size or config.patch_size,
                          lr=finetune_lr, out_dir=out_dir / "finetune", resume=resume,
                          teacher=teacher, distill_weight=config.distill_weight,
                          teacher_name=teacher_name,
                          device=device, seed=config.seed, arch="trilevel",
                          model_kwargs={"genotype": genotype.to_dict()}, progress=progress)
    genotype.save(out_dir / "genotype.json")
    summary["argmax_genotype"] = argmax
    summary["search_s"] = float(pd.read_csv(out_dir / "search_log.csv")["step_s"].sum())
    return genotype, net, summary
