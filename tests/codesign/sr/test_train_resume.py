import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image
from torch import nn

from codesign.sr.checkpoint import load
from codesign.sr.train import train_model


class TinySR(nn.Module):
    """Two convs + pixel shuffle: small enough for a few CPU steps."""

    def __init__(self, scale: int):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                                  nn.Conv2d(8, 3 * scale * scale, 3, padding=1),
                                  nn.PixelShuffle(scale))

    def forward(self, x):
        return self.body(x)


def _folder(tmp_path, butterfly):
    for i, (y, x) in enumerate([(0, 0), (100, 60), (40, 130)]):
        Image.fromarray(np.ascontiguousarray(butterfly[y:y + 120, x:x + 120])).save(
            tmp_path / f"img{i}.png")
    return tmp_path


def _train(data, out, steps, resume=False, stop_at=None):
    torch.manual_seed(123)
    model = TinySR(2)
    summary = train_model(model, data=data, scale=2, steps=steps, batch_size=2, patch_size=32,
                          lr=1e-3, out_dir=out, resume=resume, device="cpu", arch="tiny",
                          checkpoint_every=2, progress=False, stop_at=stop_at)
    return model, summary


def test_resume_continues_exactly_where_it_stopped(tmp_path, butterfly):
    (tmp_path / "data").mkdir()
    data = _folder(tmp_path / "data", butterfly)
    straight, _ = _train(data, tmp_path / "a", steps=6)
    _train(data, tmp_path / "b", steps=6, stop_at=3)  # interrupted after step 3
    # A fresh process would rebuild the model with a different init: resume must overwrite it.
    torch.manual_seed(999)
    resumed, summary = _train(data, tmp_path / "b", steps=6, resume=True)
    assert summary["steps"] == 6
    for p, q in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    ckpt = load(tmp_path / "b" / "checkpoint.pt")
    assert ckpt["step"] == 6 and ckpt["arch"] == "tiny"
    log = pd.read_csv(tmp_path / "b" / "train_log.csv")
    assert log.step.tolist() == [1, 2, 3, 4, 5, 6]


def test_training_time_adds_up_over_a_resume_and_a_finished_run_still_reports_it(tmp_path, butterfly):
    (tmp_path / "data").mkdir()
    data = _folder(tmp_path / "data", butterfly)
    _, first = _train(data, tmp_path / "b", steps=6, stop_at=3)
    _, resumed = _train(data, tmp_path / "b", steps=6, resume=True)
    _, reused = _train(data, tmp_path / "b", steps=6, resume=True)  # finished: trains nothing
    log = pd.read_csv(tmp_path / "b" / "train_log.csv")
    # cumulative across the resume: step 4 starts from step 3's seconds, not from zero
    assert log.train_s.is_monotonic_increasing and log.train_s.iloc[2] == pytest.approx(first["train_s"])
    assert resumed["train_s"] > first["train_s"] and resumed["start_step"] == 3
    assert reused["start_step"] == 6 and reused["train_s"] == pytest.approx(resumed["train_s"])


def test_training_reduces_l1_loss(tmp_path, butterfly):
    (tmp_path / "data").mkdir()
    data = _folder(tmp_path / "data", butterfly)
    _, summary = _train(data, tmp_path / "run", steps=60)
    log = pd.read_csv(tmp_path / "run" / "train_log.csv")
    assert log.loss.tail(10).mean() < 0.7 * log.loss.head(10).mean()


def test_cli_empty_data_folder_is_one_error_line_and_exit_2(tmp_path):
    (tmp_path / "empty").mkdir()
    proc = subprocess.run([sys.executable, "-m", "codesign.train", "--arch", "espcn",
                           "--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o"),
                           "--steps", "2"], capture_output=True, text=True)
    assert proc.returncode == 2
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:") and "no images" in lines[0]


def test_cli_unknown_arch_lists_known_ones(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "codesign.train", "--arch", "nope",
                           "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert proc.returncode == 2 and "espcn" in proc.stderr and "nope" in proc.stderr


@pytest.fixture
def threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_a_resume_continues_on_the_thread_count_the_run_started_with(tmp_path, butterfly, threads, capsys):
    (tmp_path / "data").mkdir()
    data = _folder(tmp_path / "data", butterfly)
    torch.set_num_threads(1)
    straight, summary = _train(data, tmp_path / "a", steps=6)
    assert summary["torch_threads"] == 1
    _train(data, tmp_path / "b", steps=6, stop_at=3)
    torch.set_num_threads(2)                                # resumed in a process of other threads
    resumed, summary = _train(data, tmp_path / "b", steps=6, resume=True)
    assert summary["torch_threads"] == 1 and torch.get_num_threads() == 2   # for this run only
    assert "written with 1 torch thread(s); continuing with 1, not 2" in capsys.readouterr().err
    for p, q in zip(straight.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(p, q, rtol=0, atol=0)
    # a checkpoint from before the record is resumed as it is, its thread count unknown
    ckpt = load(tmp_path / "b" / "checkpoint.pt")
    del ckpt["torch_threads"]
    torch.save(ckpt, tmp_path / "b" / "checkpoint.pt")
    torch.set_num_threads(2)
    assert _train(data, tmp_path / "b", steps=6, resume=True)[1]["torch_threads"] is None
    assert torch.get_num_threads() == 2
