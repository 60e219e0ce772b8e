"""Closed loop on a reachable device: measure, re-fit the costs, derive again, measure again.

After the search, the derived network is compiled, tuned and timed on the device
(codesign.search_report). When the measured latency misses [0.85, 1.0] × budget, the loop
- appends the measurement (predicted and measured ms of the whole network, its genotype) to
  ``network_profile.csv`` in the output folder;
- re-fits the predictor's network-level calibration on every row so far: one factor k that
  minimises Σ (k · predicted / measured − 1)² (relative least squares), applied to every op's
  cost and to the per-network overhead — the kernel predictor's error on a device is mostly one
  device-wide factor, and k is what whole networks can identify;
- continues from the search's checkpoint: the supernet's final architecture logits (what the
  search learned) are fitted to the budget again under the re-fitted costs
  (codesign.budget_fit), the new network inherits the supernet's weights, is fine-tuned and
  measured in ``round<k>/``.
At most ``rounds`` rounds; ``report.csv`` holds one row per round, the last row the result.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from codesign.atomic import write_csv_atomic
from codesign.budget_fit import fit_to_budget
from codesign.checkpoint import load
from codesign.cost_source import CostTable, feasible_nodes
from codesign.derive import derive
from codesign.genotype import Genotype
from codesign.search_train import CHECKPOINT
from codesign.supernet import Supernet
from codesign.train import train_model

log = logging.getLogger("codesign.search")
BAND = (0.85, 1.0)


def in_band(measured_ms: float | None, budget: float) -> bool:
    return measured_ms is not None and BAND[0] * budget <= measured_ms <= BAND[1] * budget


def calibration_factor(profile: pd.DataFrame) -> float:
    """k minimising Σ (k · predicted / measured − 1)² over the measured networks."""
    ratio = profile.predicted_ms / profile.measured_ms
    return float(ratio.sum() / (ratio ** 2).sum())


def scaled_table(table: CostTable, factor: float, rows: int) -> CostTable:
    """``table`` with every cost and the overhead multiplied by ``factor``."""
    return replace(table, mean={k: v * factor for k, v in table.mean.items()},
                   std={k: v * factor for k, v in table.std.items()},
                   network_overhead=table.network_overhead * factor,
                   provenance=f"{table.provenance}, calibrated",
                   source=f"{table.source}; x{factor:.3f} re-fitted on {rows} measured "
                          f"network(s) of this search")


def run_rounds(first: pd.Series, *, out: Path, space, table: CostTable, lr_hw, budget: float,
               rounds: int, finetune: dict, evaluate_round) -> pd.DataFrame:
    """Rounds after the first (``first``: its report row). ``finetune`` holds train_model's
    keyword arguments; ``evaluate_round(genotype, net, table, round_dir)`` exports, measures and
    returns the round's report row. Returns all rounds' rows."""
    rows = [first.to_dict() | {"round": 0}]
    profile_path = out / "network_profile.csv"
    supernet = None
    for k in range(1, rounds):
        last = rows[-1]
        if in_band(last.get("measured_ms"), budget) or last.get("measured_ms") is None:
            break
        profile = pd.DataFrame([{"round": r["round"], "predicted_ms": r["cost"],
                                 "measured_ms": r["measured_ms"], "genotype": r["genotype"]}
                                for r in rows])
        write_csv_atomic(profile, profile_path)
        factor = calibration_factor(profile)
        refit = scaled_table(table, factor, len(profile))
        if supernet is None:
            supernet = Supernet(space)
            supernet.load_state_dict(load(out / CHECKPOINT)["supernet"])
            supernet.radius = 1.0
        supernet.restrict_nodes(feasible_nodes(space, refit, lr_hw, budget))
        genotype = fit_to_budget(supernet, refit, lr_hw, budget)
        if genotype is None or genotype == Genotype.from_json(last["genotype"]):
            log.info("round %d: re-fitted costs (x%.3f) leave the network unchanged; stopping",
                     k, factor)
            break
        log.info("round %d: measured %.3g ms is outside [%.2f, %.2f] x %g ms; costs re-fitted "
                 "x%.3f on %d measured network(s); derived %s again", k, last["measured_ms"],
                 *BAND, budget, factor, len(profile), genotype.path or "(stem cell only)")
        round_dir = out / f"round{k}"
        round_dir.mkdir(exist_ok=True)
        genotype.save(round_dir / "genotype.json")
        _, net = derive(supernet, genotype=genotype)
        train_model(net, out_dir=round_dir / "finetune", arch="trilevel",
                    model_kwargs={"genotype": genotype.to_dict()}, **finetune)
        rows.append(evaluate_round(genotype, net, refit, round_dir) | {"round": k})
    return pd.DataFrame(rows)
