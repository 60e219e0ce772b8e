"""NPU latency predictors fitted on Qualcomm AI Hub's whole-model latencies (public:qai-hub).

One predictor per (AI Hub device, runtime, precision), from the CNNs of data/qaihub/features.csv
run on the NPU (primary compute unit ``NPU``):

    latency_ms ≈ overhead + Σ_terms coef · feature        (every coef ≥ 0)

with the features of predictors.public.qaihub_features summed over op classes as each variant of
``VARIANTS`` says (a term is a kind, ``macs``, ``bytes`` or ``n`` for op calls, over a set of
classes), fitted for least relative squared error (predictors.kinds.roofline.nnls_relative). The
variant is chosen by leave-one-model-out MAPE over the CNNs. Variants without ``activation``
(``_fused_act``) treat activations as fused into the op before them, as the search space's op
instances are priced (predictors.fused_ops); ``_free_concat`` variants price a concatenation by
its calls only, not its bytes, as an NPU that writes each input into the output's buffer in place
would run it.

The fitted terms become a roofline (predictors.kinds.roofline.Roofline: ms per MAC, per byte, per call
of the primitive classes ``conv2d``, ``pointwise_conv2d``, ``depthwise_conv2d``, ``elementwise``)
and the overhead the predictor's ``overhead_ms``, so that CostModel prices each op instance of the search space
(its share of a network) as it prices the transferred and TopHub devices, and a network costs
overhead + Σ instances. Its σ is the leave-one-model-out RMS log error; its costs are
labelled ``public:qai-hub, predicted`` (CostModel.provenance, the search report's
``cost_provenance``).

    python -m predictors.public.qaihub_fit --out predictors/trained    # the catalog's NPU predictors
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from codesign_common import public_data
from codesign_common.cli import Parser, UsageError, cli_main
from predictors.fused_ops import TOPHUB_OPS
from predictors.kinds.roofline import FusedRooflineModel, Roofline, nnls_relative
from predictors.metrics import accuracy, within
from predictors.predictor import KernelPredictor, library_versions
from predictors.profile_io import data_hash
from predictors.public.qaihub_features import CLASSES, read_features

PERF_CSV = public_data.QAIHUB_DIR / "perf.csv.gz"
FITTED_RUNTIMES = ("tflite", "qnn_dlc", "onnx")
FITTED_PRECISIONS = ("float", "w8a8")
MIN_MODELS = 8
PREDICTION_PROVENANCE = "public:qai-hub, predicted"  # the label of every cost these predictors give
DENSE = ("conv", "pwconv", "matmul")
DENSE_MACS = (("conv",), ("pwconv", "matmul"))
"""Dense MACs are priced by two rates: k×k convolutions, and 1×1 convolutions with matrix products
(the same arithmetic: one MAC per input element per output channel)."""
MEMORY = ("pool", "elementwise", "activation", "concat", "movement")


def _variants() -> dict[str, list[tuple[str, tuple[str, ...]]]]:
    out = {}
    for fused, free_concat in ((False, False), (True, False), (False, True), (True, True)):
        every = tuple(c for c in CLASSES if not (fused and c == "activation"))
        priced = tuple(c for c in every if not (free_concat and c == "concat"))  # by their bytes
        memory = tuple(c for c in MEMORY if c in priced)
        suffix = ("_fused_act" if fused else "") + ("_free_concat" if free_concat else "")
        if not free_concat:  # MACs-only variants price no bytes, so they have no free-concat twin
            out |= {f"macs{suffix}": [("macs", every)],
                    f"macs_calls{suffix}": [("macs", every), ("n", every)]}
        dense = [("macs", classes) for classes in DENSE_MACS] + [("macs", ("dwconv",))]
        out |= {f"roofline{suffix}": [*dense, ("bytes", priced)],
                f"roofline_calls{suffix}": [*dense, ("bytes", priced), ("n", every)],
                f"classes{suffix}": [*dense, ("bytes", DENSE), ("bytes", ("dwconv",)),
                                     ("bytes", memory), ("n", every)]}
    return out


VARIANTS = _variants()


def design(features: pd.DataFrame, variant: str) -> np.ndarray:
    """(models, 1 + terms) matrix: a column of ones (the overhead) and each term's feature sum."""
    cols = [np.ones(len(features))]
    for kind, classes in VARIANTS[variant]:
        cols.append(features[[f"{kind}:{c}" for c in classes]].to_numpy(float).sum(axis=1))
    return np.column_stack(cols)


