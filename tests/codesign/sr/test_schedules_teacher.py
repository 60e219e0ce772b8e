"""Named schedules (--schedule) fill the flags left out, in codesign.train and codesign.search;
a teacher adds L1 to its output to the loss, without gradient, and is loaded frozen."""
import dataclasses

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from codesign.search.api import SEARCH_SCHEDULES
from codesign.search.cli import build_parser, request_from
from codesign.sr.schedules import SCHEDULES
from codesign.sr.teacher import distilled_l1, load_teacher, teacher_label
from codesign.sr.train import main as train_main
from codesign.sr.train import train_model


def test_distilled_l1_adds_the_weighted_distance_to_the_teachers_target():
    torch.manual_seed(0)
    out = torch.rand(2, 3, 8, 8, requires_grad=True)
    hr, target = torch.rand(2, 3, 8, 8), torch.rand(2, 3, 8, 8)
    plain = distilled_l1(out, hr, None, 0.5)
    assert plain.item() == pytest.approx(F.l1_loss(out, hr).item())
    loss = distilled_l1(out, hr, target, 0.5)
    assert loss.item() == pytest.approx((F.l1_loss(out, hr) + 0.5 * F.l1_loss(out, target)).item())
    assert distilled_l1(out, hr, target, 0.0).item() == pytest.approx(plain.item())


def test_the_teachers_target_is_its_output_on_the_whole_image_cut_and_flipped_with_hr():
    """Each patch's target is the teacher's 8-bit output on the whole LR image at the HR patch's
    place, under the same flips (a nearest-neighbour teacher makes it checkable by hand)."""
    from codesign.sr.data import SRPatchDataset
    from codesign.sr.teacher import taught_pairs

    rng = np.random.default_rng(0)
    lr = rng.integers(0, 256, (20, 30, 3), dtype=np.uint8)
    hr = rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)
    teacher = nn.Upsample(scale_factor=2.0, mode="nearest")
    (name, lr2, hr2, target), = taught_pairs([("a", lr, hr)], teacher)
    assert name == "a" and lr2 is lr and hr2 is hr and target.dtype == np.uint8
    np.testing.assert_array_equal(target, lr.repeat(2, 0).repeat(2, 1))
    taught = SRPatchDataset([("a", lr, hr, target)], scale=2, patch_size=16, seed=1)
    plain = SRPatchDataset([("a", lr, hr)], scale=2, patch_size=16, seed=1)
    for i in range(16):  # 16 patches, each flipped and transposed at random
        lr_p, hr_p, t_p = taught[i]
        torch.testing.assert_close((lr_p, hr_p), plain[i])
        torch.testing.assert_close(t_p, teacher(lr_p[None])[0])
    with pytest.raises(ValueError, match="not its HR 40x60: is it a network of this scale"):
        taught_pairs([("a", lr, hr)], nn.Upsample(scale_factor=3.0))


def test_a_trained_checkpoint_is_a_frozen_teacher_and_a_resume_keeps_it(tmp_path):
    torch.manual_seed(0)
    from codesign.sr.models import build_model

    train_model(build_model("espcn", 2), scale=2, steps=1, batch_size=1, patch_size=32,
                out_dir=tmp_path / "t", arch="espcn", progress=False)
    teacher, note = load_teacher(str(tmp_path / "t" / "checkpoint.pt"), 2)
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())
    assert "checkpoint.pt" in note
    student = build_model("espcn", 2)
    train_model(student, scale=2, steps=2, batch_size=1, patch_size=32, out_dir=tmp_path / "s",
                arch="espcn", progress=False, teacher=teacher, teacher_name="t", stop_at=1)
    with pytest.raises(Exception, match="started with --teacher t, this run asks for no --teacher"):
        train_model(student, scale=2, steps=2, batch_size=1, patch_size=32,
                    out_dir=tmp_path / "s", arch="espcn", progress=False, resume=True)


def test_the_cpu_schedule_of_codesign_train_wants_the_291_images(tmp_path, capsys):
    with pytest.raises(SystemExit) as stopped:
        train_main(["--arch", "espcn", "--schedule", "cpu", "--out", str(tmp_path / "r")])
    assert stopped.value.code == 2 and not (tmp_path / "r").exists()
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "291" in err and "fetch" in err


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_a_search_schedule_sets_the_flags_left_out_and_a_flag_given_wins(name):
    args = build_parser().parse_args(["--budget", "1GFLOPs", "--schedule", name,
                                      "--finetune-steps", "5", "--patch-size", "24"])
    request = request_from(args, None)
    search, named = SEARCH_SCHEDULES[name], SCHEDULES[name]
    assert request.schedule == dataclasses.replace(search, patch_size=24)
    assert (request.finetune_steps, request.finetune_batch_size, request.finetune_patch_size,
            request.finetune_lr) == (5, named.train.batch_size, named.train.patch_size, named.train.lr)
    assert request.data == named.data


def test_a_search_teacher_sets_the_distillation_and_a_bad_one_is_one_line(tmp_path, capsys):
    from codesign.search.cli import main as search_main

    args = build_parser().parse_args(["--budget", "5GFLOPs", "--teacher", "x.pt"])
    request = request_from(args, None)
    assert request.teacher == "x.pt" and request.schedule.distill_weight == 1.0
    assert request_from(build_parser().parse_args(["--budget", "5GFLOPs"]), None).schedule.distill_weight == 0
    rc = search_main(["--budget", "5GFLOPs", "--teacher", "rlfn:" + str(tmp_path / "none.pth"),
                      "--dry-run", "--out", str(tmp_path / "run")])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "none.pth does not exist" in err
    assert not (tmp_path / "run").exists()


def test_a_teacher_is_named_in_reports_without_the_folders_of_its_file(tmp_path):
    weights = tmp_path / "weights" / "rlfn_ntire_x4.pth"
    assert teacher_label(f"rlfn_ntire:{weights}") == "rlfn_ntire:rlfn_ntire_x4.pth"
    run = tmp_path / "search-pixel7-50ms"
    run.mkdir()
    assert teacher_label(str(run)) == "search-pixel7-50ms"
    assert teacher_label(str(tmp_path / "checkpoint.pt")) == "checkpoint.pt"
