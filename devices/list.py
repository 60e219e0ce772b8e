"""`python -m devices.list [--json]`: the device catalog as a table.

Imports neither TVM nor torch (the local CPU's LLVM name comes from /proc/cpuinfo where
devices.host_cpu.llvm_cpu_from_cpuinfo knows it), so it prints in well under a second."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from codesign_common.cli import Parser, cli_main
from devices.catalog import list_devices

TRAINED = Path(__file__).resolve().parent.parent / "predictors" / "trained"


def predictor_accuracy(name: str) -> str:
    """Measured accuracy of the device's committed predictor (predictors/trained/<name>), from
    the evaluation stored in its JSON meta; 'no predictor' or 'not measured' otherwise."""
    path = TRAINED / name / "predictor.json"
    if not path.is_file():
        return "no predictor"
    meta = json.loads(path.read_text()).get("meta", {})
    if "heldout_eval" in meta:
        e = meta["heldout_eval"]
        return f"held-out MAPE {e['mape_pct']:.1f}%, rho {e['spearman']:.3f}"
    if "heldout_rms_log_error" in meta:
        return f"held-out RMS log error {meta['heldout_rms_log_error']:.2f}"
    if "leave_one_sibling_out_rms_log_error" in meta:
        errs = meta["leave_one_sibling_out_rms_log_error"].values()
        return f"leave-one-sibling-out RMS log error {min(errs):.2f}-{max(errs):.2f}"
    return "not measured"


def _fmt(value) -> str:
    return "n/a" if value is None else str(value)


def catalog_table() -> str:
    """One line per device: name, kind, method, target, LR input, budget, spec, CPU threads its
    public or transferred latencies assume ('-': measured or simulated here), predictor
    provenance and its measured accuracy."""
    header = ["name", "kind", "method", "target", "lr_input", "budget_ms", "gflops",
              "bw_GB/s", "threads", "predictor", "predictor_accuracy"]
    rows = []
    for d in list_devices():
        target = (d.target.get("mcpu") or d.target.get("arch") or d.target.get("model")
                  or d.target.get("device") or "")
        method = d.method + (f":{d.rpc_key}" if d.rpc_key else "")
        rows.append([d.name, d.kind, method, f"{d.target_kind} {target}".strip(),
                     "x".join(map(str, d.lr_input_hw)), _fmt(d.latency_budget_ms),
                     _fmt(d.spec["peak_fp32_gflops"]["value"]),
                     _fmt(d.spec["mem_bandwidth_gbs"]["value"]),
                     _fmt(d.threads["value"]) if d.threads else "-", d.predictor["provenance"],
                     predictor_accuracy(d.name)])
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
