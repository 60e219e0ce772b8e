"""The reference networks with their authors' published weights, against the authors' figures.

    python -m benchmarks.quality.published_weights --weights-dir DIR [--sets set5 set14 ...]
        [--only imdn_x4 ...] [--out benchmarks/results/published_weights.csv]

Each checkpoint (its release file name, looked up in ``--weights-dir``) is loaded by
``codesign.sr.models.weights`` (key map and input range of its release) and evaluated with the
project's MATLAB bicubic degradation and Y-channel PSNR/SSIM (shave = scale) on the named test
sets (``codesign.sr.data.sets``), beside bicubic on the same images and the published figure,
where the authors publish one. ``psnr_diff`` compares the figure with Y in floating point, the
papers' convention (``psnr``/``ssim``: Y rounded, the project's classic columns). Rows already in ``--out`` for the same (model, scale, set,
weights sha256) are kept and not evaluated again, so a long run can stop and go on; the CSV is
written after every row. The authors' weights are not carried by the project: fetch them from
the repositories named in ``WEIGHTS`` (IMDN's has no licence: use, do not redistribute).
"""
from __future__ import annotations

import hashlib
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import RESULTS, benchmark_parser
from benchmarks.quality.baselines import machine
from codesign.sr.data import DataError
from codesign.sr.data.sets import TEST_SETS
from codesign.sr.evaluate import evaluation_table, load_eval_pairs, model_min_lr_side
from codesign.sr.models.weights import WeightsError, load_authors_weights
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import UsageError, check_output_file, cli_main

TOLERANCE_DB = 0.05  # the goal: within ±0.05 dB of every published PSNR

IMDN_PAPER = "Hui et al. ACM MM 2019, arXiv 1909.11856, comparison table (PSNR/SSIM)"
RLFN_PAPER = "Kong et al. CVPRW 2022, arXiv 2205.07514, Table 1 (PSNR/SSIM)"

# Published (PSNR dB, SSIM) per (model, scale) and set, as printed in the papers above.
PUBLISHED = {
    ("imdn", 2): {"set5": (38.00, 0.9605), "set14": (33.63, 0.9177), "b100": (32.19, 0.8996),
                  "urban100": (32.17, 0.9283), "manga109": (38.88, 0.9774)},
    ("imdn", 3): {"set5": (34.36, 0.9270), "set14": (30.32, 0.8417), "b100": (29.09, 0.8046),
                  "urban100": (28.17, 0.8519), "manga109": (33.61, 0.9445)},
    ("imdn", 4): {"set5": (32.21, 0.8948), "set14": (28.58, 0.7811), "b100": (27.56, 0.7353),
                  "urban100": (26.04, 0.7838), "manga109": (30.45, 0.9075)},
    ("rlfn", 2): {"set5": (38.07, 0.9607), "set14": (33.72, 0.9187), "b100": (32.22, 0.9000),
                  "urban100": (32.33, 0.9299)},
    ("rlfn", 4): {"set5": (32.24, 0.8952), "set14": (28.62, 0.7813), "b100": (27.60, 0.7364),
                  "urban100": (26.17, 0.7877)},
}


@dataclass(frozen=True)
class Checkpoint:
    """One published checkpoint: the network and scale it holds, where it comes from."""

    model: str
    scale: int
    file: str
    source: str  # repository and path
    licence: str
    paper: str = ""  # where its published figures are; "" when none on these sets

    @property
    def key(self) -> str:
        return f"{self.model}_x{self.scale}"


WEIGHTS = (
    Checkpoint("imdn", 2, "IMDN_x2.pth", "Zheng222/IMDN checkpoints/IMDN_x2.pth", "none stated",
               IMDN_PAPER),
    Checkpoint("imdn", 3, "IMDN_x3.pth", "Zheng222/IMDN checkpoints/IMDN_x3.pth", "none stated",
               IMDN_PAPER),
    Checkpoint("imdn", 4, "IMDN_x4.pth", "Zheng222/IMDN checkpoints/IMDN_x4.pth", "none stated",
               IMDN_PAPER),
    Checkpoint("rlfn", 2, "rlfn_x2.pth", "bytedance/RLFN model_zoo/rlfn_x2.pth", "Apache-2.0",
               RLFN_PAPER),
    Checkpoint("rlfn", 4, "rlfn_x4.pth", "bytedance/RLFN model_zoo/rlfn_x4.pth", "Apache-2.0",
               RLFN_PAPER),
    Checkpoint("rlfn_s", 2, "rlfn_s_x2.pth", "bytedance/RLFN model_zoo/rlfn_s_x2.pth",
               "Apache-2.0"),
    Checkpoint("rlfn_s", 4, "rlfn_s_x4.pth", "bytedance/RLFN model_zoo/rlfn_s_x4.pth",
               "Apache-2.0"),
    Checkpoint("rlfn_ntire", 4, "rlfn_ntire_x4.pth", "bytedance/RLFN model_zoo/rlfn_ntire_x4.pth",
               "Apache-2.0"),
)


