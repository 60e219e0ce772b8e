"""Simulated accelerators: agreement with published NAS-Bench-201 latencies, and SR profiles.

`python -m benchmarks.prediction.accelerator_sim [--archs N] [--seed S]` writes
benchmarks/results/accelerator_sim.csv with two sections (column `section`):

- `nb201_agreement`: every NAS-Bench-201 network (or a random subset of N) is decomposed into
  its kernels (predictors.public.nb201), each distinct kernel simulated once on the Eyeriss-like
  array (ZigZag), the network's simulated latency is the sum over its kernels, and Spearman's
  rho / Kendall's tau against the published HW-NAS-Bench `eyeriss` and `fpga` latencies
  (data/latency/nb201_help.csv.gz) is reported, for all kernels PyTorch runs
  (`eager`) and for those left after dead-code elimination (`live`).
- `profile`: simulated profiles (profile-CSV schema) of every op instance of the default
  search space at each simulated device's catalog LR input size, also written per device to
  devices/simulator/profiles/<device>.csv for the predictors.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import kendalltau, spearmanr

from benchmarks.benchmark_args import REPO, RESULTS, benchmark_parser
from codesign_common import public_data
from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import cli_main
from devices.backends import for_device
from devices.catalog import get_device
from predictors.public.nb201 import nb201_kernels

DATA = public_data.LATENCY_DIR
PROFILES = REPO / "devices" / "simulator" / "profiles"
SIM_DEVICES = ("eyeriss_sim", "edgetpu_sim")
REFERENCES = ("eyeriss", "fpga")
CHUNK = 16  # kernels simulated per ZigZag call: progress reaches the cache every chunk


def simulate_kernels(backend, kernels: pd.DataFrame, build_module=None) -> pd.DataFrame:
    """Profile rows of distinct kernels, simulated CHUNK at a time; ``build_module(row)`` gives
    a row's (module, input shape) where the rows are not NAS-Bench-201 kernels."""
    distinct = kernels.drop_duplicates("key").reset_index(drop=True)
    parts = []
    for i in range(0, len(distinct), CHUNK):
        chunk = distinct.iloc[i:i + CHUNK]
        modules = ([build_module(r)[0] for r in chunk.to_dict("records")] if build_module
                   else None)
        parts.append(backend.measure_kernels(chunk, modules))
    return pd.concat(parts, ignore_index=True)


def nb201_agreement(n_archs: int | None, seed: int) -> pd.DataFrame:
    """Spearman/Kendall of simulated Eyeriss-like network latency vs published eyeriss/fpga."""
    archs = pd.read_csv(DATA / "nb201_archs.csv.gz")
    if n_archs:
        archs = archs.sample(n=n_archs, random_state=seed).sort_values("arch_index")
    published = pd.read_csv(DATA / "nb201_help.csv.gz")
    published = published[published["device"].isin(REFERENCES)].pivot(
        index="arch_index", columns="device", values="latency_ms")
    kernels = pd.concat([nb201_kernels(s).assign(arch_index=i)
                         for i, s in zip(archs["arch_index"], archs["arch_str"])], ignore_index=True)
    backend = for_device(get_device("eyeriss_sim"), "simulator")
    profile = simulate_kernels(backend, kernels)
    kernels["sim_ms"] = kernels["key"].map(dict(zip(profile["key"], profile["latency_ms"])))
    rows = []
    for kernel_set in ("eager", "live"):
        simulated = kernels[kernels[kernel_set]].groupby("arch_index")["sim_ms"].sum()
        simulated = simulated.reindex(archs["arch_index"], fill_value=0.0)
        for reference in REFERENCES:
            ref = published.loc[simulated.index, reference]
            rows.append(dict(
                section="nb201_agreement", device="eyeriss_sim", reference=f"public:help:{reference}",
                kernel_set=kernel_set, n_archs=len(simulated),
                spearman_rho=spearmanr(simulated, ref).statistic,
                kendall_tau=kendalltau(simulated, ref).statistic,
                sim_median_ms=float(np.median(simulated)), ref_median_ms=float(np.median(ref)),
                n_distinct_kernels=len(profile), target=backend.array.describe(),
                provenance="simulated:zigzag vs public:help"))
    return pd.DataFrame(rows)


def search_space_profiles() -> pd.DataFrame:
    """Simulated profiles of all op instances of the default search space, per simulated device."""
    from codesign.space.op_instances import build_op_module, op_instances
    from codesign.space.search_space import SearchSpace

    frames = []
    for name in SIM_DEVICES:
        device = get_device(name)
        instances = op_instances(SearchSpace(scale=device.scale), device.lr_input_hw)
        profile = simulate_kernels(for_device(device, "simulator"), instances, build_op_module)
        write_csv_atomic(profile, PROFILES / f"{name}.csv")
        frames.append(profile.assign(section="profile", lr_h=device.lr_input_hw[0],
                                     lr_w=device.lr_input_hw[1]))
    return pd.concat(frames, ignore_index=True)


def run(n_archs: int | None = None, seed: int = 0, out: Path = RESULTS / "accelerator_sim.csv") -> pd.DataFrame:
    """Both sections, written to `out`; returns the frame."""
    agreement = nb201_agreement(n_archs, seed)
    print(agreement[["reference", "kernel_set", "n_archs", "spearman_rho", "kendall_tau"]]
          .to_string(index=False), flush=True)
    result = pd.concat([agreement, search_space_profiles()], ignore_index=True)
    write_csv_atomic(result, out)
    return result


@cli_main()
def main(argv: list[str] | None = None) -> int:
    parser = benchmark_parser(__spec__.name, __doc__)
    parser.add_argument("--archs", type=int, default=None,
                        help="random subset of NAS-Bench-201 architectures (default: all 15,625)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS / "accelerator_sim.csv")
    args = parser.parse_args(argv)
    if args.archs is not None and not 2 <= args.archs <= 15625:
        print("error: --archs must be between 2 and 15625", file=sys.stderr)
        return 2
    run(args.archs, args.seed, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
