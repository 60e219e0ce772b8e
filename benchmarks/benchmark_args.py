"""Argument groups the benchmarks share, so each states only what it measures: the training
schedule, where results and working files go, the runtime, and the derived networks to time.

Every count is validated (``codesign_common.cli``): a bad value is one ``error:`` line, exit 2.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from codesign_common.cli import Parser, nonnegative_int, positive_int

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results"
GENOTYPES = REPO / "benchmarks" / "genotypes"
NETWORKS = RESULTS / "networks_local_cpu.csv"
"""The 50 derived networks the local-cpu benchmarks time (benchmarks.latency.networks_local_cpu)."""


def benchmark_parser(module: str, doc: str) -> Parser:
    """The parser of ``python -m <module>`` (pass ``__spec__.name``), its help the module's
    docstring as written."""
    return Parser(prog=f"python -m {module}", description=doc,
                  formatter_class=argparse.RawDescriptionHelpFormatter)


def add_schedule(parser: argparse.ArgumentParser, *, steps: int | None = None,
                 warmup_steps: int | None = None, finetune_steps: int, batch_size: int = 4,
                 patch_size: int = 48, steps_flag: str = "--steps") -> None:
    """Search steps (``steps_flag``, dest ``steps``; left out when ``steps`` is None), warm-up
    steps, fine-tuning steps, batch size and HR patch size (px)."""
    group = parser.add_argument_group("schedule")
    if steps is not None:
        group.add_argument(steps_flag, dest="steps", type=positive_int, default=steps,
                           help="supernet search steps")
    if warmup_steps is not None:
        group.add_argument("--warmup-steps", type=nonnegative_int, default=warmup_steps)
    group.add_argument("--finetune-steps", type=nonnegative_int, default=finetune_steps)
    group.add_argument("--batch-size", type=positive_int, default=batch_size)
    group.add_argument("--patch-size", type=positive_int, default=patch_size, help="HR patch side (px)")


def add_output(parser: argparse.ArgumentParser, name: str, work: bool = True) -> None:
    """``--out`` (default benchmarks/results/NAME.csv) and, with ``work``, ``--work``
    (default runs/NAME: resumable working files)."""
    group = parser.add_argument_group("output")
    group.add_argument("--out", type=Path, default=RESULTS / f"{name}.csv")
    if work:
        group.add_argument("--work", type=Path, default=Path("runs") / name,
                           help="working files (a re-run resumes from them)")


def add_networks(parser: argparse.ArgumentParser) -> None:
    """``--networks``: the CSV of derived networks to time (genotype column)."""
    parser.add_argument("--networks", type=Path, default=NETWORKS,
                        help="derived networks to time (benchmarks.latency.networks_local_cpu's CSV)")
