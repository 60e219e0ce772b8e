"""Hardware-aware trilevel search for a device and a budget: the main job of codesign.

    python -m codesign.search --device NAME --budget 50ms [--scale 4] [--input HxW]
                              [--data DIR] [--out DIR] [--resume] [--penalty hinge]
    python -m codesign.search --budget 20GFLOPs [--scale 4] [--input HxW] …   (no device)
    torchrun --nproc_per_node N -m codesign.search …   (data-parallel search on N GPUs)

The device's latency predictor (or the counted GMACs, for a ``GFLOPs`` budget) gives a cost for
every candidate op instance at the device's LR input size; the supernet's expected cost over its
sparsestmax distributions is penalised towards the budget with a strength adapted by dual ascent
(codesign.penalty), the derived network inherits the supernet's weights and is fine-tuned, then
exported (``weights.safetensors``, ``model.onnx`` checked in onnxruntime), compiled with TVM for
the device's target and, where the device is reachable, measured. ``report.csv`` says for every
number whether it is counted, predicted or measured. Interrupt and ``--resume`` lose nothing.
"""
from __future__ import annotations

import argparse
import logging
import os
import re
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
from codesign.search_space import SearchSpace
from codesign.search_train import SearchConfig, rank_and_world, search, search_and_train
from codesign_common.atomic import write_csv_atomic

REPO = Path(__file__).resolve().parent.parent
log = logging.getLogger("codesign.search")


class SearchError(Exception):
    """A search that cannot start (no predictor, unreachable budget …): one line for the user."""


def parse_input(text: str) -> tuple[int, int]:
    """``'180x320'`` → (180, 320): LR input height × width in pixels."""
    match = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", text or "")
    if not match or min(int(match.group(1)), int(match.group(2))) < 8:
        raise SearchError(f"--input {text!r} is not HxW in LR pixels (each side ≥ 8), e.g. 180x320")
    return int(match.group(1)), int(match.group(2))


def find_predictor(device_name: str, explicit: str | None) -> Path | None:
    """The predictor folder for a device: ``--predictor``, else ``$CODESIGN_PREDICTORS/<device>``,
    else ``predictors/trained/<device>`` in the repository; None when none exists."""
    if explicit:
        path = Path(explicit)
        if not (path / "predictor.json").is_file():
            raise SearchError(f"--predictor {explicit}: no predictor.json there")
        return path
    roots = [Path(os.environ["CODESIGN_PREDICTORS"])] if os.environ.get("CODESIGN_PREDICTORS") else []
    roots.append(REPO / "predictors" / "trained")
    return next((r / device_name for r in roots if (r / device_name / "predictor.json").is_file()),
                None)


def cost_table_for(device, budget: Budget, space: SearchSpace, lr_hw, predictor: str | None
                   ) -> CostTable:
    """Counted GMACs for a compute budget, else the device predictor's predicted ms."""
    if budget.metric == "gmacs":
        return macs_table(space, lr_hw)
    if device is None:
        raise SearchError(f"a latency budget ({budget}) needs --device (python -m devices.list)")
    path = find_predictor(device.name, predictor)
    if path is None:
        raise SearchError(
            f"no latency predictor for {device.name}: profile it (python -m devices.profile "
            f"--device {device.name} --out PROFILE.csv), train one (python -m predictors.train "
            f"--device {device.name} --profile PROFILE.csv --out predictors/trained/{device.name}) "
            f"or give --predictor DIR; a GFLOPs budget needs none")
    return predicted_latency_table(space, lr_hw, path)


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


def _setup_logging(out: Path) -> None:
    log.setLevel(logging.INFO)
    log.handlers.clear()
    for handler in (logging.FileHandler(out / "search.log"), logging.StreamHandler(sys.stderr)):
        handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
        log.addHandler(handler)


def config_for(args: argparse.Namespace) -> SearchConfig:
    return SearchConfig(steps=args.steps, warmup_steps=args.warmup_steps,
                        batch_size=args.batch_size, patch_size=args.patch_size, seed=args.seed,
                        width_relaxation=args.width_relaxation, order_weight=args.order_weight)


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


