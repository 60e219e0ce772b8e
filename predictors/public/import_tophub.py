"""TVM TopHub logs (AutoTVM best schedules) → one profile CSV per device.

    python -m predictors.public.import_tophub FILE.log --out DIR

Keeps the conv2d workloads with NCHW arguments (spatial-pack, winograd, direct and depthwise
schedules, and Adreno's `conv2d_nchwc.image2d`/`depthwise_conv2d_nchwc.image2d`, which take NCHW
tensors and pack them into textures; batch 1, square kernels, dilation 1, symmetric padding);
measured seconds → ms; provenance `public:tophub`.
Devices are keyed by the parsed `-model`, `-device` and `-mcpu` options of the target (e.g.
`rk3399-arm_cpu`, `rk3399-mali`, `generic-adreno` when no model is named), not by the raw
target string, which varies in option order. Workloads of another dtype than float32 (Adreno's
float16 twins of every workload, a few int8 ARM ones) are a device of their own, suffixed
`-<dtype>` (`generic-adreno-float16`), with `:<dtype>` in the key and bytes of that dtype.
"""
from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from codesign_common.atomic import write_csv_atomic
from codesign_common.cli import Parser, check_output_dir, check_output_file, cli_main
from predictors.kernel_features import BYTES_PER_ELEMENT, kernel_key

PROFILE_COLUMNS = ["device", "key", "op", "cin", "cout", "kernel", "groups", "stride", "h", "w",
                   "out_h", "out_w", "macs", "params", "bytes_in", "bytes_out", "latency_ms",
                   "latency_std_ms", "repeats", "trials", "backend", "target", "provenance"]


def device_name(target: str) -> str:
    """`<model>-<device or target kind>[-<mcpu>]` from a TVM target string."""
    parts = target.split()
    options = dict(p[1:].split("=", 1) for p in parts[1:] if p.startswith("-") and "=" in p)
    name = f"{options.get('model', 'generic')}-{options.get('device', parts[0])}"
    return name + (f"-{options['mcpu']}" if "mcpu" in options else "")


DTYPE_BYTES = {"float32": BYTES_PER_ELEMENT, "float16": 2, "int8": 1, "uint8": 1}


def _op_name(task: str) -> str | None:
    base = task.split(".")[0]
    if base.startswith("depthwise_conv2d_nchw"):
        return "depthwise_conv2d"
    if base == "conv2d_nchw_winograd":
        return "conv2d_winograd"
    if base in ("conv2d_nchw", "conv2d_nchw_spatial_pack", "conv2d_nchwc"):
        return "conv2d"
    return None


def parse_record(line: str) -> dict | None:
    """A profile row from one log line, or None when it is not a supported conv2d workload."""
    record = json.loads(line)
    target, task, args = record["input"][0], record["input"][1], record["input"][2]
    op = _op_name(task)
    if op is None or len(args) < 5 or args[0][0] != "TENSOR" or args[1][0] != "TENSOR":
        return None
    data, weight, strides, padding, dilation = args[0][1], args[1][1], args[2], args[3], args[4]
    dtype = args[0][2] if len(args[0]) > 2 else "float32"
    if len(data) != 4 or len(weight) != 4 or data[0] != 1 or dtype not in DTYPE_BYTES:
        return None
    strides = strides if isinstance(strides, list) else [strides, strides]
    dilation = dilation if isinstance(dilation, list) else [dilation, dilation]
    padding = padding if isinstance(padding, list) else [padding] * 4
    padding = padding * 2 if len(padding) == 2 else padding
    if dilation != [1, 1] or len(set(strides)) != 1 or len(set(padding)) != 1 or weight[2] != weight[3]:
        return None
    _, cin, h, w = data
    k, stride, pad = weight[2], strides[0], padding[0]
    if op == "depthwise_conv2d":
        cout, groups = cin * weight[1], cin
    else:
        cout, groups = weight[0], 1
    out_h, out_w = (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1
    params = cout * (cin // groups) * k * k
    seconds = np.asarray(record["result"][0], dtype=float)
    if record["result"][1] != 0 or not np.all(np.isfinite(seconds)) or (seconds <= 0).any():
        return None
    size = DTYPE_BYTES[dtype]
    suffix = "" if dtype == "float32" else f"-{dtype}"
    row = dict(device=device_name(target) + suffix, op=op, cin=cin, cout=cout, kernel=k, groups=groups,
               stride=stride, h=h, w=w, out_h=out_h, out_w=out_w, macs=params * out_h * out_w,
               params=params, bytes_in=cin * h * w * size, bytes_out=cout * out_h * out_w * size,
               latency_ms=1e3 * seconds.mean(), latency_std_ms=1e3 * seconds.std(),
               repeats=len(seconds), trials=1, backend="autotvm", target=target,
               provenance="public:tophub")
    row["key"] = (kernel_key(row) + (f":pad={pad}" if pad != k // 2 else "") + f":k={k}"
                  + ("" if dtype == "float32" else f":{dtype}"))
    return row


def import_tophub(log_path) -> dict[str, pd.DataFrame]:
    """Profile rows per device from a TopHub log; prints how many records were skipped."""
    rows, skipped = [], Counter()
    try:
        lines = Path(log_path).read_text().splitlines()
    except (OSError, UnicodeDecodeError) as err:
        raise ValueError(f"cannot read {log_path}: {err}") from None
    for line in tqdm(lines, desc="tophub records", disable=not sys.stderr.isatty()):
        if not line.strip().startswith("{"):
            continue
        try:
            row = parse_record(line)
        except (json.JSONDecodeError, KeyError, IndexError, TypeError, ValueError):
            raise ValueError(f"{log_path}: malformed TopHub record: {line[:80]}") from None
        if row is None:
            skipped[json.loads(line)["input"][1]] += 1
        else:
            rows.append(row)
    if not rows:
        raise ValueError(f"{log_path}: no conv2d workloads found")
    if skipped:
        print(f"skipped {sum(skipped.values())} records: {dict(skipped)}", file=sys.stderr)
    frame = pd.DataFrame(rows)[PROFILE_COLUMNS]
    return {device: part.reset_index(drop=True) for device, part in frame.groupby("device")}


@cli_main(ValueError)
def main(argv=None) -> None:
    parser = Parser(prog="python -m predictors.public.import_tophub", description=__doc__.split("\n")[0])
    parser.add_argument("log", help="TopHub log (one JSON record a line)")
    parser.add_argument("--out", required=True, help="directory for <device>.csv profiles")
    args = parser.parse_args(argv)
    check_output_dir(args.out)
    profiles = import_tophub(args.log)
    paths = {device: check_output_file(Path(args.out) / f"{device}.csv") for device in profiles}
    for device, rows in profiles.items():
        path = write_csv_atomic(rows, paths[device])
        print(f"{device}: {len(rows)} kernels ({rows['key'].nunique()} distinct) -> {path}")


if __name__ == "__main__":
    main()