def fit(features: pd.DataFrame, latency_ms: np.ndarray, variant: str) -> np.ndarray:
    """Non-negative [overhead_ms, coef per term] for least relative squared error."""
    return nnls_relative(design(features, variant), np.asarray(latency_ms, float))


def predict(features: pd.DataFrame, coef: np.ndarray, variant: str) -> np.ndarray:
    """Whole-model latency (ms) of each feature row."""
    return design(features, variant) @ coef


def leave_one_out(features: pd.DataFrame, latency_ms: np.ndarray, variant: str) -> np.ndarray:
    """Prediction (ms) of every model by the fit on all the others."""
    y = np.asarray(latency_ms, float)
    out = np.empty(len(y))
    for i in range(len(y)):
        keep = np.arange(len(y)) != i
        out[i] = predict(features.iloc[[i]], fit(features.iloc[keep], y[keep], variant), variant)[0]
    return out


def choose(features: pd.DataFrame, latency_ms: np.ndarray) -> tuple[str, dict[str, dict]]:
    """The variant of least leave-one-model-out MAPE, and every variant's LOO accuracy
    (predictors.metrics.accuracy plus ``within_20pct``)."""
    y = np.asarray(latency_ms, float)
    scores = {}
    for variant in VARIANTS:
        pred = leave_one_out(features, y, variant)
        scores[variant] = accuracy(y, pred) | {"within_20pct": float(within(y, pred, 0.20).mean()),
                                               "rms_log_error": float(np.sqrt(np.mean(np.log(np.maximum(pred, 1e-9) / y) ** 2)))}
    best = min(scores, key=lambda v: scores[v]["mape_pct"])
    return best, scores


def roofline(device: str, coef: np.ndarray, variant: str) -> Roofline:
    """The fitted terms as ms per MAC / byte / call of the primitive classes op instances are
    priced by (predictors.fused_ops): conv2d (and its winograd twin) from the terms holding
    `conv`, pointwise_conv2d from those holding `pwconv`, depthwise_conv2d from those holding
    `dwconv`, elementwise (no MACs) from those holding `elementwise` (the residual add;
    PixelShuffle is `movement`, always in the same term)."""
    def rate(kind: str, cls: str) -> float:
        return float(sum(c for (k, classes), c in zip(VARIANTS[variant], coef[1:])
                         if k == kind and cls in classes))

    def rates(cls: str) -> list[float]:
        return [rate("macs", cls), rate("bytes", cls), rate("n", cls)]

    conv, ew = rates("conv"), [0.0, rate("bytes", "elementwise"), rate("n", "elementwise")]
    return Roofline(device, {"conv2d": conv, "conv2d_winograd": conv, "pointwise_conv2d": rates("pwconv"),
                             "depthwise_conv2d": rates("dwconv"), "elementwise": ew}, 0.0)


def read_perf(path=PERF_CSV) -> pd.DataFrame:
    """The imported AI Hub rows (predictors.public.import_qaihub)."""
    try:
        return pd.read_csv(path)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as err:
        raise ValueError(f"cannot read {path}: {str(err).splitlines()[0]}") from None


def training_rows(perf: pd.DataFrame, features: pd.DataFrame, hub_device: str, runtime: str,
                  precision: str) -> pd.DataFrame:
    """The NPU jobs of (device, runtime, precision) of the models with features, joined with
    them, one row per model."""
    sel = perf[(perf["device"] == hub_device) & (perf["runtime"] == runtime)
               & (perf["precision"] == precision) & (perf["compute_unit"] == "NPU")]
    return sel.merge(features, on="model", suffixes=("", "_f")).drop_duplicates("model").reset_index(drop=True)


def npu_latencies(perf: pd.DataFrame, hub_device: str, runtime: str, precision: str) -> pd.Series:
    """AI Hub's measured latency (ms) of every network run on the NPU in (device, runtime,
    precision), by network: the zoo model id, or ``model:component`` for a model of several
    components (the importer's ``key`` without its ``network:`` prefix)."""
    sel = perf[(perf["device"] == hub_device) & (perf["runtime"] == runtime)
               & (perf["precision"] == precision) & (perf["compute_unit"] == "NPU")]
    return sel.set_index(sel["key"].str.removeprefix("network:"))["latency_ms"]


