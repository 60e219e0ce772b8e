"""NPU predictors from Qualcomm AI Hub's whole-model latencies: leave-one-model-out over the CNNs
and the eight SR models held out, per AI Hub device, runtime and precision.

    python -m benchmarks.prediction.predictor_qaihub [--out benchmarks/results/predictor_qaihub.csv]

For every (device, runtime, precision) of data/qaihub/perf.csv.gz with at least
``predictors.public.qaihub_fit.MIN_MODELS`` of the featured CNNs (data/qaihub/features.csv) on the NPU,
the variant of least leave-one-model-out MAPE is fitted (predictors.public.qaihub_fit). Its
leave-one-model-out MAPE, Spearman ρ and shares within ±10 % / ±20 % over the CNNs are a row of
``part`` fit of ``predictor_qaihub.csv``. The SR models never enter a fit: they are built from
codesign.models at the zoo's 1×3×128×128 ×4 input (``SR_MODELS``), their features counted, their
latency predicted by the fit on all CNNs and compared with AI Hub's measured times, one row of
``part`` sr per model and group, and summarised (how many within ±20 %) in the group's fit row.
Models of families the fit's design never saw, written after it was fixed and never in a fit,
are predicted alike: rows of ``part`` unseen, their ``family`` the zoo's two inpainters
(predictors.public.zoo_inpainters: dilated convolutions, which no fitted CNN has), its six
Cityscapes segmenters from third-party code (predictors.public.zoo_segmenters: FFNet, DDRNet;
dense ResNet-style convolutions, the fit's kind, on large maps) or thirteen small-map CNNs, at
most 320 px a side like the SR models' 128×128 (``small_map``: the MediaPipe detectors and
landmark regressors, predictors.public.zoo_mediapipe; face attributes, CavaFace and the PPE
detector, zoo_face_ppe; DLA-102-X and SINet, zoo_dla_sinet; HRNet-W32 and Lite-HRNet-18 pose,
zoo_pose_hrnet), each family summarised in the fit rows. A model of several components is one
row per component (``model:component``). Rows of ``part`` pooled ask whether the design could
describe all these families at once: per runtime on the catalog NPUs' AI Hub devices in float,
the fit on the fitted and the unseen CNNs together, its leave-one-model-out accuracy, each family
predicted by the fit on the others (leave-one-family-out) and the SR models by the fit on all
(never shipped: the catalog's predictors are the ``fit`` rows).
Every measured number is ``public:qai-hub`` (Qualcomm's AI Hub device farm), every other one
``predicted``.

    python -m benchmarks.prediction.predictor_qaihub --searches RUN_DIR ... [--device galaxy-s24-npu]

        [--schedule demo] [--work runs/predictor_qaihub]

also writes the rows of ``part`` search (a run without ``--searches`` keeps those already there,
benchmarks.host_rows): each finished search run (its report.csv and
genotype.json) beside XLSR, SESR-M5 and QuickSRNet S/M/L on the catalog device: the run's cost
(the op-instance table the search used) and, for every network, the whole-model prediction of
the device's fit from its counted features (a check that the op-instance shares add up to what
the whole-model fit says), AI Hub's measured time where there is one, and PSNR on Set5 ×4 (Y,
4 px shaved) beside bicubic's: the search's own (report.csv) and, for the reference networks,
after training them here alike at ``--schedule`` (its steps, batch, patch, learning rate and
data: benchmarks.quality.baselines.train_reference, in ``--work``, reused when finished); the
searches should be run at the same schedule (each row names its steps).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from benchmarks.host_rows import replace_rows
from benchmarks.quality.baselines import reference_run_dir, train_reference
from benchmarks.quality.sr_quality import quality_rows
from codesign.space.genotype import Genotype, TrilevelNet
from codesign.sr.models import build_model
from codesign.sr.schedules import SCHEDULES, Schedule
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import check_output_dir, check_output_file, cli_main
from predictors.metrics import relative_error, within
from predictors.public import qaihub_fit
from predictors.public.qaihub_features import feature_row, read_features
from predictors.public.zoo_dla_sinet import ZOO_DLA_SINET
from predictors.public.zoo_face_ppe import ZOO_FACE_PPE
from predictors.public.zoo_inpainters import ZOO_INPAINTERS
from predictors.public.zoo_mediapipe import ZOO_MEDIAPIPE
from predictors.public.zoo_pose_hrnet import ZOO_POSE_HRNET
from predictors.public.zoo_segmenters import ZOO_SEGMENTERS

# zoo model id → codesign.models name; every one at ×4 on a 128×128 input (the zoo's get_input_spec)
SR_MODELS = {"xlsr": "xlsr", "sesr_m5": "sesr_m5", "quicksrnetsmall": "quicksrnet_small",
             "quicksrnetmedium": "quicksrnet_medium", "quicksrnetlarge": "quicksrnet_large",
             "real_esrgan_general_x4v3": "srvgg_compact", "real_esrgan_x4plus": "rrdbnet",
             "esrgan": "rrdbnet"}
SR_INPUT = (1, 3, 128, 128)
SR_SCALE = 4
FIT, SR, UNSEEN, POOLED, SEARCH = "fit", "sr", "unseen", "pooled", "search"
"""Values of the ``part`` column: a fitted (device, runtime, precision) group, an SR model held out
of its group's fit, a model of a family held out of it and unseen while the fit was designed, a
group fitted on every family at once (a diagnosis, not shipped), a search run or reference network
on a catalog NPU."""
UNSEEN_FAMILIES = {"inpainter": ZOO_INPAINTERS, "segmenter": ZOO_SEGMENTERS,
                   "small_map": {**ZOO_MEDIAPIPE, **ZOO_FACE_PPE, **ZOO_DLA_SINET, **ZOO_POSE_HRNET}}
"""family → zoo model id → (builder, input shape, architecture source): the unseen models."""


def sr_features() -> pd.DataFrame:
    """Features of the eight SR models as the zoo times them."""
    return pd.DataFrame([feature_row(zoo, build_model(name, scale=SR_SCALE), SR_INPUT,
                                     f"codesign.models {name} x{SR_SCALE}")
                         for zoo, name in SR_MODELS.items()])


def unseen_features() -> pd.DataFrame:
    """Features of the unseen models (UNSEEN_FAMILIES) at the zoo's input shapes, with their
    ``family``."""
    return pd.DataFrame([{**feature_row(zoo, build(), shape, source), "family": family}
                         for family, models in UNSEEN_FAMILIES.items()
                         for zoo, (build, shape, source) in models.items()])


def _held_out(fitted: dict, measured: pd.Series, features: pd.DataFrame,
              group: dict) -> tuple[list[dict], np.ndarray]:
    """One row per model of ``features`` that ``measured`` has, the fit's prediction beside it;
    and the unrounded predicted / measured ratios."""
    have = features[features["model"].isin(measured.index)]
    predicted = qaihub_fit.predict(have, fitted["coef"], fitted["variant"])
    rows = []
    for model, shape, p in zip(have["model"], have["input_shape"], predicted):
        m = measured.loc[model]
        rows.append({**group, "model": model, "input_shape": shape, "measured_ms": m,
                     "measured_provenance": "public:qai-hub", "predicted_ms": round(p, 4),
                     "predicted_provenance": "predicted", "ratio": round(p / m, 3),
                     "within_20pct": bool(within(m, p, 0.20)), "variant": fitted["variant"]})
    return rows, predicted / measured.loc[have["model"]].to_numpy()


def _share(ratio: np.ndarray, prefix: str) -> dict:
    """How many held-out models (``ratio``: predicted / measured), how many within ±20 %, their
    MAPE (%)."""
    return {f"{prefix}_models": len(ratio), f"{prefix}_within_20pct": int(within(1, ratio, 0.20).sum()),
            f"{prefix}_mape_pct": round(float(100 * relative_error(1, ratio).mean()), 2) if len(ratio) else np.nan}


def evaluate(perf: pd.DataFrame, features: pd.DataFrame, sr: pd.DataFrame,
             unseen: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(one summary row per fitted group, one row per held-out SR model and group, one row per
    unseen model and group); ``unseen`` has a ``family`` column, each family summarised apart."""
    summary, held_sr, held_unseen = [], [], []
    groups = perf[perf["runtime"].isin(qaihub_fit.FITTED_RUNTIMES)
                  & perf["precision"].isin(qaihub_fit.FITTED_PRECISIONS)][["device", "runtime", "precision"]]
    for device, runtime, precision in groups.drop_duplicates().itertuples(index=False):
        try:
            fitted = qaihub_fit.fit_device(perf, features, device, runtime, precision)
        except ValueError:
            continue
        variant, loo = fitted["variant"], fitted["scores"][fitted["variant"]]
        measured = qaihub_fit.npu_latencies(perf, device, runtime, precision)
        group = {"device": device, "runtime": runtime, "precision": precision}
        (sr_rows, sr_ratio), (unseen_rows, unseen_ratio) = (_held_out(fitted, measured, sr, group),
                                                            _held_out(fitted, measured, unseen, group))
        held_sr += sr_rows
        held_unseen += unseen_rows
        family = unseen.set_index("model")["family"]
        for row in unseen_rows:
            row["family"] = family[row["model"]]
        kinds = np.array([row["family"] for row in unseen_rows], dtype=object)
        shares = {k: v for name in dict.fromkeys(unseen["family"])
                  for k, v in _share(unseen_ratio[kinds == name], name).items()}
        summary.append({**group, "variant": variant, "cnn_models": loo["n"],
                        "loo_mape_pct": round(loo["mape_pct"], 2),
                        "loo_spearman": round(loo["spearman"], 4),
                        "loo_within_10pct": round(loo["within_10pct"], 3),
                        "loo_within_20pct": round(loo["within_20pct"], 3),
                        "loo_rms_log_error": round(loo["rms_log_error"], 4),
                        **_share(sr_ratio, "sr"), **shares,
                        "overhead_ms": round(float(fitted["coef"][0]), 4),
                        "provenance": "public:qai-hub measured vs predicted (leave-one-model-out)",
                        "commit": str(fitted["rows"]["commit"].iloc[0])})
    return pd.DataFrame(summary), pd.DataFrame(held_sr), pd.DataFrame(held_unseen)


