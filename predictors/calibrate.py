"""Few-shot calibration of a device's predictor with a handful (≈10) of real kernel measurements.

    python -m predictors.calibrate --device pixel7 --profile FEW.csv [--out DIR] [--pool CSV]
    python -m predictors.calibrate --device pixel7 --pool CANDIDATES.csv --suggest 10   # what to measure

HELP-style (predictors.fewshot): the base predictor's sources, e.g. the rescaled sibling
rooflines of a transferred predictor (predictors.public.transfer), give every kernel a latency per
source (`src:<sibling>`, ms) and three roofline terms (`t_compute`, `t_memory`, `t_calls`, ms,
geometric mean over sources). On the measured rows (profile-CSV schema, `FEW.csv`) four small
linear models are fitted (ridge on the sources' log-latency principal components, ridge on the
roofline terms — i.e. the target's own compute / memory / launch efficiencies —, both, and a
non-negative mix of the sources) and blended by 1/LOO² (leave-one-out relative error on the
few rows); the blend's σ is its LOO error. A prediction is floored at FLOOR_FRACTION of the
base prediction (predictors.kinds.calibrated_model), so that an extrapolating linear model never returns a non-positive latency.

The result is saved as `predictor.json` (model `fewshot_calibrated`: the base model and the
few-shot blend, plain JSON) in `--out` (default runs/predictors/<device>; the search reads it
with `--predictor DIR` or `CODESIGN_PREDICTORS=runs/predictors`). The base predictor is found as
the search finds it (predictors.store.find_predictor): `--predictor DIR`, else
`$CODESIGN_PREDICTORS/<device>`, else `predictors/trained/<device>`. Its label stays
`transferred` for a transferred base; `meta.calibration` records the measurements used.
Bad input (unknown device, no predictor, empty or malformed profile) → one `error:` line, exit 2.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from codesign_common.cli import (
    Parser,
    UsageError,
    check_output_dir,
    check_output_file,
    cli_main,
    positive_int,
)
from predictors.fewshot import choose_samples, fit_few_shot
from predictors.fused_ops import NoKernelSplit, decompose
from predictors.kinds.calibrated_model import (
    TERM_COLUMNS,
    CalibratedModel,
    source_frame,
)
from predictors.kinds.roofline import FusedRooflineModel
from predictors.predictor import FILE_NAME, KernelPredictor
from predictors.profile_io import data_hash, read_kernel_profile, read_kernel_rows
from predictors.store import find_predictor, predictor_roots

MIN_SHOTS = 3

def _base_model(predictor: KernelPredictor) -> FusedRooflineModel:
    model = predictor.model
    if isinstance(model, CalibratedModel):
        return model.base
    if not isinstance(model, FusedRooflineModel):
        raise ValueError(f"predictor of {predictor.device} is a {model.name!r} model; calibration "
                         f"needs a fused_roofline predictor (predictors.public.transfer)")
    return model


def suggest(predictor: KernelPredictor, candidates: pd.DataFrame, n: int = 10, seed: int = 0) -> np.ndarray:
    """Positions in `candidates` (kernel rows) of the `n` to measure first: k-means in the space
    of the sources' log-latency components and roofline terms (predictors.fewshot.choose_samples)."""
    base = _base_model(predictor)
    frame = source_frame(base, candidates)
    return choose_samples(frame, TERM_COLUMNS, n, seed=seed)


def calibrate(predictor: KernelPredictor, measured: pd.DataFrame,
              pool: pd.DataFrame | None = None) -> KernelPredictor:
    """A new predictor: `predictor`'s base adapted to `measured` kernel rows (profile schema).

    `pool` (kernel rows, unlabelled: e.g. the op instances the search will ask for) joins the
    measured rows in fitting the few-shot embedding (standardization, principal components).
    """
    if len(measured) < MIN_SHOTS:
        raise ValueError(f"calibration needs at least {MIN_SHOTS} measured kernels, got {len(measured)}")
    base = _base_model(predictor)
    rows = measured if pool is None else pd.concat([measured, pool], ignore_index=True)
    frame = source_frame(base, rows)
    fewshot = fit_few_shot(frame, TERM_COLUMNS, np.arange(len(measured)),
                           measured["latency_ms"].to_numpy(dtype=float))
    meta = dict(predictor.meta)
    meta.update(model=CalibratedModel.name,
                training_provenance=sorted(set(meta.get("training_provenance", []))
                                           | set(measured["provenance"].astype(str))),
                calibration={"n_measurements": int(len(measured)), "keys": list(measured["key"].astype(str)),
                             "hash": data_hash(measured), "loo_rel_error": fewshot.loo,
                             "weights": fewshot.weights, "rel_std": fewshot.rel_std,
                             "provenance": sorted(measured["provenance"].astype(str).unique())})
    return KernelPredictor(predictor.device, list(predictor.op_vocab), CalibratedModel(base, fewshot), meta)