def run_search(args: argparse.Namespace) -> pd.DataFrame:
    """Everything after argument parsing; returns the report table (also written to disk)."""
    from devices.catalog import get_device

    device = get_device(args.device) if args.device else None
    budget = parse_budget(args.budget)
    scale = args.scale or (device.scale if device else 4)
    if args.input:
        lr_hw = parse_input(args.input)
    else:
        lr_hw = tuple(device.lr_input_hw) if device else hd_lr_hw(scale)
    name = device.name if device else "no-device"
    space = SearchSpace(nf=args.nf, num_cells=args.num_cells, scale=scale)
    predictor_table = cost_table_for(device, budget, space, lr_hw, args.predictor)
    table, network_profile = predictor_table, None
    if device is not None and device.method == "tvm-local" and budget.metric == "latency_ms":
        network_profile = Path(args.network_profile or REPO / "devices" / "profiles"
                               / f"{device.name}-networks.csv")
        table, _ = refit_on(predictor_table, read_network_profile(network_profile, lr_hw),
                                 space, lr_hw)
    low, high = cost_range(space, table, lr_hw)
    unit = table.unit
    if budget.value < low:
        raise SearchError(f"budget {budget} is below the cheapest network of this space on "
                          f"{name} at {lr_hw[0]}x{lr_hw[1]} LR: {low:.3g} {unit} "
                          f"({table.provenance}); raise the budget or shrink --input")
    if args.dry_run:
        print(f"{name}: {table.provenance} cost of the space at {lr_hw[0]}x{lr_hw[1]} LR "
              f"spans {low:.3g} … {high:.3g} {unit}; budget {budget} is reachable")
        return pd.DataFrame()
    load_pairs(args.data, "train", scale, min_size=args.patch_size)  # fail before any work
    out = Path(args.out or Path("runs") / "search" / f"{name}-{args.budget}")
    out.mkdir(parents=True, exist_ok=True)
    rank, _ = rank_and_world()
    if rank != 0:  # data-parallel helper rank (torchrun): the search only; rank 0 does the rest
        search(space, config_for(args), out_dir=out, data=args.data, resume=args.resume,
               penalty=PenaltyHook(table, lr_hw, penalty_for(args, budget)),
               device=args.torch_device, progress=False,
               feasible_nodes=feasible_nodes(space, table, lr_hw, budget.value))
        return pd.DataFrame()
    _setup_logging(out)
    log.info("device %s, LR input %dx%d, x%d, budget %s", name, *lr_hw, scale, budget)
    log.info("costs: %s %s from %s; space spans %.3g … %.3g %s",
             table.provenance, unit, table.source, low, high, unit)
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
                                             budget=budget.value))
    argmax = summary["argmax_genotype"]
    if argmax != genotype:
        log.info("the argmax network (%s %.3g %s) was outside [0.85, 1.0] x budget; derived the "
                 "least-regret network inside it instead (codesign.budget_fit)",
                 table.provenance, table.network_cost(argmax.op_keys(lr_hw))[0], unit)
    from codesign.search_report import write_outputs

    timing = {"train_device": describe(default_device(args.torch_device)),
              "search_finetune_wall_s": round(time.perf_counter() - started, 1)}
    report = write_outputs(out, device, budget, genotype, net, table, lr_hw, args, space, argmax,
                           timing)
    if network_profile is None:
        return report

    def evaluate_round(genotype, net, refit, round_dir):
        return write_outputs(round_dir, device, budget, genotype, net, refit, lr_hw, args, space,
                             plot=False).iloc[0].to_dict()

    finetune = dict(data=args.data, scale=scale, steps=args.finetune_steps,
                    batch_size=args.batch_size, patch_size=args.patch_size, resume=args.resume,
                    device=args.torch_device, seed=args.seed)
    report = run_rounds(report.iloc[0], out=out, space=space, table=predictor_table,
                        lr_hw=lr_hw, budget=budget.value, rounds=args.rounds, finetune=finetune,
                        evaluate_round=evaluate_round, profile_path=network_profile,
                        device=device.name)
    write_csv_atomic(report, out / "report.csv")
    return report


