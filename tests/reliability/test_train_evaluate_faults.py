"""Issue 17, codesign.train / codesign.evaluate / benchmarks.quality.baselines: bad input is one
``error:`` line and exit 2 with nothing written; SIGINT/SIGTERM/SIGKILL lose at most one step
(or the wall-time checkpoint interval) and the resumed run equals an uninterrupted one bit for
bit on CPU; one run per output folder; the same seed gives the same weights."""
import os
import pickle
import re
import shlex
import signal
import struct
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from benchmarks.quality import baselines
from codesign.sr import evaluate, train
from codesign.sr.checkpoint import load, save_atomic
from codesign.sr.data import read_rgb
from codesign.sr.models import build_model
from codesign_common.locks import exclusive_lock

REPO = Path(__file__).resolve().parents[2]
BUTTERFLY = REPO / "tests" / "data" / "set5_butterfly.png"
# One torch thread in the child processes: fast on a busy 2-core machine, same on every run.
ENV = {**os.environ, "CUDA_VISIBLE_DEVICES": "", "OMP_NUM_THREADS": "1"}
STEPS = 60
TRAIN = ["--arch", "espcn", "--scale", "2", "--batch-size", "2", "--patch-size", "32",
         "--val-every", "0", "--steps", str(STEPS), "--checkpoint-every", "1000"]


# ---------------------------------------------------------------- helpers

def train_main(args):
    return train.main([str(a) for a in args])


def evaluate_main(args):
    return evaluate.main([str(a) for a in args])