def fit_device(perf: pd.DataFrame, features: pd.DataFrame, hub_device: str, runtime: str,
               precision: str) -> dict:
    """Rows, chosen variant, LOO scores and coefficients of one (device, runtime, precision);
    ValueError below MIN_MODELS models."""
    rows = training_rows(perf, features, hub_device, runtime, precision)
    if len(rows) < MIN_MODELS:
        raise ValueError(f"{hub_device} {runtime} {precision}: {len(rows)} CNN models on the NPU, "
                         f"need {MIN_MODELS}")
    y = rows["latency_ms"].to_numpy(float)
    variant, scores = choose(rows, y)
    return {"rows": rows, "variant": variant, "scores": scores, "coef": fit(rows, y, variant)}


def npu_predictor(device: str, hub_device: str, runtime: str, precision: str,
                  perf: pd.DataFrame | None = None, features: pd.DataFrame | None = None) -> KernelPredictor:
    """The catalog device's predictor: the chosen variant fitted on every CNN of its AI Hub
    (device, runtime, precision), as a fused roofline + overhead."""
    perf = read_perf() if perf is None else perf
    features = read_features() if features is None else features
    fitted = fit_device(perf, features, hub_device, runtime, precision)
    rows, variant, coef = fitted["rows"], fitted["variant"], fitted["coef"]
    loo = fitted["scores"][variant]
    model = FusedRooflineModel([roofline(device, coef, variant)], loo["rms_log_error"])
    meta = {"model": f"qaihub_npu:{variant}", "training_rows": int(len(rows)),
            "training_hash": data_hash(rows[["model", "latency_ms"]]),
            "training_provenance": ["public:qai-hub"], "training_models": sorted(rows["model"]),
            "prediction_provenance": PREDICTION_PROVENANCE,
            "source": {"hub_device": hub_device, "runtime": runtime, "precision": precision,
                       "compute_unit": "NPU", "commit": str(rows["commit"].iloc[0])},
            "variant": variant, "terms": [[k, list(c)] for k, c in VARIANTS[variant]],
            "coef": coef.tolist(), "leave_one_model_out": loo,
            "heldout_eval": loo, "heldout_rms_log_error": loo["rms_log_error"],  # as predictors.list reads them
            "variants_leave_one_model_out": fitted["scores"], "library_versions": library_versions()}
    return KernelPredictor(device, list(TOPHUB_OPS), model, meta, overhead_ms=float(coef[0]))


def catalog_npus() -> dict[str, dict]:
    """Catalog devices whose predictor comes from AI Hub: name → predictor.assumes."""
    from devices.catalog import list_devices

    return {d.name: d.predictor["assumes"] for d in list_devices()
            if str(d.predictor.get("source", "")).startswith("public:qai-hub")}


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.public.qaihub_fit", description=__doc__.split("\n")[0])
    parser.add_argument("--out", required=True, help="root folder: writes <out>/<device>/predictor.json")
    parser.add_argument("--devices", nargs="+", help="catalog names (default: every AI Hub NPU entry)")
    args = parser.parse_args(argv)
    npus = catalog_npus()
    names = args.devices or sorted(npus)
    unknown = [n for n in names if n not in npus]
    if unknown:
        raise UsageError(f"not AI Hub NPU catalog entries: {', '.join(unknown)}; known: {', '.join(sorted(npus))}")
    perf, features = read_perf(), read_features()
    predictors = {n: npu_predictor(n, npus[n]["hub_device"], npus[n]["runtime"], npus[n]["precision"],
                                   perf, features) for n in names}
    for name, p in predictors.items():
        path = p.save(Path(args.out) / name)
        loo = p.meta["leave_one_model_out"]
        print(f"{name}: {p.meta['variant']} on {p.meta['training_rows']} CNNs, leave-one-model-out "
              f"MAPE {loo['mape_pct']:.1f} %, rho {loo['spearman']:.3f}, "
              f"{100 * loo['within_20pct']:.0f} % within ±20 % -> {path.parent}")


if __name__ == "__main__":
    main()