def load_device_predictor(device: str, explicit=None) -> KernelPredictor:
    """The predictor of a catalogued device, found as every command finds it
    (predictors.store.find_predictor: `explicit`, $CODESIGN_PREDICTORS/<device>, the committed
    predictors/trained/<device>); ValueError with a one-line reason."""
    from devices.catalog import UnknownDeviceError, get_device

    try:
        get_device(device)
    except UnknownDeviceError as err:
        raise ValueError(str(err)) from None
    path = find_predictor(device, explicit)
    if path is None:
        raise ValueError(f"no predictor for {device} under {' or '.join(map(str, predictor_roots()))} "
                         f"(python -m predictors.public.transfer builds them)")
    return KernelPredictor.load(path)


def _check_priced(rows: pd.DataFrame, what: str) -> None:
    """ValueError naming `what` unless every row is a TopHub kernel or carries its kernel split."""
    try:
        decompose(rows)
    except NoKernelSplit as err:
        raise ValueError(f"{what}: {err}") from None


@cli_main(ValueError, KeyError, OSError, pd.errors.ParserError, pd.errors.EmptyDataError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.calibrate", description=__doc__.split("\n")[0])
    parser.add_argument("--device", required=True, help="catalog device name, e.g. pixel7")
    parser.add_argument("--profile", help="profile CSV of a few measured kernels")
    parser.add_argument("--out", help="output directory (default runs/predictors/<device>)")
    parser.add_argument("--pool", help="optional kernel CSV of unlabelled rows for the embedding")
    parser.add_argument("--predictor", help="base predictor directory (default: $CODESIGN_PREDICTORS/<device>, "
                                            "else predictors/trained/<device>)")
    parser.add_argument("--suggest", type=positive_int, metavar="N",
                        help="print the keys of the N --pool kernels to measure first, and exit")
    args = parser.parse_args(argv)
    if (args.suggest is None) == (args.profile is None):
        raise UsageError("give --profile FEW.csv to calibrate, or --pool CSV --suggest N to choose what to measure")
    out = Path(args.out or Path("runs") / "predictors" / args.device)  # never inside the package
    if args.suggest is None:
        check_output_dir(out)
        check_output_file(out / FILE_NAME)
    predictor = load_device_predictor(args.device, args.predictor)
    pool = None
    if args.pool:
        pool = read_kernel_rows(args.pool)  # columns and numbers, errors name row and column
        _check_priced(pool, args.pool)
    if args.suggest is not None:
        if pool is None or "key" not in pool.columns or not 3 <= args.suggest <= len(pool):
            raise UsageError("--suggest N needs --pool CSV with a key column and at least N rows (N >= 3)")
        print("\n".join(pool["key"].astype(str).iloc[suggest(predictor, pool, args.suggest)]))
        return
    few = read_kernel_profile(args.profile, device=args.device)
    _check_priced(few, args.profile)
    calibrated = calibrate(predictor, few, pool)
    calibrated.save(out, rows=few if pool is None else pd.concat([few, pool], ignore_index=True))
    cal = calibrated.meta["calibration"]
    print(f"{args.device}: calibrated on {cal['n_measurements']} measured kernels "
          f"(LOO rel. error {cal['rel_std']:.3f}); predictions stay "
          f"{calibrated.meta.get('prediction_provenance', 'predicted')} -> {out / FILE_NAME}")


if __name__ == "__main__":
    main()
