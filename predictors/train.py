"""Train a kernel-latency predictor for one device from a profile CSV.

    python -m predictors.train --device NAME --profile FILE.csv [--model xgb] --out DIR

A share `--holdout` of the distinct kernel keys (default 0.2) is kept out of training; the
predictor records the keys it was trained on, and predictors.evaluate never scores them. A
profile too small to leave at least two held-out kernels is refused (`--holdout 0` trains on
every row); the output line says how many rows were trained on and how many held out.
Bad input (unreadable or malformed profile: every error names file, data row and column; an
unwritable --out; a predictor whose predictions are not finite) → one `error:` line, exit 2,
nothing written.
"""
from __future__ import annotations

from codesign_common.cli import (
    Parser,
    check_output_dir,
    check_output_file,
    cli_main,
    nonnegative_int,
    share,
)
from predictors.kinds.models import MODELS
from predictors.predictor import FILE_NAME, KernelPredictor, train_kernel_predictor
from predictors.profile_io import read_kernel_profile, split_keys

MODEL_CHOICES = sorted(m for m, kind in MODELS.items() if kind.trainable and m != "per_op") + [f"per_op-{m}" for m in ("xgb", "rf", "roofline")]
MIN_HELD_OUT = 2  # predictors.evaluate scores nothing on fewer held-out kernels


def train(device: str, profile, model: str = "xgb", out=None, holdout: float = 0.2,
          seed: int = 0) -> KernelPredictor:
    """Train on the rows of `device` in `profile` whose keys fall in the training split; save
    to `out` when given (refused when a prediction for a training row is not finite)."""
    rows = read_kernel_profile(profile, device)
    train_keys, held_keys = split_keys(rows["key"], holdout, seed)
    if holdout > 0 and len(held_keys) < MIN_HELD_OUT:
        raise ValueError(f"profile {profile} has {len(train_keys) + len(held_keys)} distinct kernels"
                         + (f" of {device}" if device else "") + f": --holdout {holdout:g} leaves "
                         f"{len(held_keys)} held out, fewer than {MIN_HELD_OUT} to evaluate on "
                         f"(add rows, raise --holdout, or --holdout 0 to train on all)")
    training = rows[rows["key"].astype(str).isin(set(train_keys))]
    predictor = train_kernel_predictor(training, device, model)
    predictor.meta.update(measured_where(rows, profile))
    predictor.meta.update({"profile": str(profile), "statistic": str(rows["latency_statistic"].iloc[0]),
                           "holdout": holdout, "split_seed": seed,
                           "heldout_keys": int(len(held_keys)),
                           "heldout_rows": int(len(rows) - len(training))})
    if out is not None:
        predictor.save(out, rows=training)
    return predictor


def measured_where(rows, profile) -> dict:
    """The host (``host_id``, ``host``) and runtime (backend) the rows were measured with;
    ValueError when they mix hosts or runtimes (a profile describes one host in one runtime).
    Rows from before host ids were recorded give ``host_id`` None and their ``host`` label."""
    where = {}
    for column, key in (("host_id", "host_id"), ("backend", "runtime"), ("host", "host")):
        values = sorted({str(v) for v in rows[column].dropna() if str(v)}) if column in rows else []
        if len(values) > 1 and column != "host":
            raise ValueError(f"profile {profile} mixes {column}s {', '.join(values)}: fit one host and "
                             f"runtime at a time (select its rows)")
        where[key] = values[0] if len(values) == 1 else None
    return where


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.train", description=__doc__.split("\n")[0])
    parser.add_argument("--device", required=True, help="device name (rows of this device)")
    parser.add_argument("--profile", required=True, help="profile CSV (docs/architecture.md)")
    parser.add_argument("--model", default="xgb", choices=MODEL_CHOICES)
    parser.add_argument("--holdout", type=share, default=0.2, help="share of kernel keys kept out, in [0, 1)")
    parser.add_argument("--seed", type=nonnegative_int, default=0, help="seed of the held-out split")
    parser.add_argument("--out", required=True, help="output directory (predictor.json)")
    args = parser.parse_args(argv)
    check_output_dir(args.out)
    check_output_file(f"{args.out}/{FILE_NAME}")
    predictor = train(args.device, args.profile, args.model, args.out, args.holdout, args.seed)
    meta = predictor.meta
    print(f"trained {args.model} for {args.device} on {meta['training_rows']} rows; "
          f"{meta['heldout_rows']} rows ({meta['heldout_keys']} kernels) held out for "
          f"predictors.evaluate -> {args.out}")


if __name__ == "__main__":
    main()
