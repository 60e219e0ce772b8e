"""Closed loop on a reachable device: measure, re-fit the costs, derive again, measure again.

After the search, the derived network is compiled, tuned and timed on the device
(codesign.search.report). When the measured latency misses [0.85, 1.0] × budget, the loop
- appends the measurement (the whole network's genotype, LR input, measured ms) to the device's
  network profile (under ``$CODESIGN_CACHE/profiles/`` by default,
  codesign.search.inputs.network_profile_paths), which every later search on that device
  starts from: the costs it searches with are already re-fitted on all networks measured there
  before. Within a run the re-fits use the networks measured before it started (recorded in the
  run's folder, ``networks_at_start.csv``) and its own rounds, never what other runs measure
  meanwhile, so a resumed run derives what the uninterrupted one would;
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
  (codesign.search.budget_fit), the new network inherits the supernet's weights, is fine-tuned and
  measured in ``round<k>/``. What the re-fitted model still gets wrong about the networks of
  this run is corrected locally, by a secant through them (:func:`cost_band`): measured latency
  is read as a piecewise-linear function of re-fitted cost through the networks measured so far
  (proportional beyond them), and the next network must cost what that curve puts in the band
  less the timing scatter (codesign.search.budget.AIM).
  One measured network makes that "aim 10 % lower after a network measured 10 % over its cost";
  two on either side of the band bracket it, and the next network lies between them. (Aiming by
  the last network's ratio alone alternated between a network 10 % over and one 30 % under a
  36.2 ms budget, because the two kinds of network missed their costs in opposite directions.)
  A network measured before in this run is never derived again: its cost is cut out of the band
  and the fit asked again. A step only moves toward the band: after a measurement over the budget
  the next network must cost less than the last under the re-fitted costs, after one under the
  band more; otherwise the loop stops instead of chasing noise.
At most ``rounds`` rounds; ``report.csv`` holds one row per round. The ``result`` column marks
the network the run delivers: the round measured in the band, else the one measured nearest to
it (:func:`nearest_to_band`), which need not be the last.
"""
from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from codesign.search.budget import AIM, BAND, in_band
from codesign.search.budget_fit import fit_to_budget
from codesign.search.cost_source import CostTable, feasible_nodes, node_cost_range
from codesign.search.train import CHECKPOINT
from codesign.space.derive import derive
from codesign.space.genotype import Genotype
from codesign.space.supernet import Supernet
from codesign.sr.checkpoint import load
from codesign.sr.train import train_model
from codesign_common.atomic import write_csv_atomic
from codesign_common.locks import exclusive_lock
from devices.timing import STATISTIC

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


NETWORK_COLUMNS = ["genotype", "lr_h", "lr_w", "measured_ms", "statistic"]  # what a re-fit reads


def read_network_profile(path: Path, lr_hw) -> pd.DataFrame:
    """Networks measured before on this device at this LR input by devices.timing.STATISTIC
    (NETWORK_COLUMNS); rows timed by another statistic (rows without a ``statistic`` column
    were medians) are left out, so that one fit never mixes the two. A missing or empty file
    holds none; an unreadable one raises ValueError (one line naming it)."""
    empty = pd.DataFrame(columns=NETWORK_COLUMNS)
    if not Path(path).exists():
        return empty
    try:
        rows = pd.read_csv(path)
    except pd.errors.EmptyDataError:  # an empty file, as created to start from no network
        return empty
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read network profile {path}: {str(err).splitlines()[0]}") from None
    missing = [c for c in ("genotype", "lr_h", "lr_w", "measured_ms") if c not in rows]
    if missing:
        raise ValueError(f"network profile {path} lacks columns {missing}")
    statistic = rows["statistic"].fillna("median") if "statistic" in rows else "median"
    rows = rows.assign(statistic=statistic)
    return rows[(rows.lr_h == lr_hw[0]) & (rows.lr_w == lr_hw[1]) & (rows.statistic == STATISTIC)]


def append_network_profile(path: Path, device: str, lr_hw, report_row: dict,
                           run: str | None = None) -> None:
    """Add one measured network (atomically, under the profile's lock ``.NAME.lock``, so that
    concurrent runs lose no row) to the device's network profile. ``run`` names the
    measurement (a search folder and round): a row of the same run is replaced, so that a
    resumed search re-measuring its rounds adds each of them once."""
    with exclusive_lock(Path(path).with_name(f".{Path(path).name}.lock"),
                        f"the network profile {path}", wait=True):
        try:
            old = pd.read_csv(path) if Path(path).exists() else pd.DataFrame()
        except pd.errors.EmptyDataError:
            old = pd.DataFrame()
        if run is not None and "run" in old:
            old = old[old["run"] != run]
        write_csv_atomic(pd.concat([old, pd.DataFrame([_network_row(device, lr_hw, report_row, run)])],
                                   ignore_index=True), path)


