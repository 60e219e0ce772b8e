"""Evaluate a saved predictor on the held-out rows of a profile CSV (never its training keys).

    python -m predictors.evaluate --model DIR --profile FILE.csv --out FILE.csv

Writes one row for all held-out kernels and one per op: n, RMSE (ms), MAPE (%), share
within ±5 % / ±10 %, Spearman ρ, and the share of measurements inside mean ± std.
Bad input (no predictor, malformed profile, an --out that is a folder or cannot be written:
checked before any work) → one `error:` line, exit 2, nothing written.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import Parser, check_output_file, cli_main
from devices.timing import PROFILE_COLUMNS
from predictors.metrics import accuracy
from predictors.predictor import KernelPredictor
from predictors.profile_io import read_kernel_profile


def evaluate(model_dir, profile) -> pd.DataFrame:
    """Accuracy table of the predictor in `model_dir` on held-out rows of `profile`."""
    predictor = KernelPredictor.load(model_dir)
    learned = predictor.meta.get("statistic", "median")  # predictors from before it was recorded learned latency_ms
    rows = read_kernel_profile(profile, predictor.device, learned if learned in PROFILE_COLUMNS else "median")
    trained = set(predictor.meta.get("training_keys", []))
    held_out = rows[~rows["key"].astype(str).isin(trained)].reset_index(drop=True)
    if len(held_out) < 2:
        raise ValueError(f"profile {profile} has fewer than two rows outside the training keys")
    mean, std = predictor.predict(held_out)
    y = held_out["latency_ms"].to_numpy()
    scopes = [("all", np.ones(len(y), dtype=bool))] + [
        (f"op={op}", (held_out["op"] == op).to_numpy()) for op in sorted(held_out["op"].unique())]
    records = []
    for scope, mask in scopes:
        if mask.sum() < 2:
            continue
        records.append({"device": predictor.device, "model": predictor.meta.get("model", predictor.model.name),
                        "scope": scope, **accuracy(y[mask], mean[mask]),
                        "within_1std": float((np.abs(mean[mask] - y[mask]) <= std[mask]).mean()),
                        "excluded_training_rows": int(len(rows) - len(held_out)),
                        "measurement_provenance": ";".join(sorted(held_out["provenance"].astype(str).unique())),
                        "provenance": "predicted"})
    return pd.DataFrame(records)


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.evaluate", description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, help="directory written by predictors.train")
    parser.add_argument("--profile", required=True, help="profile CSV with measured rows")
    parser.add_argument("--out", required=True, help="output CSV")
    args = parser.parse_args(argv)
    check_output_file(args.out)
    table = evaluate(args.model, args.profile)
    write_csv_atomic(table, args.out)
    print(table.to_string(index=False))


if __name__ == "__main__":
    main()
