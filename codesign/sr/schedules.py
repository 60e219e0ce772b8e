"""Named training schedules: what ``--schedule demo|cpu|gpu`` sets for ``codesign.train`` and for
the fine-tuning of a searched network (``codesign.search`` adds its own search steps).

Patch size, batch and data decide quality at least as much as steps, so a schedule names all
of them. ``demo`` is the README main job: the built-in photos (no download), minutes on 2 CPU
cores. ``cpu`` trains on the 291 images (``python -m codesign.data fetch 291``) for hours on
2 cores; ``gpu`` on DIV2K at the order of the papers' schedules, for a GPU.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class TrainSchedule:
    """Adam with cosine decay from ``lr`` over ``steps`` steps of ``batch_size`` HR patches of
    ``patch_size`` px, with flips and transposes."""

    steps: int
    batch_size: int
    patch_size: int   # HR patch side (px), a multiple of the scale
    lr: float


@dataclass(frozen=True)
class Schedule:
    """A named schedule: its training, the training set it is meant for (a set name of
    codesign.sr.data.sets, None: the built-in photos) and what it costs, in words."""

    train: TrainSchedule
    data: str | None
    about: str


SCHEDULES = {
    "demo": Schedule(TrainSchedule(steps=12_000, batch_size=16, patch_size=96, lr=1e-3), None,
                     "built-in photos, no download; minutes on 2 CPU cores"),
    "cpu": Schedule(TrainSchedule(steps=100_000, batch_size=16, patch_size=96, lr=1e-3), "291",
                    "the 291 images (T91 + BSD200); hours on 2 CPU cores"),
    "gpu": Schedule(TrainSchedule(steps=500_000, batch_size=64, patch_size=192, lr=5e-4), "div2k",
                    "DIV2K at the order of the papers' schedules; for a GPU"),
}