class _Parser(argparse.ArgumentParser):
    """argparse with one-line errors (``error: …``, exit 2) instead of the usage dump."""

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def _attach_budget_value(argv: list[str]) -> list[str]:
    """``--budget -5ms`` → ``--budget=-5ms`` so argparse does not take the value for an option
    and the budget parser can say what is wrong with it."""
    out = list(argv)
    for i, arg in enumerate(out[:-1]):
        if arg == "--budget" and out[i + 1].startswith("-"):
            out[i:i + 2] = [f"--budget={out[i + 1]}"]
            break
    return out


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m codesign.search", description=__doc__,
                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", help="catalog name (python -m devices.list); optional for a "
                   "GFLOPs budget")
    p.add_argument("--budget", required=True, help="e.g. 50ms, 0.05s or 2.5GFLOPs")
    p.add_argument("--scale", type=int, choices=(2, 3, 4), help="default: the device's")
    p.add_argument("--input", help="LR input HxW (default: the device's)")
    p.add_argument("--data", help="HR training folder (default: built-in photos)")
    p.add_argument("--out", help="output folder (default: runs/search/DEVICE-BUDGET)")
    p.add_argument("--resume", action="store_true", help="continue an interrupted run in --out")
    p.add_argument("--predictor", help="latency predictor folder (default: the device's)")
    p.add_argument("--penalty", choices=FORMS, default="hinge")
    p.add_argument("--strength", type=float, default=1.0,
                   help="initial strength s, in units of the task loss (codesign.penalty)")
    p.add_argument("--strength-step", type=float, default=0.5, help="dual-ascent step")
    p.add_argument("--steps", type=int, default=400, help="search steps (radius 0 → 1)")
    p.add_argument("--warmup-steps", type=int, default=40, help="weight-only steps first")
    p.add_argument("--finetune-steps", type=int, default=3000)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--patch-size", type=int, default=48, help="HR patch side (px)")
    p.add_argument("--order-weight", type=float, default=0.01,
                   help="weight of the order (sorting) loss favouring shallower paths")
    p.add_argument("--nf", type=int, default=64, help="supernet feature channels")
    p.add_argument("--num-cells", type=int, default=5, help="cells including the stem cell")
    p.add_argument("--width-relaxation", default="sparsestmax",
                   choices=("sparsestmax", "gumbel", "softmax"))
    p.add_argument("--trials", type=int, default=32,
                   help="MetaSchedule trials per fused task when measuring the result")
    p.add_argument("--no-measure", action="store_true", help="skip compiling and timing")
    p.add_argument("--network-profile", help="whole networks measured on the device, re-fitted "
                   "on before searching and appended to (default: "
                   "devices/profiles/DEVICE-networks.csv; codesign.closed_loop)")
    p.add_argument("--rounds", type=int, default=3,
                   help="closed-loop rounds at most where the device is measured "
                        "(codesign.closed_loop; 1: no re-fit)")
    p.add_argument("--no-fit", action="store_true", help="keep the argmax network even when it "
                   "is outside [0.85, 1.0] x budget (codesign.budget_fit)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--torch-device", default=None, help="cpu, cuda … (default: cuda if present)")
    p.add_argument("--dry-run", action="store_true", help="check inputs and the budget, then stop")
    return p


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser().parse_args(_attach_budget_value(argv))
    from devices.catalog import UnknownDeviceError

    try:
        init_distributed(args)
        report = run_search(args)
    except (SearchError, BudgetError, UnknownDeviceError, DataError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if not report.empty:
        if len(report) > 1:
            print(report[["round", "cost", "measured_ms", "psnr", "path"]].to_string(index=False))
        row = report.iloc[-1]
        print(row.drop(labels=["genotype"], errors="ignore").to_string())
        print(f"outputs in {row['out_dir']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
