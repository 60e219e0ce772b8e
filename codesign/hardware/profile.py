"""`python -m codesign.profile`: measure every op instance of the search space on a device.

    python -m codesign.profile --device NAME
        [--runtime tvm|tvm-untuned|onnxruntime|pytorch|simulator]
        [--space CONFIG.json|yaml] [--scale 2|3|4] [--input HxW]
        [--trials N] [--dominant-trials M] [--limit K] [--keys KEY,KEY...] [--rpc-tracker HOST:PORT [--rpc-key KEY]]
        [--work-dir DIR] [--redo-above-load L] --out FILE.csv

Op instances come from codesign.space.op_instances (stable keys, features); each is built as the
PyTorch block the supernet runs and timed by devices.profile in `--runtime`
(devices.backends.for_device): TVM compiles it (fused as TVM fuses it) and tunes it with
MetaSchedule (`--trials` per fused task, at least, the one holding the most FLOPs up to
`--dominant-trials`, default 4x; devices.tvm_compile.tuning.trial_targets; database in --work-dir reused across runs);
onnxruntime and PyTorch run it on this CPU; a simulated accelerator costs it. Every timing is
guarded (devices.quiet_timing: one at a time, repeated then refused when other processes take
over 5 % of the CPU) and its row names the host (host_id) and foreign CPU share.
Resumes: keys already in FILE for this device and backend are skipped; every finished row is
appended atomically. `--limit K` measures at most K new instances, in a fixed pseudo-random order
(hash of the key) so a partial profile covers all ops and sizes; `--keys` measures only the
named instances (e.g. the kernels a measured network needs). `--redo-above-load L` first
drops rows timed while the 1-minute load average was above L (a shared machine), so they are
timed again (their tuning records are reused).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from codesign.space.op_instances import build_op_module, op_instances
from codesign.space.search_space import SearchSpace
from codesign_common.cli import (
    Parser,
    UsageError,
    check_output_dir,
    check_output_file,
    cli_main,
    nonnegative_int,
    positive_int,
)
from devices.backends import RUNTIMES
from devices.catalog import UnknownDeviceError, get_device
from devices.profile import profile_kernels
from devices.profile_csv import ProfileError, measured_keys
from devices.quiet_timing import DisturbedTiming, check_timing_settings
from devices.tvm_compile.tuning import TuningSettings

SCALES = (2, 3, 4)  # the upscaling factors every command accepts


def parse_hw(text: str) -> tuple[int, int]:
    """`HxW` → (h, w) positive ints; ValueError otherwise."""
    try:
        h, w = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise ValueError(f"--input must be HxW, e.g. 90x160, got {text!r}") from None
    if h <= 0 or w <= 0:
        raise ValueError(f"--input must be positive, got {text!r}")
    return h, w


def load_space(path: str | None, scale: int) -> SearchSpace:
    """SearchSpace from a JSON/YAML config file (default: the default space at `scale`)."""
    if path is None:
        return SearchSpace(scale=scale)
    try:
        text = Path(path).read_text()
        data = json.loads(text) if path.endswith(".json") else __import__("yaml").safe_load(text)
        return SearchSpace.from_dict({"scale": scale, **data})
    except (OSError, ValueError, TypeError) as err:
        raise ValueError(f"cannot read search space {path}: {str(err).splitlines()[0]}") from None


def profile(device_name: str, out: str, *, runtime: str = "tvm", space=None, scale: int = 4, input_hw=None, trials: int = 64,
            dominant_share: float = TuningSettings.dominant_share, limit: int | None = None, keys: list[str] | None = None, rpc_tracker: str | None = None, rpc_key: str | None = None,
            work_dir=None, repeats: int = 10, redo_above_load: float | None = None, progress: bool = True) -> int:
    """Measure missing op instances of ``space`` (default: the default space at ``scale``) at
    ``input_hw`` (default: the device's LR input) into `out`; returns how many rows were added."""
    device = get_device(device_name)
    hw = tuple(input_hw or device.lr_input_hw)
    instances = op_instances(space or load_space(None, scale), hw).set_index("key", drop=False)
    if keys is not None:
        if unknown := [k for k in keys if k not in instances.index]:
            raise ValueError(f"not an op instance of this space at {hw[0]}x{hw[1]}: {', '.join(unknown)}")
        instances = instances.loc[list(dict.fromkeys(keys))]
    return profile_kernels(device, out, instances, build_op_module, runtime=runtime, trials=trials,
                           dominant_share=dominant_share, limit=limit, rpc_tracker=rpc_tracker, rpc_key=rpc_key, work_dir=work_dir,
                           repeats=repeats, redo_above_load=redo_above_load, progress=progress)


@cli_main(DisturbedTiming)
def main(argv=None) -> int:
    parser = Parser(prog="python -m codesign.profile", description=__doc__,
                    formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", required=True)
    parser.add_argument("--runtime", choices=RUNTIMES, default="tvm",
                        help="what times the kernels (onnxruntime/pytorch: this CPU only; "
                             "simulator: simulated accelerators)")
    parser.add_argument("--space", help="search-space config (JSON or YAML with SearchSpace fields)")
    parser.add_argument("--scale", type=int, default=4, choices=SCALES)
    parser.add_argument("--input", help="LR input HxW (default: the device's)")
    parser.add_argument("--trials", type=nonnegative_int, default=64,
                        help="MetaSchedule trials per fused task (0: untuned)")
    parser.add_argument("--dominant-trials", type=positive_int,
                        help="trials of the fused task holding the most FLOPs (default: "
                             f"{TuningSettings.dominant_share:g} x --trials)")
    parser.add_argument("--limit", type=nonnegative_int, help="measure at most K new op instances")
    parser.add_argument("--keys", help="comma-separated op-instance keys to measure (default: all)")
    parser.add_argument("--rpc-tracker", help="HOST:PORT of a TVM RPC tracker")
    parser.add_argument("--rpc-key", help="device key at the tracker (default: the catalog's)")
    parser.add_argument("--work-dir", help="MetaSchedule database directory (default: ~/.cache/codesign/tuning/DEVICE-TARGETHASH)")
    parser.add_argument("--repeats", type=positive_int, default=10)
    parser.add_argument("--redo-above-load", type=float, help="re-measure rows timed above this 1-min load average")
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)
    try:
        check_output_file(args.out)
        if args.dominant_trials is not None and args.dominant_trials < args.trials:
            raise UsageError("--dominant-trials must be at least --trials")
        if args.work_dir:
            check_output_dir(args.work_dir, "--work-dir")
        get_device(args.device)
        check_timing_settings()
        hw = parse_hw(args.input) if args.input else None
        space = load_space(args.space, args.scale)
        measured_keys(args.out, args.device, "")  # a malformed existing CSV fails before any work
        added = profile(args.device, args.out, runtime=args.runtime, space=space, scale=args.scale, input_hw=hw,
                        trials=args.trials, limit=args.limit,
                        dominant_share=(args.dominant_trials / args.trials if args.dominant_trials
                                        and args.trials else TuningSettings.dominant_share),
                        keys=args.keys.split(",") if args.keys else None, rpc_tracker=args.rpc_tracker,
                        rpc_key=args.rpc_key, work_dir=args.work_dir, repeats=args.repeats,
                        redo_above_load=args.redo_above_load)
    except (UnknownDeviceError, ProfileError, ValueError) as err:
        raise UsageError(str(err).splitlines()[0] if str(err) else repr(err)) from None
    print(f"{added} rows added to {args.out}")
    return 0