def pooled(perf: pd.DataFrame, features: pd.DataFrame, sr: pd.DataFrame,
           unseen: pd.DataFrame) -> pd.DataFrame:
    """Whether the design could describe every family at once (a diagnosis; nothing shipped is
    fitted so): on the AI Hub devices of the catalog's NPUs in float, per runtime, the fit on the
    fitted CNNs and the unseen ones together, its variant chosen as always (least
    leave-one-model-out MAPE over all of them), its leave-one-model-out accuracy, each family
    predicted by the fit on the others (leave-one-family-out: ``<family>_within_20pct``, the
    fitted CNNs as family ``fitted``) and the SR models, still never fitted, by the fit on all."""
    pool = pd.concat([features.assign(family="fitted"), unseen], ignore_index=True)
    hubs = dict.fromkeys(a["hub_device"] for a in qaihub_fit.catalog_npus().values())
    rows = []
    for device in hubs:
        for runtime in qaihub_fit.FITTED_RUNTIMES:
            measured = qaihub_fit.npu_latencies(perf, device, runtime, "float")
            have = pool[pool["model"].isin(measured.index)].reset_index(drop=True)
            if len(have) < qaihub_fit.MIN_MODELS:
                continue
            y = measured.loc[have["model"]].to_numpy(float)
            variant, scores = qaihub_fit.choose(have, y)
            loo, shares = scores[variant], {}
            for family in have["family"].unique():
                out = (have["family"] == family).to_numpy()
                coef = qaihub_fit.fit(have[~out], y[~out], variant)
                shares |= _share(qaihub_fit.predict(have[out], coef, variant) / y[out], family)
            coef = qaihub_fit.fit(have, y, variant)
            sr_have = sr[sr["model"].isin(measured.index)]
            sr_ratio = qaihub_fit.predict(sr_have, coef, variant) / measured.loc[sr_have["model"]].to_numpy()
            rows.append({"device": device, "runtime": runtime, "precision": "float", "variant": variant,
                         "cnn_models": len(have), "loo_mape_pct": round(loo["mape_pct"], 2),
                         "loo_spearman": round(loo["spearman"], 4),
                         "loo_within_20pct": round(loo["within_20pct"], 3), **shares,
                         **_share(sr_ratio, "sr"), "overhead_ms": round(float(coef[0]), 4),
                         "provenance": "public:qai-hub measured vs predicted (pooled fit: "
                                       "leave-one-model-out, leave-one-family-out; not shipped)"})
    return pd.DataFrame(rows)