def _network_row(device: str, lr_hw, report_row: dict, run: str | None) -> dict:
    """One network-profile row from a round's report row."""
    return {"device": device, "lr_h": lr_hw[0], "lr_w": lr_hw[1],
           "measured_ms": report_row["measured_ms"],
           "statistic": report_row.get("measured_statistic", STATISTIC),
           "measured_std_ms": report_row.get("measured_std_ms"),
           "measurement": report_row.get("measurement"),
            "load_1min": report_row.get("measured_load_1min"), "genotype": report_row["genotype"],
            "run": run}


def refit_on(table: CostTable, measured: pd.DataFrame, lr_hw) -> tuple[CostTable, float]:
    """``table`` re-fitted on the measured networks (see the module doc); (table, factor).
    Unchanged when none is measured."""
    if measured.empty:
        return table, 1.0
    profile = pd.DataFrame([_profile_row(r, table, lr_hw) for r in measured.to_dict("records")])
    scale = cost_scale(profile)
    return refit_table(table, scale, len(measured)), scale


def band_distance(measured_ms: float | None, budget: float) -> float:
    """How far a measured latency lies outside BAND × budget, as a fraction of the budget
    (0 inside; infinite when nothing was measured)."""
    if measured_ms is None or pd.isna(measured_ms):
        return float("inf")
    return max(measured_ms / budget - BAND[1], BAND[0] - measured_ms / budget, 0.0)


def nearest_to_band(measured_ms: list, budget: float) -> int:
    """Index of the round a run delivers: the first measured in the band, else the nearest."""
    distance = [band_distance(m, budget) for m in measured_ms]
    return distance.index(min(distance))


def cost_band(points: list[tuple[float, float]], budget: float,
              grid: int = 4000) -> tuple[float, float, float]:
    """(low, high, target) cost that the measured networks ``points`` ((cost, measured_ms), costs
    under the current table) say will measure in codesign.search.budget.AIM × budget (the band less
    the timing scatter), resp. at its middle.

    Measured latency is read as cost × ratio(cost), the ratio measured / cost interpolated
    linearly between the networks' costs and held beyond them: one network gives the band scaled
    by its ratio, networks on both sides of the band give the secant between them."""
    by_cost = pd.DataFrame(points, columns=["cost", "measured"]).groupby("cost").measured.median()
    costs = by_cost.index.to_numpy(float)
    ratios = by_cost.to_numpy(float) / costs
    cost = np.linspace(0.0, 2.0 * budget / ratios.min(), grid + 1)[1:]
    measured = cost * np.interp(cost, costs, ratios)
    middle = sum(AIM) / 2 * budget
    target = int(np.abs(measured - middle).argmin())
    inside = (measured >= AIM[0] * budget) & (measured <= AIM[1] * budget)
    if not inside[target]:  # the curve steps over the band: aim at its middle only
        return cost[target], cost[target], cost[target]
    low = high = target
    while low > 0 and inside[low - 1]:
        low -= 1
    while high < grid - 1 and inside[high + 1]:
        high += 1
    return cost[low], cost[high], cost[target]


def fit_unmeasured(supernet: Supernet, table: CostTable, lr_hw, band: tuple[float, float, float],
                   measured: list[Genotype], tries: int = 8) -> Genotype | None:
    """The least-regret genotype with a cost in ``band`` (low, high, target) that is not among
    ``measured``: a measured one found there has its cost cut out of the band, and the part
    nearer the target is asked first. Falls back, like fit_to_budget, to the costliest network
    under the band when none lies in it; None when every try meets a measured network."""
    low, high, target = band
    parts = [(low, high)]
    for _ in range(tries):
        if not parts:
            return None
        lo, hi = parts.pop(0)
        genotype = fit_to_budget(supernet, table, lr_hw, hi, band=(lo / hi, 1.0))
        if genotype is None or genotype not in measured:
            return genotype
        cost = table.network_cost(genotype.op_keys(lr_hw))[0]
        split = [(a, b) for a, b in ((lo, cost * (1 - 1e-3)), (cost * (1 + 1e-3), hi)) if a < b]
        split.sort(key=lambda ab: 0.0 if ab[0] <= target <= ab[1] else
                   min(abs(ab[0] - target), abs(ab[1] - target)))
        parts = split + parts
    return None


