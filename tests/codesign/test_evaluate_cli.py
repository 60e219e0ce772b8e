import subprocess
import sys

import pandas as pd
from PIL import Image

from codesign.evaluate import main


def test_bicubic_model_on_set5_layout_reproduces_published_psnr(tmp_path, butterfly):
    (tmp_path / "Set5" / "HR").mkdir(parents=True)
    Image.fromarray(butterfly).save(tmp_path / "Set5" / "HR" / "butterfly.png")
    out = tmp_path / "bicubic.csv"
    assert main(["--arch", "bicubic", "--scale", "4", "--data", str(tmp_path / "Set5"),
                 "--out", str(out), "--torch-device", "cpu"]) == 0
    table = pd.read_csv(out)
    assert table.image.tolist() == ["butterfly", "mean"]
    # Published MATLAB bicubic x4: 22.10 dB (the model upsamples in float, MATLAB in uint8).
    assert abs(table.psnr.iloc[-1] - 22.10) < 0.02
    assert {"params", "scale", "model", "ssim"} <= set(table.columns)
    assert table.params.iloc[0] == 0


def test_missing_checkpoint_is_one_error_line(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "codesign.evaluate", "--checkpoint",
                           str(tmp_path / "none.pt"), "--out", str(tmp_path / "x.csv")],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error:") and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.csv").exists()