REFERENCES = ("xlsr", "sesr_m5", "quicksrnetsmall", "quicksrnetmedium", "quicksrnetlarge")


def reference_quality(models, schedule: Schedule, work: Path) -> dict[str, dict]:
    """Set5 ×4 PSNR (and bicubic's) of each zoo SR model trained here at ``schedule``, by zoo id."""
    t, out = schedule.train, {}
    for zoo in models:
        arch = SR_MODELS[zoo]
        model, facts = train_reference(arch, scale=SR_SCALE, steps=t.steps, batch_size=t.batch_size,
                                       patch_size=t.patch_size, lr=t.lr, data=schedule.data, work=work)
        quality = quality_rows(model, arch, SR_SCALE, reference_run_dir(work, arch, SR_SCALE) / "quality.csv")
        set5 = quality[quality["set"] == "set5"].iloc[0]
        out[zoo] = {"psnr_db": round(float(set5["psnr"]), 3), "psnr_bicubic_db": round(float(set5["psnr_bicubic"]), 3),
                    "schedule": f"{facts['steps']} steps, batch {facts['batch_size']} x {facts['patch_size']} px, "
                                f"lr {facts['lr']:g}, {facts['train_data']}"}
    return out


PSNR_DATA = f"Set5 x{SR_SCALE} (Y, {SR_SCALE} px shaved)"


