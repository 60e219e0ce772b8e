"""How far apart the same network's timings land, by the wall time their repeats span.

    python -m benchmarks.latency.timing_span_local_cpu [--count 12] [--passes 3] [--spans 0,6]
        [--networks benchmarks/results/networks_local_cpu.csv]
        [--out benchmarks/results/timing_span_local_cpu.csv]

The first ``--count`` derived networks of ``--networks`` are built in onnxruntime on this CPU
(local-cpu's LR input) and timed ``--passes`` times each, passes one after the other, every
network in every pass once per span: ``--spans`` seconds the repeats must cover at least
(devices.timing.NETWORK_SPAN_S; 0 = the 10 repeats of >= 100 ms alone, about 1 s). Each timing
is one devices.backends measurement (machine-wide lock, foreign CPU share). Rows: network,
span, pass, min and median (ms), repeats, foreign CPU share, host. The summary (``summarise``:
printed by a run, computed from the rows wherever it is read, never stored) has per span the
median and largest max/min of a network's minima over the passes and the share of networks
within 1.10.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

from benchmarks.benchmark_args import add_networks, add_output, benchmark_parser
from benchmarks.latency.retest_local_cpu import load_networks
from codesign.space.genotype import TrilevelNet
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main, positive_int
from devices import host_identity
from devices.backends import create
from devices.catalog import get_device
from devices.quiet_timing import DisturbedTiming


def spans_arg(text: str) -> list[float]:
    """``'0,6'`` → [0.0, 6.0] (seconds, each >= 0)."""
    try:
        spans = [float(s) for s in text.split(",") if s.strip()]
    except ValueError:
        spans = []
    if not spans or min(spans) < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not comma-separated seconds >= 0, e.g. 0,6")
    return spans


def time_spans(count: int, passes: int, spans: list[float], networks_csv: Path) -> pd.DataFrame:
    """One row per network, span and pass (see the module doc)."""
    device = get_device("local-cpu")
    shape = (1, 3, *device.lr_input_hw)
    networks = dict(list(load_networks(networks_csv).items())[:count])
    backends = {span: create("onnxruntime", device, min_span_s=span) for span in spans}
    built = {(name, span): backends[span].build(TrilevelNet(g).eval(), shape)
             for name, g in networks.items() for span in spans}
    fp = host_identity.fingerprint()
    rows = []
    for k in range(passes):
        for name in networks:
            for span in spans:
                m = backends[span].run_measurement(built[name, span])
                rows.append({"network": name, "span_s": span, "pass": k,
                             "min_ms": m.timing.min_ms, "median_ms": m.timing.median_ms,
                             "repeats": m.timing.repeats, "foreign_cpu_share": m.foreign_cpu_share,
                             "runtime": m.runtime, "host": host_identity.describe(fp),
                             "host_id": fp["host_id"]})
    return pd.DataFrame(rows)


def summarise(rows: pd.DataFrame) -> pd.DataFrame:
    """Per span: the spread (max/min) of each network's minima over the passes."""
    spread = rows.groupby(["span_s", "network"]).min_ms.agg(lambda v: v.max() / v.min())
    return pd.DataFrame([{"span_s": span, "networks": len(s), "median_spread": s.median(),
                          "max_spread": s.max(), "within_1_10": float((s <= 1.10).mean()),
                          "max_foreign_cpu_share": rows[rows.span_s == span].foreign_cpu_share.max(),
                          "host_id": rows.host_id.iloc[0]}
                         for span, s in spread.groupby(level=0)])


@cli_main(DisturbedTiming)
def main(argv=None) -> int:
    p = benchmark_parser(__spec__.name, __doc__)
    p.add_argument("--count", type=positive_int, default=12)
    p.add_argument("--passes", type=positive_int, default=3)
    p.add_argument("--spans", type=spans_arg, default=[0.0, 6.0], help="seconds, comma-separated")
    add_networks(p)
    add_output(p, "timing_span_local_cpu", work=False)
    args = p.parse_args(argv)
    rows = time_spans(args.count, args.passes, args.spans, args.networks)
    write_csv_atomic(rows, args.out)
    print(summarise(rows).to_string(index=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
