"""`python -m predictors.list [--runtime R]`: the predictor each device's commands load on this
machine (predictors.store, the same lookup as the search), how its latencies are labelled here
and how accurate it was measured to be.

The label is the catalog's (public, transferred, simulated) for a device measured elsewhere.
For the local CPU it depends on the host: ``predicted`` only for a predictor made on this host
in the runtime asked for (``--runtime``, else the device's, devices.catalog.default_runtime),
``transferred-from-<host or runtime>`` otherwise, as the search's report says it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from codesign_common.cli import Parser, cli_main
from devices.catalog import LOCAL_CPU, default_runtime, list_devices
from predictors.store import FILE_NAME, find_device_predictor, provenance_here


def predictor_accuracy(meta: dict) -> str:
    """The measured accuracy a predictor's meta stores, or 'not measured'."""
    if "heldout_eval" in meta:
        e = meta["heldout_eval"]
        return f"held-out MAPE {e['mape_pct']:.1f}%, rho {e['spearman']:.3f}"
    if "heldout_rms_log_error" in meta:
        return f"held-out RMS log error {meta['heldout_rms_log_error']:.2f}"
    if "leave_one_sibling_out_rms_log_error" in meta:
        errs = meta["leave_one_sibling_out_rms_log_error"].values()
        return f"leave-one-sibling-out RMS log error {min(errs):.2f}-{max(errs):.2f}"
    return "not measured"


def predictor_row(device, runtime: str | None = None) -> dict:
    """device, runtime, predictor folder, label here and accuracy of the predictor found."""
    runtime = runtime or default_runtime(device)
    path = find_device_predictor(device.name, None, runtime)
    if path is None:
        return {"device": device.name, "runtime": runtime, "predictor": "none",
                "label": "-", "accuracy": "no predictor"}
    meta = json.loads((path / FILE_NAME).read_text()).get("meta", {})
    label = (provenance_here(meta, device.name, runtime)[0] if device.name == LOCAL_CPU
             else device.predictor["provenance"])
    return {"device": device.name, "runtime": runtime, "predictor": _shown(path), "label": label,
            "accuracy": predictor_accuracy(meta)}


def listing_table(runtime: str | None = None) -> str:
    """One padded line per device (predictor_row), header first."""
    rows = [predictor_row(d, runtime if d.name == LOCAL_CPU else None) for d in list_devices()]
    header = list(rows[0])
    cells = [header] + [[str(r[k]) for k in header] for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(header))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in cells)


def _shown(path: Path) -> str:
    """``path`` relative to the repository or the home folder when under them."""
    path = path.resolve()
    for base, prefix in ((Path(__file__).resolve().parents[1], ""), (Path.home(), "~/")):
        if path.is_relative_to(base):
            return prefix + path.relative_to(base).as_posix()
    return str(path)


@cli_main(ValueError)
def main(argv=None) -> int:
    parser = Parser(prog="python -m predictors.list", description=__doc__)
    parser.add_argument("--runtime", choices=("onnxruntime", "tvm"),
                        help="the local CPU's runtime (default: the device's)")
    print(listing_table(parser.parse_args(argv).runtime))
    return 0


if __name__ == "__main__":
    sys.exit(main())