def search_table(run_dirs, device_name: str, perf: pd.DataFrame, features: pd.DataFrame,
                 sr: pd.DataFrame, references: dict[str, dict]) -> pd.DataFrame:
    """Search runs beside the reference SR models on one catalog NPU (module docstring);
    ``references``: reference_quality's PSNRs (a model missing there has none)."""
    from devices.catalog import get_device

    device = get_device(device_name)
    assumes = device.predictor["assumes"]
    hub, runtime, precision = assumes["hub_device"], assumes["runtime"], assumes["precision"]
    fitted = qaihub_fit.fit_device(perf, features, hub, runtime, precision)
    coef, variant = fitted["coef"], fitted["variant"]
    measured = qaihub_fit.npu_latencies(perf, hub, runtime, precision)
    shape = (1, 3, *device.lr_input_hw)
    rows = []
    for run in map(Path, run_dirs):
        report = pd.read_csv(run / "report.csv").iloc[0]
        if "set5_psnr" not in report or pd.isna(report["set5_psnr"]):
            raise ValueError(f"--searches: {run}/report.csv has no Set5 PSNR (the search ran without Set5)")
        net = TrilevelNet(Genotype.load(run / "genotype.json"))
        whole = qaihub_fit.predict(pd.DataFrame([feature_row("derived", net, shape, str(run))]), coef, variant)[0]
        rows.append({"network": f"derived, budget {report['budget']}", "device": device_name,
                     "budget_ms": report["budget_value"], "op_table_ms": round(report["cost"], 4),
                     "op_table_std_ms": round(report["cost_std"], 4),
                     "in_band": bool(0.85 * report["budget_value"] <= report["cost"] <= report["budget_value"]),
                     "whole_model_predicted_ms": round(whole, 4), "measured_ms": None,
                     "gmacs": round(report["gmacs"], 3), "params": int(report["params"]),
                     "psnr_db": round(report["set5_psnr"], 3), "psnr_bicubic_db": round(report["set5_psnr_bicubic"], 3),
                     "psnr_data": PSNR_DATA,
                     "schedule": f"{report['search_steps']} search + {report['finetune_steps']} fine-tune steps",
                     "provenance": "public:qai-hub, predicted", "genotype": report["genotype"]})
    for model in REFERENCES:
        feats = sr[sr["model"] == model]
        rows.append({"network": model, "device": device_name,
                     "whole_model_predicted_ms": round(qaihub_fit.predict(feats, coef, variant)[0], 4),
                     "measured_ms": measured.get(model), "gmacs": round(feats["macs"].iloc[0] / 1e9, 3),
                     "params": int(feats["params"].iloc[0]), **references.get(model, {}),
                     "psnr_data": PSNR_DATA if model in references else "not trained here (--references)",
                     "provenance": "measured public:qai-hub; whole_model predicted"
                                   + ("; PSNR of the network trained here" if model in references else "")})
    return pd.DataFrame(rows)


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--out", default=str(RESULTS / "predictor_qaihub.csv"),
                        help="the CSV: rows of part fit, sr and (with --searches) search")
    parser.add_argument("--searches", nargs="+", metavar="RUN_DIR",
                        help="finished codesign.search runs: their rows of part search replace the earlier ones")
    parser.add_argument("--device", default="galaxy-s24-npu", help="catalog NPU of the --searches")
    parser.add_argument("--schedule", choices=tuple(SCHEDULES), default="demo",
                        help="the schedule the reference SR models are trained at (the searches' own)")
    parser.add_argument("--references", nargs="*", choices=REFERENCES, default=list(REFERENCES),
                        help="the reference SR models to train for their PSNR (default: all)")
    parser.add_argument("--work", default="runs/predictor_qaihub",
                        help="the reference SR models' trainings (reused when finished)")
    args = parser.parse_args(argv)
    out = check_output_file(args.out)
    missing = [d for d in args.searches or [] if not (Path(d) / "report.csv").is_file()]
    if missing:
        raise ValueError(f"--searches: no report.csv in {', '.join(missing)} (not a finished run)")
    perf, features, sr = qaihub_fit.read_perf(), read_features(), sr_features()
    unseen = unseen_features()
    summary, held_sr, held_unseen = evaluate(perf, features, sr, unseen)
    parts = [summary.assign(part=FIT), held_sr.assign(part=SR), held_unseen.assign(part=UNSEEN),
             pooled(perf, features, sr, unseen).assign(part=POOLED)]
    if args.searches:
        references = reference_quality(args.references, SCHEDULES[args.schedule],
                                       check_output_dir(args.work, "--work"))
        table = search_table(args.searches, args.device, perf, features, sr, references)
        parts.append(table.assign(part=SEARCH))
        print(table[["network", "op_table_ms", "whole_model_predicted_ms", "measured_ms", "psnr_db"]].to_string(index=False))
    s24 = summary[(summary["device"] == "Samsung Galaxy S24") & (summary["precision"] == "float")]
    for row in s24.itertuples():
        print(f"Galaxy S24 {row.runtime} float: CNN leave-one-out MAPE {row.loo_mape_pct} %, "
              f"rho {row.loo_spearman}; SR {row.sr_within_20pct} of {row.sr_models}, "
              f"unseen inpainters {row.inpainter_within_20pct} of {row.inpainter_models}, "
              f"segmenters {row.segmenter_within_20pct} of {row.segmenter_models}, "
              f"small-map CNNs {row.small_map_within_20pct} of {row.small_map_models} within ±20 %")
    for row in parts[3].query("device == 'Samsung Galaxy S24'").itertuples():
        print(f"Galaxy S24 {row.runtime} float, pooled fit on {row.cnn_models} CNNs: leave-one-out MAPE "
              f"{row.loo_mape_pct} %, {100 * row.loo_within_20pct:.0f} % within ±20 %; SR {row.sr_within_20pct} "
              f"of {row.sr_models}")
    table = replace_rows(out, pd.concat(parts, ignore_index=True), ("part",))
    write_csv_atomic(table.dropna(axis=1, how="all"), out)  # no column of an earlier layout left empty
    print(f"{len(summary)} groups, {len(held_sr)} SR and {len(held_unseen)} unseen rows -> {out}")


if __name__ == "__main__":
    main()