def sha256_file(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def published_row(ckpt: Checkpoint, data_set: str) -> dict:
    """The authors' figure for ``ckpt`` on ``data_set`` and its source (NaN, "none published")."""
    figure = PUBLISHED.get((ckpt.model, ckpt.scale), {}).get(data_set)
    if figure is None:
        why = ("none published on this set" if ckpt.paper
               else "not recorded here (RLFN-S: the RLFN paper's table could not be read from "
                    "this machine)" if ckpt.model == "rlfn_s"
               else "none published on this set (NTIRE 2022 runtime-track entry, DIV2K only)")
        return {"psnr_published": float("nan"), "ssim_published": float("nan"),
                "published_source": why}
    return {"psnr_published": figure[0], "ssim_published": figure[1],
            "published_source": ckpt.paper}


def evaluate_checkpoint(ckpt: Checkpoint, path: Path, data_set: str, digest: str,
                        pairs=None) -> dict:
    """One row: ``ckpt`` loaded from ``path`` and evaluated on ``data_set`` (``pairs``: its
    (name, LR, HR) images at ``ckpt.scale``, if already read)."""
    model, fmt = load_authors_weights(ckpt.model, ckpt.scale, path)
    table = evaluation_table(model, ckpt.model, ckpt.scale, data_set, pairs=pairs)
    mean = table[table.image == "mean"].iloc[0]
    row = {"model": ckpt.model, "scale": ckpt.scale, "set": data_set,
           "images": int((table.image != "mean").sum()),
           **{c: round(float(mean[c]), 3 if c.startswith("psnr") else 4) for c in (
               "psnr_float_y", "ssim_float_y", "psnr_bicubic_float_y", "ssim_bicubic_float_y",
               "psnr", "ssim", "psnr_bicubic", "ssim_bicubic")},
           **published_row(ckpt, data_set)}
    # The papers' figures are on Y in floating point (codesign.evaluate's docstring).
    row["psnr_diff"] = round(row["psnr_float_y"] - row["psnr_published"], 3)
    row["ssim_diff"] = round(row["ssim_float_y"] - row["ssim_published"], 4)
    row["within_tolerance"] = (abs(row["psnr_diff"]) <= TOLERANCE_DB
                               if row["psnr_published"] == row["psnr_published"] else "")
    row.update({"params": int(mean.params), "macs_720p": int(mean.macs_720p),
                "weights_file": ckpt.file, "weights_source": ckpt.source,
                "weights_licence": ckpt.licence, "weights_sha256": digest,
                "weights_format": fmt.name, "input_range": fmt.value_range,
                "metric": "Y (BT.601) in floating point and rounded, shave = scale, MATLAB bicubic LR",
                "host": machine(),
                "evaluated_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")})
    return row


def run(weights_dir: Path, sets: list[str], only: list[str] | None, out: Path) -> pd.DataFrame:
    """Evaluate the selected checkpoints (in ``only``'s order) on each set in turn, keeping
    the rows ``out`` already has; a set's images are read once per scale."""
    by_key = {c.key: c for c in WEIGHTS}
    chosen = [by_key[k] for k in only] if only else list(WEIGHTS)
    missing = [c.file for c in chosen if not (weights_dir / c.file).is_file()]
    if missing:
        raise UsageError(f"{weights_dir} lacks {', '.join(missing)} (see --help for sources)")
    digests = {c.key: sha256_file(weights_dir / c.file) for c in chosen}
    table = pd.read_csv(out) if out.exists() else pd.DataFrame()
    for data_set in sets:
        pairs = {}  # (scale, min LR side) -> this set's images
        for ckpt in chosen:
            digest = digests[ckpt.key]
            done = (not table.empty and "psnr_float_y" in table and (
                (table.model == ckpt.model) & (table.scale == ckpt.scale)
                & (table["set"] == data_set) & (table.weights_sha256 == digest)
                & table.psnr_float_y.notna()).any())
            if done:
                continue
            key = (ckpt.scale, model_min_lr_side(ckpt.model))
            if key not in pairs:
                pairs[key] = load_eval_pairs(data_set, ckpt.scale, ckpt.model)
            row = evaluate_checkpoint(ckpt, weights_dir / ckpt.file, data_set, digest, pairs[key])
            print(f"{ckpt.key} {data_set}: {row['psnr_float_y']:.3f} dB (published "
                  f"{row['psnr_published']}, bicubic {row['psnr_bicubic_float_y']:.3f})",
                  flush=True)
            table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
            write_csv_atomic(table, out)
    return table


@cli_main(DataError, WeightsError)
def main(argv=None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--weights-dir", required=True, type=Path,
                        help="folder holding the release files named in WEIGHTS")
    parser.add_argument("--sets", nargs="+", default=list(TEST_SETS), choices=TEST_SETS)
    parser.add_argument("--only", nargs="+", choices=[c.key for c in WEIGHTS],
                        help="checkpoints to evaluate (default: all)")
    parser.add_argument("--out", type=Path,
                        default=RESULTS / "published_weights.csv")
    args = parser.parse_args(argv)
    out = check_output_file(args.out)
    run(args.weights_dir, args.sets, args.only, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
