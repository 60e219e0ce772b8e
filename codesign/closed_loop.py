"""Closed loop on a reachable device: measure, re-fit the costs, derive again, measure again.

After the search, the derived network is compiled, tuned and timed on the device
(codesign.search_report). When the measured latency misses [0.85, 1.0] × budget, the loop
- appends the measurement (the whole network's genotype, LR input, measured ms) to the device's
  network profile (``devices/profiles/<device>-networks.csv`` by default), which every later
  search on that device starts from: the costs it searches with are already re-fitted on all
  networks measured there before;
- re-fits the costs on every row so far with one robust factor: every op's cost (and the
  per-network overhead) is multiplied by the median of measured / predicted over the measured
  networks. One parameter, so one measured network already fixes it and an odd network or a
  noisy timing moves it little. (Until this session it was c ms per MB written, fitted by least
  squares through the origin on the residuals, for TVM's gap between kernels timed alone and
  inside a network: on onnxruntime, whose predictor already carries a fitted network overhead,
  that slope came out −0.3 ms/MB from three networks, hundreds of ms on a high-resolution
  network, and the loop moved away from the band.)
- continues from the search's checkpoint: the supernet's final architecture logits (what the
  search learned) are fitted to the budget again under the re-fitted costs
  (codesign.budget_fit), the new network inherits the supernet's weights, is fine-tuned and
  measured in ``round<k>/``. What the re-fitted model still gets wrong about the last network
  measured is corrected locally: the fit aims at budget × (its re-fitted cost / its measured
  latency), so a network measured 10 % over its prediction makes the next one aim 10 % lower
  (on this shared 2-core machine the same network measured 29–47 ms depending on the load,
  which no cost model explains). A step only moves toward the band: after a measurement over
  the budget the next network must cost less than the last under the re-fitted costs, after one
  under the band more; otherwise the loop stops instead of chasing noise.
At most ``rounds`` rounds; ``report.csv`` holds one row per round, the last row the result.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import pandas as pd

from codesign.budget import BAND, in_band
from codesign.budget_fit import fit_to_budget
from codesign.checkpoint import load
from codesign.cost_source import CostTable, feasible_nodes, node_cost_range
from codesign.derive import derive
from codesign.genotype import Genotype
from codesign.search_train import CHECKPOINT
from codesign.supernet import Supernet
from codesign.train import train_model
from codesign_common.atomic import write_csv_atomic

log = logging.getLogger("codesign.search")


def cost_scale(profile: pd.DataFrame) -> float:
    """The median of measured / predicted over the measured networks (1 when there are none)."""
    if profile.empty:
        return 1.0
    return float((profile.measured_ms / profile.predicted_ms).median())


def refit_table(table: CostTable, scale: float, rows: int) -> CostTable:
    """``table`` with every op's cost and the per-network overhead multiplied by ``scale``."""
    return replace(table, mean={k: v * scale for k, v in table.mean.items()},
                   network_overhead=table.network_overhead * scale,
                   provenance=f"{table.provenance}, re-fitted",
                   source=f"{table.source}; x {scale:.3g} (median measured/predicted of {rows} "
                          f"measured network(s) of this device)")


def read_network_profile(path: Path, lr_hw) -> pd.DataFrame:
    """Networks measured before on this device at this LR input (genotype, measured_ms)."""
    if not Path(path).exists():
        return pd.DataFrame(columns=["genotype", "lr_h", "lr_w", "measured_ms"])
    rows = pd.read_csv(path)
    return rows[(rows.lr_h == lr_hw[0]) & (rows.lr_w == lr_hw[1])]


def append_network_profile(path: Path, device: str, lr_hw, report_row: dict) -> None:
    """Add one measured network (atomically) to the device's network profile."""
    old = pd.read_csv(path) if Path(path).exists() else pd.DataFrame()
    new = {"device": device, "lr_h": lr_hw[0], "lr_w": lr_hw[1],
           "measured_ms": report_row["measured_ms"],
           "measured_std_ms": report_row.get("measured_std_ms"),
           "measurement": report_row.get("measurement"),
           "load_1min": report_row.get("measured_load_1min"), "genotype": report_row["genotype"]}
    write_csv_atomic(pd.concat([old, pd.DataFrame([new])], ignore_index=True), path)


