"""Train a kernel-latency predictor for one device from a profile CSV.

    python -m predictors.train --device NAME --profile FILE.csv [--model xgb] --out DIR

A share `--holdout` of the distinct kernel keys (default 0.2) is kept out of training; the
predictor records the keys it was trained on, and predictors.evaluate never scores them.
"""
from __future__ import annotations

import argparse

from predictors.cli_util import fail
from predictors.models import MODELS
from predictors.predictor import KernelPredictor, train_kernel_predictor
from predictors.profile_io import read_kernel_profile, split_keys

MODEL_CHOICES = [m for m in MODELS if m != "per_op"] + [f"per_op-{m}" for m in ("xgb", "rf", "roofline")]


def train(device: str, profile, model: str = "xgb", out=None, holdout: float = 0.2,
          seed: int = 0) -> KernelPredictor:
    """Train on the rows of `device` in `profile` whose keys fall in the training split; save
    to `out` when given."""
    rows = read_kernel_profile(profile, device)
    train_keys, _ = split_keys(rows["key"], holdout, seed)
    training = rows[rows["key"].astype(str).isin(set(train_keys))]
    predictor = train_kernel_predictor(training, device, model)
    predictor.meta.update({"profile": str(profile), "holdout": holdout, "split_seed": seed})
    if out is not None:
        predictor.save(out)
    return predictor


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m predictors.train", description=__doc__.split("\n")[0])
    parser.add_argument("--device", required=True, help="device name (rows of this device)")
    parser.add_argument("--profile", required=True, help="profile CSV (docs/architecture.md)")
    parser.add_argument("--model", default="xgb", choices=MODEL_CHOICES)
    parser.add_argument("--holdout", type=float, default=0.2, help="share of kernel keys kept out")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out split")
    parser.add_argument("--out", required=True, help="output directory (predictor.json)")
    args = parser.parse_args(argv)
    try:
        predictor = train(args.device, args.profile, args.model, args.out, args.holdout, args.seed)
    except ValueError as err:
        fail(str(err))
    print(f"trained {args.model} for {args.device} on {predictor.meta['training_rows']} rows -> {args.out}")


if __name__ == "__main__":
    main()