def run_rounds(first: pd.Series, *, out: Path, space, table: CostTable, lr_hw, budget: float,
               rounds: int, finetune: dict, evaluate_round, profile_path: Path,
               device: str, measured_before: pd.DataFrame | None = None) -> pd.DataFrame:
    """Rounds after the first (``first``: its report row). ``table`` is the predictor's table
    before any re-fit; ``profile_path`` the device's network profile, to which every measured
    round is appended; ``measured_before`` the networks measured before this run (NETWORK_COLUMNS),
    which each round's re-fit uses with the rounds so far. ``finetune`` holds train_model's keyword arguments;
    ``evaluate_round(genotype, net, table, round_dir)`` exports, measures and returns the
    round's report row; a round's ``search_finetune_wall_s`` is its fine-tuning's (s, over
    resumes). Returns all rounds' rows, the delivered one marked in ``result``."""
    rows = [first.to_dict() | {"round": 0}]
    supernet = None
    for k in range(1, rounds + 1):
        last = rows[-1]
        if last.get("measured_ms") is None or pd.isna(last.get("measured_ms")):
            break
        append_network_profile(profile_path, device, lr_hw, last,
                               run=f"{Path(out).resolve()} round {last.get('round', 0)}")
        if in_band(last["measured_ms"], budget) or k == rounds:
            break
        measured = pd.concat([measured_before, _this_run(rows)], ignore_index=True) \
            if measured_before is not None and not measured_before.empty else _this_run(rows)
        refit, scale = refit_on(table, measured, lr_hw)
        seen = [Genotype.from_json(r["genotype"]) for r in rows]
        costs = [refit.network_cost(g.op_keys(lr_hw))[0] for g in seen]
        band = cost_band(list(zip(costs, [r["measured_ms"] for r in rows])), budget)
        last_cost = costs[-1]
        if supernet is None:
            supernet = Supernet(space)
            supernet.load_state_dict(load(out / CHECKPOINT)["supernet"])
            supernet.radius = 1.0
        feasible = feasible_nodes(space, refit, lr_hw, band[1])
        genotype = None
        if any(feasible):
            supernet.restrict_nodes(feasible)
            genotype = fit_unmeasured(supernet, refit, lr_hw, band, seen)
        if genotype is None:
            log.info("round %d: with the re-fitted costs (x %.3g) no network of the space that "
                     "was not measured already costs %.3g–%.3g ms (the cheapest costs %.3g ms); "
                     "stopping", k, scale, band[0], band[1],
                     min(node_cost_range(space, refit, lr_hw)[0]))
            break
        new_cost = refit.network_cost(genotype.op_keys(lr_hw))[0]
        if (new_cost >= last_cost) if last["measured_ms"] > budget else (new_cost <= last_cost):
            log.info("round %d: the re-fitted costs would derive a network %s than the last "
                     "(%.3g vs %.3g ms), away from the band; stopping", k,
                     "dearer" if new_cost >= last_cost else "cheaper", new_cost, last_cost)
            break
        log.info("round %d: measured %.3g ms is outside [%.2f, %.2f] x %g ms; costs re-fitted "
                 "(x %.3g) on %d measured network(s); the %d network(s) of this run put the "
                 "band at %.3g–%.3g ms of re-fitted cost; derived %s", k, last["measured_ms"],
                 *BAND, budget, scale, len(measured), len(rows), band[0], band[1],
                 genotype.path or "(stem cell only)")
        round_dir = out / f"round{k}"
        round_dir.mkdir(exist_ok=True)
        _, net = derive(supernet, genotype=genotype)
        trained = train_model(net, out_dir=round_dir / "finetune", arch="trilevel",
                              model_kwargs={"genotype": genotype.to_dict()}, **finetune)
        genotype.save(round_dir / "genotype.json")  # after fine-tuning: a failure leaves none
        rows.append(evaluate_round(genotype, net, refit, round_dir) |
                    {"round": k, "search_finetune_wall_s": round(float(trained["train_s"]), 1)})
    report = pd.DataFrame(rows)
    report["result"] = False
    report.loc[nearest_to_band([r.get("measured_ms") for r in rows], budget), "result"] = True
    return report


def _this_run(rows: list[dict]) -> pd.DataFrame:
    """This run's measured rounds as network-profile rows (NETWORK_COLUMNS' genotype and ms)."""
    return pd.DataFrame([{"genotype": r["genotype"], "measured_ms": r["measured_ms"]} for r in rows
                         if r.get("measured_statistic", STATISTIC) == STATISTIC],
                        columns=["genotype", "measured_ms"])


def _profile_row(measured: dict, table: CostTable, lr_hw) -> dict:
    """A measured network: its cost under the predictor's table and its measured latency."""
    keys = Genotype.from_json(measured["genotype"]).op_keys(lr_hw)
    return {"predicted_ms": table.network_cost(keys)[0], "measured_ms": measured["measured_ms"]}
