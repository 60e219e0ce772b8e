"""Predictors for devices we cannot touch: TopHub ARM CPUs from their public kernel measurements,
and catalogued phones without measurements (pixel7) transferred from measured siblings through
their spec sheets.

A device's cost of a primitive kernel (predictors.fused_ops: `conv2d`, `conv2d_winograd`,
`depthwise_conv2d`, `elementwise`) is a roofline (predictors.kinds.roofline) with three terms per class,

    ms = macs · a_class + bytes · b_class + calls · c_class       (a, b, c ≥ 0)

fitted on the device's TopHub conv2d rows for least relative squared error (NNLS, one class at
a time). The `elementwise` class (PixelShuffle, the residual's extra read) is not in TopHub:
its ms per byte is the geometric mean of the spec-sheet bandwidth (an optimistic bound) and the
median streaming rate measured on the device's depthwise convs (a pessimistic one); half the
log-distance of the two is its own σ. A fused op instance is the sum of its kernels.

Transfer to a target with a spec sheet: each sibling's roofline is rescaled, `a` by the ratio of
peak FP32 FLOP/s (sibling / target: the sibling's per-class compute efficiency is kept), `b` by
the ratio of memory bandwidth, `c` (launch cost) by the ratio of clocks. The target's mean is
the geometric mean of the rescaled siblings; its σ (relative, log space) combines the spread
across siblings with the leave-one-sibling-out transfer error measured among the siblings.

Mobile GPUs (pixel7-gpu) transfer the same way from the TopHub GPUs (`tophub_gpu_profiles`:
the float32 rows of the Mali, Adreno and CUDA logs, as benchmarks.prediction.predictor_tophub builds their
own predictors). A target's catalog entry may name `leave_one_out_siblings`, a wider set of
siblings with spec sheets among which the leave-one-sibling-out error (its σ) is measured, when
fewer than two siblings are averaged (pixel7-gpu: rk3399-mali averaged, the error measured
between rk3399-mali and jetson-tx2).

Everything is stored as plain JSON in `predictor.json` (model names `fused_roofline` and
`fewshot_calibrated`, predictors.kinds.roofline and predictors.kinds.calibrated_model), loadable by `CostModel.load(dir)`.

    python -m predictors.public.transfer --out predictors/trained   # rebuild the committed predictors
    python -m predictors.public.transfer --targets pixel7-gpu --transfer-only   # only the GPU transfer
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from codesign_common import public_data
from codesign_common.cli import Parser, check_output_dir, cli_main
from predictors.fused_ops import TOPHUB_OPS
from predictors.kernel_features import kernel_features
from predictors.kinds.roofline import DeviceSpec, FusedRooflineModel, Roofline
from predictors.predictor import KernelPredictor, library_versions
from predictors.profile_io import data_hash

REPO = Path(__file__).resolve().parents[2]
TOPHUB_LOG = public_data.tophub_log("arm_cpu_v0.08.log")
TRAINED_DIR = REPO / "predictors" / "trained"
TOPHUB_DEVICES = ("snapdragon835", "kirin970", "rk3399", "bcm2837", "pynq")
TOPHUB_DIR = TOPHUB_LOG.parent
# catalog GPU → (TopHub log in TOPHUB_DIR, TopHub device name of predictors.public.import_tophub)
TOPHUB_GPUS = {"rk3399-mali": ("mali_v0.06.log", "rk3399-mali"),
               "adreno": ("adreno_v0.02.log", "generic-adreno"),
               "jetson-nano": ("cuda_v0.10.log", "jetson-nano-cuda"),
               "jetson-tx2": ("cuda_v0.10.log", "tx2-cuda")}
CV_FOLDS = 5


def tophub_profiles(log=TOPHUB_LOG) -> dict[str, pd.DataFrame]:
    """TopHub ARM CPU kernel rows per catalog device name (e.g. `rk3399`; the `device` column
    renamed from TopHub's `rk3399-arm_cpu` to the catalog name), provenance public:tophub."""
    from predictors.public.import_tophub import import_tophub

    profiles = import_tophub(log)
    return {name: profiles[f"{name}-arm_cpu"].assign(device=name) for name in TOPHUB_DEVICES
            if f"{name}-arm_cpu" in profiles}


def tophub_gpu_profiles(devices=tuple(TOPHUB_GPUS), log_dir=TOPHUB_DIR) -> dict[str, pd.DataFrame]:
    """Float32 TopHub kernel rows of catalog GPUs (TOPHUB_GPUS), `device` set to the catalog name
    (the rows benchmarks.prediction.predictor_tophub.gpu_profiles fits the GPUs' own predictors on)."""
    from predictors.public.import_tophub import import_tophub

    out, cache = {}, {}
    for name in devices:
        log, tophub = TOPHUB_GPUS[name]
        if log not in cache:
            cache[log] = import_tophub(Path(log_dir) / log)
        out[name] = cache[log][tophub].assign(device=name)
    return out


def sibling_profiles(names, log=TOPHUB_LOG, log_dir=TOPHUB_DIR) -> dict[str, pd.DataFrame]:
    """TopHub rows of the named catalog devices: ARM CPUs from `log`, GPUs from `log_dir`."""
    names = list(dict.fromkeys(names))
    cpus = [n for n in names if n not in TOPHUB_GPUS]
    out = tophub_profiles(log) if cpus else {}
    out = {n: out[n] for n in cpus if n in out}
    return out | tophub_gpu_profiles([n for n in names if n in TOPHUB_GPUS], log_dir)


def _log_errors(y: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return np.log(np.maximum(pred, 1e-12) / y)


def cross_fitted(rows: pd.DataFrame, spec: DeviceSpec, folds: int = CV_FOLDS, seed: int = 0,
                 target: DeviceSpec | None = None) -> np.ndarray:
    """Held-out roofline predictions (ms) of every row of one device, `folds`-fold grouped by
    key (no workload is both fitted and predicted); rescaled to `target`'s spec when given."""
    keys = rows["key"].astype(str).to_numpy()
    distinct = np.array(sorted(set(keys)))
    order = np.random.default_rng(seed).permutation(len(distinct))
    pred = np.empty(len(rows))
    for fold in range(folds):
        test = np.isin(keys, distinct[order[fold::folds]])
        roof = Roofline.fit(rows[~test], spec)
        if target is not None:
            roof = roof.scaled(spec, target)
        pred[test] = roof.predict_rows(rows[test])
    return pred


def measured_predictor(device: str, rows: pd.DataFrame) -> KernelPredictor:
    """A TopHub device's predictor: its own roofline (all rows); σ = its 5-fold held-out error."""
    spec = DeviceSpec.from_catalog(device)
    cv_err = _log_errors(rows["latency_ms"].to_numpy(), cross_fitted(rows, spec))
    rel_std = float(np.sqrt(np.mean(cv_err ** 2)))
    model = FusedRooflineModel([Roofline.fit(rows, spec)], rel_std)
    meta = {"model": model.name, "training_rows": len(rows), "training_hash": data_hash(rows),
            "training_provenance": sorted(rows["provenance"].astype(str).unique()),
            "training_keys": sorted(rows["key"].astype(str).unique()),
            "prediction_provenance": "predicted", "spec": spec.to_json(),
            "heldout_rms_log_error": rel_std, "heldout_split": f"{CV_FOLDS}-fold grouped by key",
            "training_max_macs": float(rows["macs"].max()),
            "library_versions": library_versions()}
    return KernelPredictor(device, list(TOPHUB_OPS), model, meta)


def transfer_rooflines(profiles: dict[str, pd.DataFrame], siblings: list[str],
                       target: DeviceSpec) -> list[Roofline]:
    """Each sibling's roofline (fitted on all its rows) rescaled to `target`."""
    out = []
    for name in siblings:
        spec = DeviceSpec.from_catalog(name)
        out.append(Roofline.fit(profiles[name], spec).scaled(spec, target))
    return out


def leave_one_sibling_out(profiles: dict[str, pd.DataFrame], siblings: list[str]) -> dict[str, float]:
    """RMS log error of transferring to each sibling from the others (all its rows scored)."""
    return {held: ev["rms_log_error"]
            for held, ev in leave_one_sibling_out_eval(profiles, siblings).items()}


def leave_one_sibling_out_eval(profiles: dict[str, pd.DataFrame], siblings: list[str]) -> dict[str, dict]:
    """Per held-out sibling: accuracy of transferring to it from the others (all its rows)."""
    from predictors.metrics import accuracy

    out = {}
    for held in siblings:
        others = [s for s in siblings if s != held]
        model = FusedRooflineModel(transfer_rooflines(profiles, others, DeviceSpec.from_catalog(held)))
        rows = profiles[held]
        y = rows["latency_ms"].to_numpy()
        mean, _ = model.predict(kernel_features(rows, model_vocab()))
        err = _log_errors(y, mean)
        acc = accuracy(y, mean)
        out[held] = {"from": others, "n": len(rows), "spearman": float(acc["spearman"]),
                     "within_10pct": float(acc["within_10pct"]), "mape_pct": float(acc["mape_pct"]),
                     "rms_log_error": float(np.sqrt(np.mean(err ** 2))),
                     "median_log_ratio": float(np.median(err))}
    return out


def model_vocab() -> list[str]:
    return list(TOPHUB_OPS)


def transferred_predictor(target: str, profiles: dict[str, pd.DataFrame],
                          siblings: list[str] | None = None,
                          loo_siblings: list[str] | None = None) -> KernelPredictor:
    """A predictor for `target` transferred from its catalog siblings (label `transferred`);
    its σ from the leave-one-sibling-out error among `loo_siblings` (default: the catalog's
    `leave_one_out_siblings`, else the siblings themselves)."""
    from devices.catalog import get_device

    entry = get_device(target).predictor
    siblings = list(siblings or entry.get("siblings", []))
    loo_siblings = list(loo_siblings or entry.get("leave_one_out_siblings", []) or siblings)
    missing = [s for s in dict.fromkeys(siblings + loo_siblings) if s not in profiles]
    if not siblings or len(loo_siblings) < 2 or missing:
        raise ValueError(f"{target}: transfer needs at least two measured siblings "
                         f"(catalog names {siblings}, leave-one-out among {loo_siblings}, "
                         f"without measurements: {missing})")
    spec = DeviceSpec.from_catalog(target)
    loo = leave_one_sibling_out(profiles, loo_siblings)
    rel_std = float(np.sqrt(np.mean(np.square(list(loo.values())))))
    model = FusedRooflineModel(transfer_rooflines(profiles, siblings, spec), rel_std)
    rows = pd.concat([profiles[s] for s in siblings], ignore_index=True)
    sibling_prov = sorted(rows["provenance"].astype(str).unique())
    meta = {"model": model.name, "training_rows": len(rows), "training_hash": data_hash(rows),
            "training_provenance": ["transferred"] + [f"{p}:{s}" for s in siblings for p in sibling_prov],
            "prediction_provenance": "transferred", "siblings": siblings,
            "transfer": "sibling rooflines rescaled by spec sheets (peak FP32, bandwidth, clock); "
                        "geometric mean over siblings (predictors.public.transfer)",
            "spec": spec.to_json(),
            "sibling_specs": {s: DeviceSpec.from_catalog(s).to_json() for s in siblings},
            "leave_one_sibling_out_rms_log_error": loo, "rel_std": rel_std,
            "training_keys": [], "library_versions": library_versions()}
    if loo_siblings != siblings:  # σ measured among a wider sibling set than the mean uses
        meta["leave_one_sibling_out_siblings"] = loo_siblings
        meta["sibling_specs"] |= {s: DeviceSpec.from_catalog(s).to_json() for s in loo_siblings}
        meta["leave_one_sibling_out_eval"] = leave_one_sibling_out_eval(profiles, loo_siblings)
        meta["uncertainty"] = (
            f"relative σ (log space) >= rel_std = {rel_std:.2f} (RMS of the leave-one-sibling-out "
            f"errors among {', '.join(loo_siblings)}): one σ is a factor x/÷ {np.exp(rel_std):.1f}")
    return KernelPredictor(target, list(TOPHUB_OPS), model, meta)


def build_transfers(out_dir=TRAINED_DIR, log=TOPHUB_LOG, targets=("pixel7-gpu",),
                    log_dir=TOPHUB_DIR) -> list[Path]:
    """Write predictor.json of the transfer targets only (siblings' rows from `log` / `log_dir`)."""
    from devices.catalog import get_device

    paths = []
    for t in targets:
        entry = get_device(t).predictor
        profiles = sibling_profiles(entry.get("siblings", []) + entry.get("leave_one_out_siblings", []),
                                    log, log_dir)
        paths.append(transferred_predictor(t, profiles).save(Path(out_dir) / t))
    return paths


def build_all(out_dir=TRAINED_DIR, log=TOPHUB_LOG, targets=("pixel7",)) -> list[Path]:
    """Write predictor.json for every TopHub ARM CPU and every transfer target."""
    profiles = tophub_profiles(log)
    paths = [measured_predictor(d, rows).save(Path(out_dir) / d) for d, rows in profiles.items()]
    paths += [transferred_predictor(t, profiles).save(Path(out_dir) / t) for t in targets]
    return paths


@cli_main(ValueError, KeyError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.public.transfer", description=__doc__.split("\n")[0])
    parser.add_argument("--out", default=str(TRAINED_DIR), help="directory of <device>/predictor.json")
    parser.add_argument("--log", default=str(TOPHUB_LOG), help="TopHub ARM CPU log")
    parser.add_argument("--targets", default="pixel7", help="comma-separated devices to transfer to")
    parser.add_argument("--log-dir", default=str(TOPHUB_DIR), help="directory of the TopHub GPU logs")
    parser.add_argument("--transfer-only", action="store_true",
                        help="write only the targets' predictors (not the TopHub ARM CPUs' own)")
    args = parser.parse_args(argv)
    targets = tuple(t for t in args.targets.split(",") if t)
    check_output_dir(args.out)
    paths = (build_transfers(args.out, args.log, targets, args.log_dir) if args.transfer_only
             else build_all(args.out, args.log, targets))
    for path in paths:
        p = KernelPredictor.load(path.parent)
        print(f"{p.device}: {p.meta['prediction_provenance']} ({', '.join(p.meta['training_provenance'])}) -> {path}")


if __name__ == "__main__":
    main()
