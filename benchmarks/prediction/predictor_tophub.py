"""Conv-kernel latency predictors for the ARM CPUs and the mobile/embedded GPUs of TVM's
TopHub, on held-out workloads; and the committed predictors of the TopHub GPUs.

    python -m benchmarks.prediction.predictor_tophub [--log FILE.log ...] [--folds 5] [--repeats 2] [--out FILE.csv]
    python -m benchmarks.prediction.predictor_tophub --save-predictors [predictors/trained]   # + rebuild GPU predictors

Imports each TopHub log (predictors.public.import_tophub; default: the ARM CPU, Mali, Adreno and CUDA
logs of data/latency/tophub, tlc-pack/tophub f05376e), then for every device with at
least `--min-kernels` distinct workloads runs `--repeats` × `--folds`-fold cross-validation
grouped by workload key (a workload is never both trained on and scored), for each model.
Writes benchmarks/results/predictor_tophub.csv: mean and std over folds of RMSE (ms),
MAPE (%), ±5 % / ±10 % shares and Spearman ρ on the held-out kernels.

`fused_roofline` is the model the committed predictors use (predictors.public.transfer: per primitive
class ms = macs·a + bytes·b + calls·c, NNLS for least relative error; it also prices the search
space's fused op instances through predictors.fused_ops). Here it is fitted by `fit_roofline`,
which equals `Roofline.fit` where the device has rows of all three TopHub classes and a
spec-sheet bandwidth (the ARM CPUs, the Jetsons' bandwidths), and otherwise prices a missing
winograd class as direct conv2d (jetson-nano has no winograd workload) and the elementwise class
from the measured depthwise convs alone (no bandwidth on the sheet: adreno). Its `within_1std`
uses the training fold's in-sample RMS log error as σ.

`--save-predictors` writes predictors/trained/<device>/predictor.json for the TopHub GPUs of the
catalog (GPU_DEVICES): the model among those that can price every op instance of the search
space (FUSED_CAPABLE) with the lowest held-out MAPE over the same folds, fitted on all float32
rows of the device; meta holds the held-out accuracy (`heldout_eval`, and
`heldout_rms_log_error` as the ARM predictors record it) and every evaluated model's numbers.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from benchmarks.benchmark_args import REPO, benchmark_parser
from codesign_common import public_data
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, fail
from predictors.fused_ops import TOPHUB_OPS, decompose
from predictors.kernel_features import kernel_features
from predictors.kinds.models import create
from predictors.kinds.roofline import (
    FITTED_CLASSES,
    FusedRooflineModel,
    Roofline,
    nnls_relative,
)
from predictors.metrics import accuracy
from predictors.predictor import KernelPredictor, library_versions
from predictors.profile_io import data_hash
from predictors.public.import_tophub import import_tophub
from predictors.public.transfer import CV_FOLDS

TOPHUB_DIR = public_data.TOPHUB_DIR
DEFAULT_LOG = TOPHUB_DIR / "arm_cpu_v0.08.log"
GPU_LOGS = [TOPHUB_DIR / name for name in ("mali_v0.06.log", "adreno_v0.02.log", "cuda_v0.10.log")]
DEFAULT_LOGS = [DEFAULT_LOG] + GPU_LOGS
DEFAULT_OUT = REPO / "benchmarks" / "results" / "predictor_tophub.csv"
TRAINED_DIR = REPO / "predictors" / "trained"
MODELS = ["xgb", "per_op-xgb", "rf", "roofline", "flops", "fused_roofline"]
FUSED_CAPABLE = ["fused_roofline"]  # models that price the search space's fused op instances
METRICS = ["rmse_ms", "mape_pct", "within_5pct", "within_10pct", "spearman"]
# TopHub device (predictors.public.import_tophub.device_name) → catalog device (devices/catalog)
CATALOG_NAMES = {"snapdragon835-arm_cpu": "snapdragon835", "kirin970-arm_cpu": "kirin970",
                 "rk3399-arm_cpu": "rk3399", "bcm2837-arm_cpu": "bcm2837", "pynq-arm_cpu": "pynq",
                 "rk3399-mali": "rk3399-mali", "generic-adreno": "adreno",
                 "jetson-nano-cuda": "jetson-nano", "tx2-cuda": "jetson-tx2"}
GPU_DEVICES = {"rk3399-mali": "mali_v0.06.log", "adreno": "adreno_v0.02.log",
               "jetson-nano": "cuda_v0.10.log", "jetson-tx2": "cuda_v0.10.log"}


def catalog_spec(tophub_device: str) -> dict:
    """Spec-sheet numbers of the catalog device behind a TopHub device (None where the sheet
    or the catalog has none): peak_gflops, bandwidth_gbs, clock_ghz."""
    name = CATALOG_NAMES.get(tophub_device)
    out = {"name": name or tophub_device, "peak_gflops": None, "bandwidth_gbs": None, "clock_ghz": None}
    if name is None:
        return out
    from devices.catalog import get_device

    spec = get_device(name).spec
    for key, field in (("peak_gflops", "peak_fp32_gflops"), ("bandwidth_gbs", "mem_bandwidth_gbs"),
                       ("clock_ghz", "clock_ghz")):
        value = spec.get(field, {}).get("value")
        out[key] = float(value) if isinstance(value, (int, float)) else None
    return out


def fit_roofline(rows: pd.DataFrame, name: str, bandwidth_gbs: float | None) -> Roofline:
    """predictors.kinds.roofline.Roofline.fit, tolerant of a device without winograd rows (priced as
    direct conv2d) and without a spec-sheet bandwidth (elementwise priced at the median ms per
    byte of the device's depthwise convs, σ = the log spread of that rate); identical to
    Roofline.fit otherwise."""
    prims = decompose(rows)
    y = rows["latency_ms"].to_numpy(dtype=float)[prims["instance"].to_numpy()]
    coef = {}
    for cls in FITTED_CLASSES:
        part = (prims["primitive"] == cls).to_numpy()
        if part.sum() >= 3:
            A = prims.loc[part, ["macs", "bytes", "calls"]].to_numpy(dtype=float)
            coef[cls] = nnls_relative(A, y[part]).tolist()
    for needed in ("conv2d", "depthwise_conv2d"):
        if needed not in coef:
            raise ValueError(f"{name}: fewer than 3 {needed} rows")
    coef.setdefault("conv2d_winograd", list(coef["conv2d"]))
    dw = (prims["primitive"] == "depthwise_conv2d").to_numpy()
    rate = y[dw] / prims.loc[dw, "bytes"].to_numpy()  # ms per byte
    measured = float(np.median(rate))
    if bandwidth_gbs:
        spec_bound = 1.0 / (bandwidth_gbs * 1e6)
        price, sigma = float(np.sqrt(measured * spec_bound)), float(0.5 * abs(np.log(measured / spec_bound)))
    else:
        price, sigma = measured, float(np.std(np.log(rate)))
    coef["elementwise"] = [0.0, price, coef["conv2d"][2]]
    return Roofline(name, coef, sigma)


def _rms_log(y: np.ndarray, pred: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.log(np.maximum(pred, 1e-12) / y) ** 2)))


def _fold_masks(keys: np.ndarray, folds: int, seed: int):
    """Test masks of `folds` folds of the distinct keys, in the order predictors.public.transfer uses."""
    distinct = np.array(sorted(set(keys)))
    order = np.random.default_rng(seed).permutation(len(distinct))
    for fold in range(folds):
        test_keys = set(distinct[order[fold::folds]])
        yield np.array([k in test_keys for k in keys])


def cross_validate(rows: pd.DataFrame, model: str, folds: int, repeats: int,
                   bandwidth_gbs: float | None = None) -> list[dict]:
    """Held-out metrics per fold; folds split the distinct workload keys."""
    op_vocab = sorted(rows["op"].unique())
    X = kernel_features(rows, op_vocab)
    y = rows["latency_ms"].to_numpy()
    keys = rows["key"].to_numpy()
    results = []
    for repeat in range(repeats):
        for test in _fold_masks(keys, folds, repeat):
            if model == "fused_roofline":
                train = rows[~test]
                roof = fit_roofline(train, str(rows["device"].iloc[0]), bandwidth_gbs)
                sigma = _rms_log(y[~test], roof.predict_rows(train))
                mean = roof.predict_rows(rows[test])
                std = mean * sigma
            else:
                fitted = create(model).fit(X[~test], y[~test])
                mean, std = fitted.predict(X[test])
            results.append({**accuracy(y[test], mean),
                            "within_1std": float((np.abs(mean - y[test]) <= std).mean())})
    return results


def evaluate_device(rows: pd.DataFrame, model: str, folds: int, repeats: int, source: str) -> dict:
    """One CSV record: mean and std over folds of every metric of `model` on `rows`."""
    device = str(rows["device"].iloc[0])
    bandwidth = catalog_spec(device)["bandwidth_gbs"]
    per_fold = pd.DataFrame(cross_validate(rows, model, folds, repeats, bandwidth))
    record = {"device": device, "model": model, "kernels": len(rows),
              "ops": ";".join(sorted(rows["op"].unique())), "folds": folds, "repeats": repeats,
              "n_test_mean": float(per_fold["n"].mean())}
    for metric in METRICS + ["within_1std"]:
        record[metric] = float(per_fold[metric].mean())
        record[metric + "_std"] = float(per_fold[metric].std(ddof=0))
    record.update(split="grouped by workload key", source=source,
                  measurement_provenance="public:tophub", provenance="predicted")
    return record


def run(logs, folds: int, repeats: int, min_kernels: int, models: list[str]) -> pd.DataFrame:
    logs = [logs] if isinstance(logs, (str, Path)) else list(logs)
    jobs = []
    for log in logs:
        profiles = import_tophub(log)
        found = [(d, m, log, rows) for d, rows in profiles.items()
                 if rows["key"].nunique() >= min_kernels for m in models]
        if not found:
            raise ValueError(f"no device in {log} has {min_kernels} distinct workloads")
        jobs += found
    records = []
    for device, model, log, rows in tqdm(jobs, desc="device × model"):
        records.append(evaluate_device(rows, model, folds, repeats, Path(log).name))
    return pd.DataFrame(records)


def gpu_profiles(log_dir=TOPHUB_DIR) -> dict[str, pd.DataFrame]:
    """Float32 TopHub rows of every catalog GPU of GPU_DEVICES, `device` set to the catalog name."""
    inverse = {v: k for k, v in CATALOG_NAMES.items()}
    out, cache = {}, {}
    for device, log in GPU_DEVICES.items():
        if log not in cache:
            cache[log] = import_tophub(Path(log_dir) / log)
        out[device] = cache[log][inverse[device]].assign(device=device)
    return out


def gpu_predictor(device: str, rows: pd.DataFrame, folds: int = CV_FOLDS, repeats: int = 2,
                  models=tuple(MODELS), table: pd.DataFrame | None = None) -> KernelPredictor:
    """The committed predictor of a TopHub GPU (module docstring): every model of `models`
    cross-validated like the benchmark (rows of `table`, the benchmark's, where it has them),
    the best FUSED_CAPABLE one by held-out MAPE fitted on all rows."""
    tophub = {v: k for k, v in CATALOG_NAMES.items()}[device]
    rows = rows.reset_index(drop=True)
    evaluated = {}
    for m in models:
        done = None if table is None else table[(table["device"] == tophub) & (table["model"] == m)
                                                & (table["folds"] == folds) & (table["repeats"] == repeats)]
        evaluated[m] = (done.iloc[0].to_dict() if done is not None and len(done)
                        else evaluate_device(rows.assign(device=tophub), m, folds, repeats, GPU_DEVICES[device]))
    capable = [m for m in models if m in FUSED_CAPABLE]
    if not capable:
        raise ValueError(f"none of {list(models)} prices the search space's fused op instances")
    chosen = min(capable, key=lambda m: evaluated[m]["mape_pct"])
    spec = catalog_spec(tophub) | {"name": device}
    # σ as the ARM predictors record it (predictors.public.transfer.measured_predictor): RMS log error
    # of the 5-fold (seed 0) held-out predictions of all rows
    y = rows["latency_ms"].to_numpy(dtype=float)
    pred = np.empty(len(rows))
    for test in _fold_masks(rows["key"].astype(str).to_numpy(), folds, 0):
        pred[test] = fit_roofline(rows[~test], device, spec["bandwidth_gbs"]).predict_rows(rows[test])
    rel_std = _rms_log(y, pred)
    model = FusedRooflineModel([fit_roofline(rows, device, spec["bandwidth_gbs"])], rel_std)
    e = evaluated[chosen]
    meta = {"model": model.name, "training_rows": int(len(rows)), "training_hash": data_hash(rows),
            "training_provenance": sorted(rows["provenance"].astype(str).unique()),
            "training_keys": sorted(rows["key"].astype(str).unique()),
            "prediction_provenance": "predicted", "spec": spec,
            "heldout_rms_log_error": rel_std, "heldout_split": f"{folds}-fold grouped by key",
            "heldout_eval": {k: e[k] for k in ["mape_pct", "within_10pct", "within_5pct", "spearman",
                                                "rmse_ms", "within_1std"]}
                            | {"split": f"{repeats} x {folds}-fold grouped by workload key",
                               "benchmark": "benchmarks/results/predictor_tophub.csv"},
            "model_selection": {
                "rule": "lowest held-out MAPE among models that price every op instance of the "
                        f"search space ({', '.join(capable)}); the others are kernel-only models",
                "heldout": {m: {k: r[k] for k in ["mape_pct", "within_10pct", "spearman"]}
                            for m, r in evaluated.items()}},
            "tophub": {"log": f"data/latency/tophub/{GPU_DEVICES[device]}",
                       "origin": "tlc-pack/tophub f05376e (AutoTVM best schedules)",
                       "device": tophub, "dtype": "float32"},
            "training_max_macs": float(rows["macs"].max()),
            "library_versions": library_versions()}
    return KernelPredictor(device, list(TOPHUB_OPS), model, meta)


def save_gpu_predictors(out_dir=TRAINED_DIR, log_dir=TOPHUB_DIR, folds: int = CV_FOLDS,
                        repeats: int = 2, table: pd.DataFrame | None = None) -> list[Path]:
    return [gpu_predictor(d, rows, folds, repeats, table=table).save(Path(out_dir) / d)
            for d, rows in gpu_profiles(log_dir).items()]


@cli_main()
def main(argv=None) -> None:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--log", nargs="+", default=[str(p) for p in DEFAULT_LOGS],
                        help="TopHub logs (default: ARM CPU, Mali, Adreno, CUDA)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=2, help="random fold assignments")
    parser.add_argument("--min-kernels", type=int, default=100, help="skip devices with fewer workloads")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--out", default=str(DEFAULT_OUT))
    parser.add_argument("--save-predictors", nargs="?", const=str(TRAINED_DIR), default=None,
                        metavar="DIR", help="also write the TopHub GPU predictors (default dir %(const)s)")
    args = parser.parse_args(argv)
    if args.folds < 2 or args.repeats < 1:
        fail("--folds must be >= 2 and --repeats >= 1")
    try:
        table = run(args.log, args.folds, args.repeats, args.min_kernels, args.models.split(","))
    except ValueError as err:
        fail(str(err))
    write_csv_atomic(table, args.out)
    print(table[["device", "model", "mape_pct", "within_10pct", "spearman"]].to_string(index=False))
    if args.save_predictors:
        try:
            paths = save_gpu_predictors(args.save_predictors, TOPHUB_DIR, args.folds, args.repeats, table)
        except (ValueError, KeyError) as err:
            fail(str(err))
        for path in paths:
            e = KernelPredictor.load(path.parent).meta["heldout_eval"]
            print(f"{path}: held-out MAPE {e['mape_pct']:.1f} %, ±10 % {e['within_10pct']:.2f}, "
                  f"rho {e['spearman']:.3f}")


if __name__ == "__main__":
    main()
