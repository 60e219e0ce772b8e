"""benchmarks.quality.published_weights: a row per (checkpoint, set) beside the published figure, kept
across runs; a missing release file is one line."""
import re

import pandas as pd
import pytest
import torch

from benchmarks.quality.published_weights import PUBLISHED, WEIGHTS, run
from codesign.sr.models import build_model
from codesign_common.cli import UsageError


def test_every_published_figure_belongs_to_a_checkpoint_with_its_source():
    keys = {(c.model, c.scale): c for c in WEIGHTS}
    assert set(PUBLISHED) <= set(keys)
    assert all(keys[k].paper for k in PUBLISHED)


def test_a_checkpoint_on_set5_gives_one_row_with_the_published_figure_and_is_kept(
        tmp_path, monkeypatch, butterfly):
    from PIL import Image

    from codesign.sr.data import sets

    (tmp_path / "set5").mkdir()  # Set5 cut to its butterfly, to keep the test fast
    Image.fromarray(butterfly).save(tmp_path / "set5" / "butterfly.png")
    monkeypatch.setattr(sets, "CARRIED", {"set5": tmp_path / "set5"})
    monkeypatch.setenv("CODESIGN_DATA", str(tmp_path / "empty"))
    torch.manual_seed(0)
    state = {"module." + re.sub(r"^blocks\.(\d+)\.", lambda m: f"IMDB{int(m[1]) + 1}.", k)
             .replace("head.", "fea_conv.").replace("fuse.0.", "c.0.")
             .replace("body_tail.", "LR_conv.").replace("cca.gate.", "cca.conv_du."): v
             for k, v in build_model("imdn", 4).state_dict().items()}
    torch.save(state, tmp_path / "IMDN_x4.pth")
    out = tmp_path / "pw.csv"
    table = run(tmp_path, ["set5"], ["imdn_x4"], out)
    row = pd.read_csv(out).iloc[0]
    assert len(table) == 1 and row["set"] == "set5" and row.images == 1
    assert row.psnr_published == 32.21 and "1909.11856" in row.published_source
    assert row.psnr_diff == pytest.approx(row.psnr_float_y - 32.21, abs=1e-3)
    assert not row.within_tolerance  # random weights are far from the authors'
    assert row.input_range == 1.0 and len(row.weights_sha256) == 64
    assert len(run(tmp_path, ["set5"], ["imdn_x4"], out)) == 1  # kept, not evaluated again
    with pytest.raises(UsageError, match="lacks rlfn_x4.pth"):
        run(tmp_path, ["set5"], ["rlfn_x4"], out)