def baselines_main(args):
    return baselines.main([str(a) for a in args])


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Three 120 px crops of the Set5 butterfly: a small training and evaluation folder."""
    folder = tmp_path_factory.mktemp("data")
    img = read_rgb(BUTTERFLY)
    for i, (y, x) in enumerate([(0, 0), (100, 60), (40, 130)]):
        Image.fromarray(np.ascontiguousarray(img[y:y + 120, x:x + 120])).save(folder / f"img{i}.png")
    return folder


def _cli(module, *args, timeout=120):
    return subprocess.run([sys.executable, "-m", module, *map(str, args)], cwd=REPO, env=ENV,
                          capture_output=True, text=True, timeout=timeout)


def _assert_refused(proc_or_err, rc=None) -> str:
    """Exit 2 and exactly one ``error:`` line on stderr, no traceback; returns the line."""
    if isinstance(proc_or_err, subprocess.CompletedProcess):
        rc, err = proc_or_err.returncode, proc_or_err.stderr
    else:
        err = proc_or_err
    lines = [ln for ln in err.splitlines() if ln.strip()]
    assert rc == 2, err
    assert "Traceback" not in err, err
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    return lines[0]


def _refused(main, args, capsys) -> str:
    """In-process: ``main(args)`` exits 2 with one ``error:`` line on stderr."""
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        main(args)
    return _assert_refused(capsys.readouterr().err, stop.value.code)


def _weights(ckpt_path):
    return load(ckpt_path)["model"]


def _assert_same_weights(a, b):
    wa, wb = _weights(a), _weights(b)
    assert wa.keys() == wb.keys()
    for key in wa:
        assert torch.equal(wa[key], wb[key]), key


def _no_temporaries(folder):
    assert not [p.name for p in Path(folder).iterdir() if p.name.endswith(".tmp")]


class _Run:
    """A training subprocess whose stderr (tqdm progress) is read as it comes."""

    def __init__(self, args, module="codesign.train"):
        self.proc = subprocess.Popen([sys.executable, "-m", module, *map(str, args)],
                                     cwd=REPO, env=ENV, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        self.err = bytearray()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self):
        while chunk := self.proc.stderr.read1(4096):
            self.err.extend(chunk)

    def step(self) -> int:
        done = re.findall(rb" (\d+)/%d " % STEPS, bytes(self.err))
        return int(done[-1]) if done else 0

    def wait_for(self, condition, timeout=60):
        t0 = time.time()
        while not condition():
            assert self.proc.poll() is None, f"run ended early:\n{self.err.decode()}"
            assert time.time() - t0 < timeout, f"timed out:\n{self.err.decode()}"
            time.sleep(0.02)

    def finish(self, timeout=60) -> tuple[int, str]:
        rc = self.proc.wait(timeout)
        self._reader.join(5)
        return rc, self.err.decode(errors="replace")


@pytest.fixture(scope="module")
def reference(data, tmp_path_factory):
    """An uninterrupted run of the schedule the interruption tests break."""
    out = tmp_path_factory.mktemp("reference") / "run"
    proc = _cli("codesign.train", *TRAIN, "--data", data, "--out", out)
    assert proc.returncode == 0, proc.stderr
    return out


# ---------------------------------------------------------------- 4: interruption, lock, stale files

@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_4_signal_checkpoints_prints_resume_command_and_resumes_bit_identical(
        sig, data, reference, tmp_path):
    out = tmp_path / "run"
    run = _Run([*TRAIN, "--data", data, "--out", out])
    run.wait_for(lambda: run.step() >= 2)  # no step checkpoint before 1000: only the signal's
    run.proc.send_signal(sig)
    rc, err = run.finish()
    assert rc == 128 + sig, err
    assert "Traceback" not in err
    stopped = load(out / "checkpoint.pt")["step"]
    assert 2 <= stopped < STEPS
    assert f"{sig.name} at step {stopped}" in err
    command = re.search(r"resume with:\n\s+(.+)", err).group(1)
    argv = shlex.split(command)
    assert argv[1:3] == ["-m", "codesign.train"] and "--resume" in argv
    assert pd.read_csv(out / "train_log.csv").step.tolist() == list(range(1, stopped + 1))
    _no_temporaries(out)
    resumed = subprocess.run([sys.executable, *argv[1:]], cwd=REPO, env=ENV,
                             capture_output=True, text=True, timeout=120)
    assert resumed.returncode == 0, resumed.stderr
    _assert_same_weights(out / "checkpoint.pt", reference / "checkpoint.pt")
    log, ref_log = (pd.read_csv(p / "train_log.csv") for p in (out, reference))
    assert log.step.tolist() == list(range(1, STEPS + 1))
    assert log.loss.tolist() == ref_log.loss.tolist()


def test_4_sigkill_loses_at_most_the_wall_time_interval_and_stale_temporaries_go(
        data, reference, tmp_path):
    out = tmp_path / "run"
    run = _Run([*TRAIN, "--data", data, "--out", out, "--checkpoint-seconds", "0.1"])
    run.wait_for(lambda: (out / "checkpoint.pt").exists(), timeout=60)
    run.proc.kill()  # at once: the run has most of its 60 steps ahead of it
    run.finish()
    killed_at = load(out / "checkpoint.pt")["step"]
    assert 1 <= killed_at < STEPS  # saved by wall time: checkpoint-every is 1000 steps
    # What a SIGKILL in the middle of a checkpoint write leaves behind:
    stale = [out / ".checkpoint.pt.k1ll3d.tmp", out / ".train_log.csv.x0x0x0.tmp"]
    for path in stale:
        path.write_bytes(b"half a checkpoint")
    # Re-running without --resume refuses, naming --resume and --force; nothing changes.
    before = (out / "checkpoint.pt").read_bytes()
    line = _assert_refused(_cli("codesign.train", *TRAIN, "--data", data, "--out", out))
    assert "--resume" in line and "--force" in line
    assert (out / "checkpoint.pt").read_bytes() == before
    resumed = _cli("codesign.train", *TRAIN, "--data", data, "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    assert not any(p.exists() for p in stale)
    _no_temporaries(out)
    _assert_same_weights(out / "checkpoint.pt", reference / "checkpoint.pt")
    assert pd.read_csv(out / "train_log.csv").step.tolist() == list(range(1, STEPS + 1))


def test_4_baselines_sigterm_checkpoints_and_says_to_run_it_again(data, tmp_path):
    args = ["--archs", "espcn", "--scale", "2", "--steps", "400", "--batch-size", "2",
            "--patch-size", "32", "--data", data, "--val-data", data,
            "--work", tmp_path / "work", "--out", tmp_path / "b.csv"]
    run = _Run(args, module="benchmarks.quality.baselines")
    run.wait_for(lambda: re.search(rb" ([1-9]\d*)/400 ", bytes(run.err)) is not None)
    run.proc.send_signal(signal.SIGTERM)
    rc, err = run.finish()
    assert rc == 128 + signal.SIGTERM and "Traceback" not in err, err
    assert "run the same command again to resume" in err
    ckpt = tmp_path / "work" / "espcn_x2" / "checkpoint.pt"
    assert 1 <= load(ckpt)["step"] < 400
    _no_temporaries(ckpt.parent)
    assert not (tmp_path / "b.csv").exists()  # no row for a network still in training


def test_4_second_run_into_a_locked_folder_refuses_in_one_line(data, tmp_path, capsys):
    out = tmp_path / "run"
    with exclusive_lock(out / ".lock", "test holder"):
        line = _refused(train_main, [*TRAIN, "--data", data, "--out", out], capsys)
    assert "in use by another process" in line and str(out) in line
    assert sorted(p.name for p in out.iterdir()) == [".lock"]


def test_4_force_starts_over(data, tmp_path, capsys):
    out = tmp_path / "run"
    short = [*TRAIN[:-4], "--steps", "2", "--data", data, "--out", out]
    assert train_main(short) == 0
    assert train_main([*short, "--force"]) == 0
    assert load(out / "checkpoint.pt")["step"] == 2
    assert pd.read_csv(out / "train_log.csv").step.tolist() == [1, 2]


class _SignalsItself(torch.nn.Module):
    """A tiny network that sends its own process SIGTERM in its ``at``-th forward pass."""

    def __init__(self, at: int):
        super().__init__()
        self.conv, self.calls, self.at = torch.nn.Conv2d(3, 12, 3, padding=1), 0, at
        self.shuffle = torch.nn.PixelShuffle(2)

    def forward(self, x):
        self.calls += 1
        if self.calls == self.at:
            os.kill(os.getpid(), signal.SIGTERM)
        return self.shuffle(self.conv(x))


class _CallersStop(Exception):
    pass


@pytest.mark.parametrize("outer", [False, True])
def test_4_signal_in_the_library_stops_after_the_step_and_reaches_the_callers_handler(
        outer, data, tmp_path):
    """codesign.search fine-tunes with train_model under its own SIGTERM handler: the step
    finishes, is checkpointed, then that handler gets the signal (and raises its exception)."""
    def handler(signum, frame):
        raise _CallersStop(signum)

    before = signal.signal(signal.SIGTERM, handler if outer else signal.SIG_DFL)
    try:
        with pytest.raises(_CallersStop if outer else train.TrainingInterrupted):
            train.train_model(_SignalsItself(at=3), data=data, scale=2, steps=20, batch_size=2,
                              patch_size=32, out_dir=tmp_path / "run", device="cpu",
                              arch="tiny", progress=False)
        assert signal.getsignal(signal.SIGTERM) is (handler if outer else signal.SIG_DFL)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert load(tmp_path / "run" / "checkpoint.pt")["step"] == 3
    _no_temporaries(tmp_path / "run")


# ---------------------------------------------------------------- 5: changed settings on resume

@pytest.mark.parametrize("changed, flag", [(["--steps", "3"], "--steps"),
                                          (["--lr", "0.002"], "--lr"),
                                          (["--batch-size", "4"], "--batch-size"),
                                          (["--seed", "1"], "--seed")])
def test_5_resume_with_another_setting_is_refused_naming_it(changed, flag, data, tmp_path,
                                                             capsys):
    out = tmp_path / "run"
    base = ["--arch", "espcn", "--scale", "2", "--batch-size", "2", "--patch-size", "32",
            "--val-every", "0", "--steps", "2", "--data", data, "--out", out]
    assert train_main(base) == 0
    before = (out / "checkpoint.pt").read_bytes()
    line = _refused(train_main, [*base, *changed, "--resume"], capsys)  # the last one wins
    assert f"{flag} " in line and "cannot resume" in line
    assert (out / "checkpoint.pt").read_bytes() == before


# ---------------------------------------------------------------- 6: the same seed, the same result

def test_6_same_seed_gives_bit_identical_training_in_fresh_processes(data, tmp_path):
    args = ["--arch", "espcn", "--scale", "2", "--batch-size", "2", "--patch-size", "32",
            "--val-every", "0", "--steps", "3", "--seed", "0", "--data", data]
    for name in ("a", "b"):  # each process starts from another random torch seed
        proc = _cli("codesign.train", *args, "--out", tmp_path / name)
        assert proc.returncode == 0, proc.stderr
    _assert_same_weights(tmp_path / "a" / "checkpoint.pt", tmp_path / "b" / "checkpoint.pt")
    losses = [pd.read_csv(tmp_path / n / "train_log.csv").loss.tolist() for n in "ab"]
    assert losses[0] == losses[1]


def test_6_baselines_same_seed_same_rows(data, tmp_path):
    rows = []
    for name in ("a", "b"):
        proc = _cli("benchmarks.quality.baselines", "--archs", "espcn", "--scale", "2", "--steps", "2",
                    "--batch-size", "2", "--patch-size", "32", "--data", data,
                    "--val-data", data, "--work", tmp_path / f"work_{name}",
                    "--out", tmp_path / f"{name}.csv")
        assert proc.returncode == 0, proc.stderr
        rows.append(pd.read_csv(tmp_path / f"{name}.csv"))
    assert rows[0][["psnr", "ssim"]].equals(rows[1][["psnr", "ssim"]])
    _assert_same_weights(tmp_path / "work_a" / "espcn_x2" / "checkpoint.pt",
                         tmp_path / "work_b" / "espcn_x2" / "checkpoint.pt")


# ---------------------------------------------------------------- 11: 16-bit PNGs

def _png16(path, arr):
    """Write ``arr`` (HxW or HxWxC uint16) as a 16-bit PNG (Pillow cannot write 16-bit RGB)."""
    arr = arr if arr.ndim == 3 else arr[:, :, None]
    h, w, c = arr.shape
    raw = b"".join(b"\x00" + arr[y].astype(">u2").tobytes() for y in range(h))

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", w, h, 16, {1: 0, 2: 4, 3: 2, 4: 6}[c], 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_11_sixteen_bit_pngs_are_scaled_not_clipped(tmp_path):
    rng = np.random.default_rng(0)
    gray = rng.integers(0, 65536, (40, 50), dtype=np.uint16)
    rgb = rng.integers(0, 65536, (40, 50, 3), dtype=np.uint16)
    _png16(tmp_path / "gray.png", gray)
    _png16(tmp_path / "rgb.png", rgb)
    g, c = read_rgb(tmp_path / "gray.png"), read_rgb(tmp_path / "rgb.png")
    assert g.dtype == np.uint8 and g.shape == (40, 50, 3)
    assert np.array_equal(g, np.repeat((gray >> 8).astype(np.uint8)[:, :, None], 3, axis=2))
    assert np.array_equal(c, (rgb >> 8).astype(np.uint8))  # grayscale and RGB alike
    assert (g == 255).mean() < 0.01  # it was 99.6 % when clipped


def test_11_evaluate_scores_a_16_bit_png_as_its_8_bit_twin(tmp_path, capsys):
    img8 = read_rgb(BUTTERFLY)[:96, :96, 0]  # grayscale: the case Pillow clipped
    (tmp_path / "d8").mkdir()
    (tmp_path / "d16").mkdir()
    Image.fromarray(img8).save(tmp_path / "d8" / "b.png")
    _png16(tmp_path / "d16" / "b.png", img8.astype(np.uint16) * 257)
    for name in ("d8", "d16"):
        assert evaluate_main(["--arch", "bicubic", "--scale", "2", "--data", str(tmp_path / name),
                              "--out", str(tmp_path / f"{name}.csv")]) == 0
    a, b = (pd.read_csv(tmp_path / f"{n}.csv") for n in ("d8", "d16"))
    assert a.psnr.tolist() == b.psnr.tolist() and a.ssim.tolist() == b.ssim.tolist()


# ---------------------------------------------------------------- 12: bad checkpoints

def _good_checkpoint(path, arch="espcn", scale=2, weights_of=None):
    model = build_model(weights_of or arch, scale)
    save_atomic({"arch": arch, "scale": scale, "model_kwargs": {}, "model": model.state_dict()},
                path)
    return path


def _bad_checkpoints(tmp_path):
    good = _good_checkpoint(tmp_path / "good.pt").read_bytes()
    cases = {
        "truncated": good[: len(good) // 2],
        "random": np.random.default_rng(0).bytes(4096),
        "empty": b"",
        "pickle": pickle.dumps({"arch": "espcn", "scale": 2}),
    }
    paths = {}
    for name, blob in cases.items():
        paths[name] = tmp_path / f"{name}.pt"
        paths[name].write_bytes(blob)
    paths["directory"] = tmp_path / "folder.pt"
    paths["directory"].mkdir()
    paths["missing"] = tmp_path / "missing.pt"
    paths["object"] = tmp_path / "object.pt"  # a torch file of something not allowed
    torch.save(pd.Timestamp(0), paths["object"])
    paths["tensor"] = tmp_path / "tensor.pt"
    torch.save(torch.zeros(3), paths["tensor"])
    paths["no_arch"] = tmp_path / "no_arch.pt"
    torch.save({"model": build_model("espcn", 2).state_dict()}, paths["no_arch"])
    paths["wrong_weights"] = _good_checkpoint(tmp_path / "wrong.pt", "espcn", 2, "fsrcnn")
    return paths


def test_12_evaluate_refuses_every_bad_checkpoint_in_one_line(tmp_path, capsys):
    for name, path in _bad_checkpoints(tmp_path).items():
        out = tmp_path / f"{name}.csv"
        line = _refused(evaluate_main, ["--checkpoint", path, "--scale", "2", "--out", out],
                        capsys)
        assert str(path) in line, (name, line)
        assert not out.exists(), name


def test_12_evaluate_bad_checkpoint_in_a_fresh_process_has_no_traceback(tmp_path):
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"PK\x03\x04 truncated zip")
    _assert_refused(_cli("codesign.evaluate", "--checkpoint", bad, "--out", tmp_path / "x.csv"))
    assert not (tmp_path / "x.csv").exists()


def test_12_evaluate_checkpoint_of_another_scale(tmp_path, capsys):
    ckpt = _good_checkpoint(tmp_path / "x2.pt")
    line = _refused(evaluate_main, ["--checkpoint", ckpt, "--scale", "4",
                                    "--out", tmp_path / "o.csv"], capsys)
    assert "x2" in line and "x4" in line


@pytest.mark.parametrize("kind", ["random", "truncated", "wrong_weights", "directory"])
def test_12_train_resume_on_a_bad_checkpoint_is_one_line(kind, data, tmp_path, capsys):
    (tmp_path / "src").mkdir()
    bad = _bad_checkpoints(tmp_path / "src")[kind]
    out = tmp_path / "run"
    out.mkdir()
    target = out / "checkpoint.pt"
    if bad.is_dir():
        target.mkdir()
    else:
        target.write_bytes(bad.read_bytes())
    args = ["--arch", "espcn", "--scale", "2", "--batch-size", "2", "--patch-size", "32",
            "--val-every", "0", "--steps", "2", "--data", data, "--out", out, "--resume"]
    line = _refused(train_main, args, capsys)
    assert "checkpoint" in line and str(target) in line


# ---------------------------------------------------------------- 13: small images among good ones

def test_13_evaluate_skips_a_tiny_image_with_one_warning(data, tmp_path, capsys):
    folder = tmp_path / "set"
    folder.mkdir()
    for p in data.iterdir():
        (folder / p.name).write_bytes(p.read_bytes())
    Image.fromarray(np.full((10, 10, 3), 128, np.uint8)).save(folder / "tiny.png")
    out = tmp_path / "o.csv"
    capsys.readouterr()
    assert evaluate_main(["--arch", "bicubic", "--scale", "4", "--data", str(folder),
                          "--out", str(out)]) == 0
    err = capsys.readouterr().err
    warned = [ln for ln in err.replace("\r", "\n").splitlines() if ln.startswith("warning:")]
    assert len(warned) == 1 and "tiny.png" in warned[0], err
    assert "Traceback" not in err
    assert pd.read_csv(out).image.tolist() == ["img0", "img1", "img2", "mean"]


def test_13_evaluate_only_tiny_images_is_one_error(tmp_path, capsys):
    Image.fromarray(np.full((10, 10, 3), 128, np.uint8)).save(tmp_path / "tiny.png")
    capsys.readouterr()
    with pytest.raises(SystemExit) as stop:
        evaluate_main(["--arch", "bicubic", "--data", str(tmp_path), "--out",
                       str(tmp_path / "o.csv")])
    err = capsys.readouterr().err
    errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
    assert stop.value.code == 2 and len(errors) == 1 and "no usable images" in errors[0]
    assert "Traceback" not in err and not (tmp_path / "o.csv").exists()


# ---------------------------------------------------------------- 14: unwritable or wrong outputs

def test_14_evaluate_checks_out_before_any_work(tmp_path, capsys):
    (tmp_path / "folder.csv").mkdir()
    (tmp_path / "file").write_text("x")
    missing_data = tmp_path / "no-such-data"  # would fail too, but --out is checked first
    for out in (tmp_path / "folder.csv", tmp_path / "file" / "o.csv"):
        line = _refused(evaluate_main, ["--arch", "bicubic", "--data", missing_data,
                                        "--out", out], capsys)
        assert line.startswith("error: --out") and str(out.parent) in line
    assert (tmp_path / "file").read_text() == "x"


def test_14_train_out_onto_a_file_or_under_one(data, tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    for out in (tmp_path / "file", tmp_path / "file" / "run"):
        line = _refused(train_main, [*TRAIN, "--data", data, "--out", out], capsys)
        assert line.startswith("error: --out")
    assert (tmp_path / "file").read_text() == "x"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_14_read_only_folder(data, tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        _refused(evaluate_main, ["--arch", "bicubic", "--out", ro / "o.csv"], capsys)
        _refused(train_main, [*TRAIN, "--data", data, "--out", ro / "run"], capsys)
        assert not list(ro.iterdir())
    finally:
        ro.chmod(0o755)


def test_14_baselines_checks_out_and_work_first(tmp_path, capsys):
    (tmp_path / "file").write_text("x")
    (tmp_path / "folder").mkdir()
    line = _refused(baselines_main, ["--archs", "espcn", "--out", tmp_path / "folder"], capsys)
    assert line.startswith("error: --out")
    line = _refused(baselines_main, ["--archs", "espcn", "--out", tmp_path / "b.csv",
                                     "--work", tmp_path / "file"], capsys)
    assert line.startswith("error: --work")
    assert not (tmp_path / "b.csv").exists()


def test_14_failed_training_leaves_no_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    _refused(train_main, [*TRAIN, "--data", tmp_path / "empty", "--out", tmp_path / "run"],
             capsys)
    assert not (tmp_path / "run").exists()


# ---------------------------------------------------------------- 15: unchecked arguments

@pytest.mark.parametrize("bad", [
    ["--steps", "0"], ["--steps", "-5"], ["--steps", "abc"], ["--batch-size", "0"],
    ["--patch-size", "0"], ["--patch-size", "33"], ["--lr", "0"], ["--lr", "nan"],
    ["--lr", "-1"], ["--val-every", "-1"], ["--seed", "-1"], ["--checkpoint-every", "0"],
    ["--checkpoint-seconds", "0"], ["--scale", "5"], ["--torch-device", "nonsense"],
    ["--torch-device", "cuda"], ["--resume", "--force"], ["--arch", "nope"],
])
def test_15_train_bad_arguments(bad, data, tmp_path, capsys):
    args = list(TRAIN)
    if bad[0] in args:
        i = args.index(bad[0])
        args[i:i + 2] = bad
    else:
        args += bad
    _refused(train_main, [*args, "--data", data, "--out", tmp_path / "run"], capsys)
    assert not (tmp_path / "run").exists()


def test_15_rlfn_patch_too_small_is_refused_before_training(data, tmp_path, capsys):
    line = _refused(train_main, ["--arch", "rlfn", "--scale", "4", "--patch-size", "32",
                                 "--data", data, "--out", tmp_path / "run"], capsys)
    assert "60" in line and not (tmp_path / "run").exists()


@pytest.mark.parametrize("bad", [["--steps", "0"], ["--archs", "espcn,nope"],
                                 ["--batch-size", "-1"], ["--patch-size", "30"],
                                 ["--lr", "inf"]])
def test_15_baselines_bad_arguments(bad, tmp_path, capsys):
    _refused(baselines_main, [*bad, "--work", tmp_path / "w", "--out", tmp_path / "b.csv"],
             capsys)
    assert not (tmp_path / "w").exists() and not (tmp_path / "b.csv").exists()


# ---------------------------------------------------------------- --torch-device, help text

@pytest.mark.parametrize("main", [train_main, evaluate_main])
def test_device_flag_is_now_torch_device(main, tmp_path, capsys):
    args = ["--arch", "espcn", "--out", tmp_path / "o.csv", "--device", "cpu"]
    line = _refused(main, args, capsys)
    assert "--torch-device cpu" in line


def test_train_help_names_a_listing_that_exists(capsys):
    with pytest.raises(SystemExit) as stop:
        train_main(["--help"])
    assert stop.value.code == 0
    assert "python -m codesign.models" in capsys.readouterr().out
    proc = _cli("codesign.models")
    assert proc.returncode == 0 and "espcn" in proc.stdout.split()
