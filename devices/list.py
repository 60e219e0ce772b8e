"""`python -m devices.list [--json]`: the device catalog as a table.

Imports neither TVM nor torch (the local CPU's LLVM name comes from /proc/cpuinfo where
devices.host_cpu.llvm_cpu_from_cpuinfo knows it), so it prints in well under a second. Which
predictor each device loads on this machine, and how accurate it is: python -m predictors.list."""
from __future__ import annotations

import json
import sys

from codesign_common.cli import Parser, cli_main
from devices.catalog import list_devices


def _fmt(value) -> str:
    return "n/a" if value is None else str(value)


def catalog_table() -> str:
    """One line per device: name, kind, method, target, LR input, budget, spec, CPU threads its
    public or transferred latencies assume ('-': measured or simulated here) and the catalog's
    predictor provenance (which predictor loads here, and its accuracy: predictors.list)."""
    header = ["name", "kind", "method", "target", "lr_input", "budget_ms", "gflops",
              "bw_GB/s", "threads", "predictor"]
    rows = []
    for d in list_devices():
        target = (d.target.get("mcpu") or d.target.get("arch") or d.target.get("model")
                  or d.target.get("device") or "")
        method = d.method + (f":{d.rpc_key}" if d.rpc_key else "")
        rows.append([d.name, d.kind, method, f"{d.target_kind} {target}".strip(),
                     "x".join(map(str, d.lr_input_hw)), _fmt(d.latency_budget_ms),
                     _fmt(d.spec["peak_fp32_gflops"]["value"]),
                     _fmt(d.spec["mem_bandwidth_gbs"]["value"]),
                     _fmt(d.threads["value"]) if d.threads else "-", d.predictor["provenance"]])
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)).rstrip() for r in [header] + rows]
    return "\n".join(lines)


@cli_main(ValueError)
def main(argv=None) -> int:
    parser = Parser(prog="python -m devices.list", description=__doc__)
    parser.add_argument("--json", action="store_true", help="print full entries as JSON")
    args = parser.parse_args(argv)
    if args.json:
        print(json.dumps([d.__dict__ for d in list_devices()], indent=2, default=list))
    else:
        print(catalog_table())
    return 0


if __name__ == "__main__":
    sys.exit(main())
