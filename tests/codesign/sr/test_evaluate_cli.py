import subprocess
import sys

import pandas as pd
from PIL import Image

from codesign.sr.evaluate import main


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


def test_set_names_resolve_and_bicubic_sits_beside_the_network(tmp_path):
    out = tmp_path / "set5.csv"
    assert main(["--arch", "bicubic", "--scale", "4", "--data", "set5", "--out", str(out),
                 "--torch-device", "cpu"]) == 0
    table = pd.read_csv(out)
    assert table.image.tolist() == ["baby", "bird", "butterfly", "head", "woman", "mean"]
    assert set(table["data"]) == {"set5"}
    # Published MATLAB bicubic, Set5 x4: 28.42 dB; the bicubic columns are the same images.
    assert abs(table.psnr.iloc[-1] - 28.42) < 0.02
    assert (table.psnr == table.psnr_bicubic).all() and (table.ssim == table.ssim_bicubic).all()
    # Y in floating point as well: no rounding noise, so a little higher, never far apart.
    gap = table.psnr_float_y - table.psnr
    assert (gap > 0).all() and (gap < 0.1).all()
    assert (table.psnr_float_y == table.psnr_bicubic_float_y).all()


def test_a_search_folder_is_evaluated_with_run(tmp_path, butterfly):
    import torch

    from codesign.space.genotype import CellGenotype, Genotype, TrilevelNet
    from codesign.sr.export import save_weights

    cell = CellGenotype(("conv3x3", "residual", "skip", "dwsblock", "conv3x3"), (8, 4, 16, 12))
    genotype = Genotype(scale=4, nf=16, path="CC", cells=(cell,) * 3)
    torch.manual_seed(0)
    run = tmp_path / "run"
    run.mkdir()
    genotype.save(run / "genotype.json")
    save_weights(TrilevelNet(genotype), run / "weights.safetensors")
    (tmp_path / "imgs").mkdir()
    Image.fromarray(butterfly).save(tmp_path / "imgs" / "butterfly.png")
    out = tmp_path / "run.csv"
    assert main(["--run", str(run), "--data", str(tmp_path / "imgs"), "--out", str(out),
                 "--torch-device", "cpu"]) == 0
    table = pd.read_csv(out)
    assert table.model.iloc[0] == "trilevel" and table.params.iloc[0] > 0
    assert abs(table.psnr_bicubic.iloc[-1] - 22.10) < 0.02
    (run / "weights.safetensors").write_bytes(b"not safetensors")
    proc = subprocess.run([sys.executable, "-m", "codesign.evaluate", "--run", str(run),
                           "--out", str(tmp_path / "x.csv")], capture_output=True, text=True)
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert proc.stderr.startswith(f"error: search folder {run}")
    assert not (tmp_path / "x.csv").exists()


def test_weights_without_arch_is_refused(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit) as exit_:
        main(["--checkpoint", "x.pt", "--weights", "w.pth", "--out", str(tmp_path / "o.csv")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.strip() == ("error: --weights goes with --arch (the network "
                                               "the file holds)")
