"""`python -m codesign.measure`: whole-network latency of a reference network, a derived
genotype or an ONNX file with TVM (tuned and untuned) and, on this machine's CPU, onnxruntime
and PyTorch, as profile-CSV rows (op = network).

    python -m codesign.measure --device NAME (--onnx FILE | --genotype FILE | --arch NAME)
        [--scale 2|3|4] [--input HxW] [--trials N] [--rpc-tracker HOST:PORT [--rpc-key KEY]]
        [--runtimes tvm-untuned,tvm,onnxruntime,pytorch] [--work-dir DIR] [--breakdown FILE.csv]
        --out FILE.csv

The network is built here (codesign.models, codesign.space.genotype; MACs and parameters counted by
codesign.sr.complexity) and timed by devices.measure. `--trials` is per fused task, at least (every distinct
fused kernel of the network is tuned; the one holding the most FLOPs 4x that, the others in
proportion to their FLOPs, devices.tvm_compile.tuning.trial_targets); the row's database_hits says how many of the network's
fused kernels the tuned records replaced. `--breakdown FILE.csv` also writes the local `tvm`
build's per-call times inside the network (devices.tvm_compile.kernel_breakdown: fused kernels and VM
builtins, in call order).
"""
from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

from codesign.hardware.profile import SCALES, parse_hw
from codesign.space.genotype import Genotype
from codesign.sr.complexity import count_macs, count_params
from codesign.sr.models.registry import build_model
from codesign_common.cli import (
    Parser,
    UsageError,
    check_output_dir,
    check_output_file,
    cli_main,
    nonnegative_int,
    positive_int,
)
from devices.catalog import UnknownDeviceError, get_device
from devices.measure import RUNTIMES, onnx_input_shape, time_network
from devices.profile_csv import ProfileError, read_profile
from devices.quiet_timing import DisturbedTiming, check_timing_settings
from devices.tvm_compile.tuning import TuningSettings


def network_from_args(arch: str | None, genotype: str | None, scale: int):
    """(name, nn.Module) of a reference network or a derived genotype (a JSON file)."""
    if arch:
        return arch, build_model(arch, scale).eval()
    text = Path(genotype).read_text()
    return f"genotype-{hashlib.sha1(text.encode()).hexdigest()[:10]}", build_model("trilevel", scale, genotype=Genotype.from_json(text)).eval()


def measure_network(device_name: str, out: str, *, arch=None, genotype=None, onnx_path=None, scale: int = 4,
                    input_hw=None, trials: int = 64, runtimes=RUNTIMES, rpc_tracker=None, rpc_key=None,
                    work_dir=None, repeats: int = 10, breakdown: str | None = None,
                    dominant_share: float = TuningSettings.dominant_share) -> list[dict]:
    """Time one network (``arch``, ``genotype`` or ``onnx_path``) with each runtime in
    ``runtimes`` (devices.measure.time_network); rows are appended to `out` one by one."""
    if onnx_path:
        name, module, shape = Path(onnx_path).stem, None, onnx_input_shape(onnx_path)
        macs = params = 0
    else:
        name, module = network_from_args(arch, genotype, scale)
        shape = (1, 3, *(input_hw or get_device(device_name).lr_input_hw))
        macs, params = count_macs(module, shape[2:], shape[1]), count_params(module)
    return time_network(device_name, out, name, shape, scale, module=module, onnx_path=onnx_path,
                        macs=macs, params=params, trials=trials, runtimes=runtimes,
                        rpc_tracker=rpc_tracker, rpc_key=rpc_key, work_dir=work_dir,
                        repeats=repeats, breakdown=breakdown, dominant_share=dominant_share)


@cli_main(DisturbedTiming)
def main(argv=None) -> int:
    parser = Parser(prog="python -m codesign.measure", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", required=True)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--onnx")
    source.add_argument("--genotype")
    source.add_argument("--arch")
    parser.add_argument("--scale", type=int, default=4, choices=SCALES)
    parser.add_argument("--input", help="LR input HxW (default: the device's)")
    parser.add_argument("--trials", type=nonnegative_int, default=64)
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--rpc-tracker")
    parser.add_argument("--rpc-key")
    parser.add_argument("--work-dir")
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--breakdown", help="CSV of the `tvm` runtime build's per-call times inside the network")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        # Everything that can be refused is refused before any network is built or timed.
        check_output_file(args.out)
        if args.breakdown:
            check_output_file(args.breakdown, "--breakdown")
        if args.work_dir:
            check_output_dir(args.work_dir, "--work-dir")
        runtimes = [r for r in args.runtimes.split(",") if r]
        if unknown := [r for r in runtimes if r not in RUNTIMES]:
            raise ValueError(f"unknown runtimes {unknown}; known: {', '.join(RUNTIMES)}")
        if not runtimes:
            raise ValueError(f"--runtimes names none of {', '.join(RUNTIMES)}")
        get_device(args.device)
        check_timing_settings()
        for path in (args.onnx, args.genotype):
            if path and not Path(path).is_file():
                raise ValueError(f"no such file: {path}")
        input_hw = parse_hw(args.input) if args.input else None
        if Path(args.out).exists():
            read_profile(args.out)  # a malformed existing CSV fails before any work, left alone
        rows = measure_network(args.device, args.out, arch=args.arch, genotype=args.genotype, onnx_path=args.onnx,
                               scale=args.scale, input_hw=input_hw,
                               trials=args.trials, runtimes=runtimes, rpc_tracker=args.rpc_tracker,
                               rpc_key=args.rpc_key, work_dir=args.work_dir, repeats=args.repeats,
                               breakdown=args.breakdown)
    except (UnknownDeviceError, ProfileError, ValueError, KeyError) as err:
        raise UsageError(str(err).splitlines()[0] if str(err) else repr(err)) from None
    for row in rows:
        print(f"{row['key']}  {row['backend']:<12} {row['runtime']:<24} {row['latency_ms']:10.2f} ms  "
              f"trials={row['trials']} hits={row['database_hits']}")
    return 0
