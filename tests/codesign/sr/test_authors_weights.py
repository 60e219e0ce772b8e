"""Authors' checkpoints by name (codesign.sr.models.weights): every published naming loads by its
key map (not by tensor order), at every published scale, with its input range; files that are
not the named network's, or hold more than tensors, are refused in one line."""
import re

import pytest
import torch

from codesign.sr.evaluate import main as evaluate_main
from codesign.sr.models import build_model
from codesign.sr.models.weights import ValueRange, WeightsError, load_authors_weights


def _imdn_name(key):  # Zheng222/IMDN checkpoints (saved from nn.DataParallel)
    key = re.sub(r"^blocks\.(\d+)\.", lambda m: f"IMDB{int(m[1]) + 1}.", key)
    key = key.replace("cca.gate.", "cca.conv_du.")
    for ours, theirs in (("head.", "fea_conv."), ("fuse.0.", "c.0."), ("body_tail.", "LR_conv.")):
        key = theirs + key[len(ours):] if key.startswith(ours) else key
    return "module." + key


def _rlfn_name(key):  # bytedance/RLFN model_zoo
    key = re.sub(r"^blocks\.(\d+)\.", lambda m: f"block_{int(m[1]) + 1}.", key)
    return key.replace("head.", "conv_1.", 1).replace("body_tail.", "conv_2.", 1)


def _ntire_name(key):  # ofsoundof/NTIRE2022_ESR team04_rlfn.pth
    key = re.sub(r"^blocks\.(\d+)\.", lambda m: f"B{int(m[1]) + 1}.", key)
    return key.replace("head.", "fea_conv.", 1).replace("body_tail.", "LR_conv.", 1)


RELEASES = [("imdn", s, _imdn_name, 1.0) for s in (2, 3, 4)] + [
    ("rlfn", 2, _rlfn_name, 255.0), ("rlfn", 4, _rlfn_name, 255.0),
    ("rlfn_s", 2, _rlfn_name, 255.0), ("rlfn_s", 4, _rlfn_name, 255.0),
    ("rlfn_ntire", 4, _rlfn_name, 255.0), ("rlfn_ntire", 4, _ntire_name, 255.0)]


def _authors_file(tmp_path, arch, scale, rename, shuffle=True, seed=0):
    """A synthetic checkpoint in the authors' naming: random tensors of the right shapes,
    stored in reversed key order so that loading by tensor order would fail."""
    torch.manual_seed(seed)
    state = {rename(k): torch.randn_like(v)
             for k, v in build_model(arch, scale).state_dict().items()}
    if shuffle:
        state = dict(reversed(list(state.items())))
    path = tmp_path / f"{arch}_x{scale}_{rename.__name__}.pth"
    torch.save(state, path)
    return path, state


@pytest.mark.parametrize("arch,scale,rename,value_range", RELEASES)
def test_every_published_naming_loads_by_name_with_its_input_range(tmp_path, arch, scale, rename,
                                                                  value_range):
    path, state = _authors_file(tmp_path, arch, scale, rename)
    model, fmt = load_authors_weights(arch, scale, path)
    assert fmt.value_range == value_range
    net = model.net if isinstance(model, ValueRange) else model
    assert isinstance(model, ValueRange) == (value_range != 1)
    for key, tensor in net.state_dict().items():
        assert torch.equal(tensor, state[rename(key)]), key


def test_the_maps_know_the_authors_real_key_names():
    assert _imdn_name("blocks.5.cca.gate.2.bias") == "module.IMDB6.cca.conv_du.2.bias"
    assert _rlfn_name("blocks.0.esa.conv_f.weight") == "block_1.esa.conv_f.weight"
    assert _ntire_name("body_tail.bias") == "LR_conv.bias"


def test_a_range_255_checkpoint_is_fed_and_read_in_0_255():
    net = build_model("rlfn_ntire", 4).eval()
    x = torch.rand(1, 3, 16, 16)
    with torch.no_grad():
        assert torch.allclose(ValueRange(net, 255)(x), net(x * 255) / 255, atol=1e-6)


def test_a_checkpoint_of_another_scale_or_network_is_one_line(tmp_path):
    x2, _ = _authors_file(tmp_path, "rlfn", 2, _rlfn_name)
    with pytest.raises(WeightsError, match=r"not a 'rlfn' x4 checkpoint: it upsamples x2") as err:
        load_authors_weights("rlfn", 4, x2)
    assert "\n" not in str(err.value)
    with pytest.raises(WeightsError, match=r"head.weight is 52x3x3x3 in the file, 48x3x3x3"):
        load_authors_weights("rlfn_s", 2, x2)
    with pytest.raises(WeightsError, match="not a 'imdn' x2 checkpoint .*tensors missing"):
        load_authors_weights("imdn", 2, x2)


class _Payload:
    """Anything but a tensor: weights_only must refuse to unpickle it."""


def test_files_with_pickled_objects_truncated_or_missing_are_refused(tmp_path):
    pickled = tmp_path / "code.pth"
    torch.save({"head.weight": _Payload()}, pickled)
    with pytest.raises(WeightsError, match="holds more than tensors"):
        load_authors_weights("imdn", 4, pickled)
    good, _ = _authors_file(tmp_path, "imdn", 4, _imdn_name)
    cut = tmp_path / "cut.pth"
    cut.write_bytes(good.read_bytes()[:5000])
    with pytest.raises(WeightsError, match="not a readable PyTorch weights file"):
        load_authors_weights("imdn", 4, cut)
    with pytest.raises(WeightsError, match="does not exist"):
        load_authors_weights("imdn", 4, tmp_path / "none.pth")


def test_evaluate_takes_authors_weights_and_refuses_a_mismatch_in_one_line(tmp_path, butterfly,
                                                                           capsys):
    from PIL import Image

    (tmp_path / "imgs").mkdir()
    Image.fromarray(butterfly).save(tmp_path / "imgs" / "butterfly.png")
    path, _ = _authors_file(tmp_path, "rlfn_ntire", 4, _ntire_name)
    out = tmp_path / "e.csv"
    assert evaluate_main(["--arch", "rlfn_ntire", "--weights", str(path), "--data",
                          str(tmp_path / "imgs"), "--out", str(out), "--torch-device", "cpu"]) == 0
    text = out.read_text()
    assert "NTIRE2022_ESR" in text and "psnr_bicubic" in text
    capsys.readouterr()  # the first run's progress lines
    with pytest.raises(SystemExit) as exit_:
        evaluate_main(["--arch", "imdn", "--weights", str(path), "--data", str(tmp_path / "imgs"),
                       "--out", str(tmp_path / "bad.csv")])
    lines = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(lines) == 1 and "not a 'imdn' x4 checkpoint" in lines[0]
    assert not (tmp_path / "bad.csv").exists()