def refit_on(table: CostTable, measured: pd.DataFrame, lr_hw) -> tuple[CostTable, float]:
    """``table`` re-fitted on the measured networks (see the module doc); (table, factor).
    Unchanged when none is measured."""
    if measured.empty:
        return table, 1.0
    profile = pd.DataFrame([_profile_row(r, table, lr_hw) for r in measured.to_dict("records")])
    scale = cost_scale(profile)
    return refit_table(table, scale, len(measured)), scale


def run_rounds(first: pd.Series, *, out: Path, space, table: CostTable, lr_hw, budget: float,
               rounds: int, finetune: dict, evaluate_round, profile_path: Path,
               device: str) -> pd.DataFrame:
    """Rounds after the first (``first``: its report row). ``table`` is the predictor's table
    before any re-fit; ``profile_path`` the device's network profile, to which every measured
    round is appended. ``finetune`` holds train_model's keyword arguments;
    ``evaluate_round(genotype, net, table, round_dir)`` exports, measures and returns the
    round's report row. Returns all rounds' rows."""
    rows = [first.to_dict() | {"round": 0}]
    supernet = None
    for k in range(1, rounds + 1):
        last = rows[-1]
        if last.get("measured_ms") is None or pd.isna(last.get("measured_ms")):
            break
        append_network_profile(profile_path, device, lr_hw, last)
        if in_band(last["measured_ms"], budget) or k == rounds:
            break
        measured = read_network_profile(profile_path, lr_hw)
        refit, scale = refit_on(table, measured, lr_hw)
        last_cost = refit.network_cost(Genotype.from_json(last["genotype"]).op_keys(lr_hw))[0]
        aim = budget * last_cost / last["measured_ms"]
        if supernet is None:
            supernet = Supernet(space)
            supernet.load_state_dict(load(out / CHECKPOINT)["supernet"])
            supernet.radius = 1.0
        feasible = feasible_nodes(space, refit, lr_hw, aim)
        genotype = None
        if any(feasible):
            supernet.restrict_nodes(feasible)
            genotype = fit_to_budget(supernet, refit, lr_hw, aim)
        if genotype is None:
            log.info("round %d: with the re-fitted costs (x %.3g) no network of "
                     "the space meets %.3g ms: the cheapest is %.3g ms; stopping", k, scale,
                     aim, min(node_cost_range(space, refit, lr_hw)[0]))
            break
        if genotype == Genotype.from_json(last["genotype"]):
            log.info("round %d: the re-fitted costs leave the network unchanged; stopping", k)
            break
        new_cost = refit.network_cost(genotype.op_keys(lr_hw))[0]
        if (new_cost >= last_cost) if last["measured_ms"] > budget else (new_cost <= last_cost):
            log.info("round %d: the re-fitted costs would derive a network %s than the last "
                     "(%.3g vs %.3g ms), away from the band; stopping", k,
                     "dearer" if new_cost >= last_cost else "cheaper", new_cost, last_cost)
            break
        log.info("round %d: measured %.3g ms is outside [%.2f, %.2f] x %g ms; costs re-fitted "
                 "(x %.3g) on %d measured network(s), aiming at %.3g ms of "
                 "re-fitted cost; derived %s again", k, last["measured_ms"], *BAND, budget,
                 scale, len(measured), aim, genotype.path or "(stem cell only)")
        round_dir = out / f"round{k}"
        round_dir.mkdir(exist_ok=True)
        _, net = derive(supernet, genotype=genotype)
        train_model(net, out_dir=round_dir / "finetune", arch="trilevel",
                    model_kwargs={"genotype": genotype.to_dict()}, **finetune)
        genotype.save(round_dir / "genotype.json")  # after fine-tuning: a failure leaves none
        rows.append(evaluate_round(genotype, net, refit, round_dir) | {"round": k})
    return pd.DataFrame(rows)


def _profile_row(measured: dict, table: CostTable, lr_hw) -> dict:
    """A measured network: its cost under the predictor's table and its measured latency."""
    keys = Genotype.from_json(measured["genotype"]).op_keys(lr_hw)
    return {"predicted_ms": table.network_cost(keys)[0], "measured_ms": measured["measured_ms"]}
