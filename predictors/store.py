"""Where a device's predictor is found: one lookup for every command that loads one.

Predictors are kept per (device, host, runtime): ``<root>/<device>/<host_id>/<runtime>/`` for a
device measured on the machine that runs the command (local-cpu: the host id of
devices.host_identity), ``<root>/<device>/`` for the rest (a phone's predictor describes the
phone, whatever machine searches). Order: an explicit folder (``--predictor DIR``), else under
``$CODESIGN_PREDICTORS``, the cache of self-made ones, the committed ``predictors/trained``, root
by root; within a root the host's own
folder first, then the device's. A folder counts only when it holds predictor.json. Light on
purpose (no model code imported): commands call it before any work starts.
"""
from __future__ import annotations

import os
from pathlib import Path

from codesign_common.cache import cache_root

FILE_NAME = "predictor.json"
# The committed predictors (``$CODESIGN_TRAINED_DIR`` moves it: tests that must not see this
# machine's committed predictors point it at an empty folder).
TRAINED_DIR = Path(os.environ.get("CODESIGN_TRAINED_DIR") or Path(__file__).resolve().parent / "trained")
ENV_VAR = "CODESIGN_PREDICTORS"


def predictor_roots() -> list[Path]:
    """The folders searched for ``<device>/predictor.json``, first match wins:
    ``$CODESIGN_PREDICTORS``, the predictors this machine made itself (codesign.search.self_profile,
    under the cache), the committed ones."""
    roots = [Path(os.environ[ENV_VAR])] if os.environ.get(ENV_VAR) else []
    return roots + [cache_root() / "predictors", TRAINED_DIR]


def predictor_dir(root: str | os.PathLike, device_name: str, host_id: str | None = None,
                  runtime: str | None = None) -> Path:
    """Where the predictor of (device, host, runtime) is saved under ``root``."""
    path = Path(root) / device_name
    return path / host_id / runtime if host_id and runtime else path


def find_predictor(device_name: str, explicit: str | os.PathLike | None = None,
                   host_id: str | None = None, runtime: str | None = None,
                   skip: os.PathLike | None = None) -> Path | None:
    """The predictor folder of a device: `explicit` (ValueError, one line, when it holds no
    predictor.json), else, root by root in predictor_roots() order, the first of
    ``<root>/<device>/<host_id>/<runtime>`` and ``<root>/<device>`` with a predictor.json other
    than ``skip``; None when none has one."""
    if explicit:
        path = Path(explicit)
        if not (path / FILE_NAME).is_file():
            raise ValueError(f"--predictor {explicit}: no {FILE_NAME} there")
        return path
    if not device_name or "/" in device_name or device_name in (".", ".."):
        return None
    candidates = [path for root in predictor_roots()
                  for path in (predictor_dir(root, device_name, host_id, runtime), predictor_dir(root, device_name))]
    skip = Path(skip).resolve() if skip else None
    return next((path for path in candidates
                 if (path / FILE_NAME).is_file() and path.resolve() != skip), None)


def find_device_predictor(device_name: str, explicit: str | os.PathLike | None = None,
                          runtime: str | None = None, skip: os.PathLike | None = None) -> Path | None:
    """find_predictor for a device as every command looks it up: the local CPU per host (this
    machine's host id) and ``runtime``, every other device by its name."""
    from devices.catalog import LOCAL_CPU

    host_id = None
    if device_name == LOCAL_CPU:
        from devices.host_identity import fingerprint

        host_id = fingerprint()["host_id"]
    return find_predictor(device_name, explicit, host_id, runtime, skip)


def host_provenance(meta: dict, device_name: str) -> tuple[str, str | None]:
    """How a predictor's numbers may be labelled on this machine: ("predicted", None) when it
    describes the host the command runs on, or a remote device (its numbers describe that
    device); ("transferred", warning line) when the device is this host (local-cpu) and the
    predictor was made on another host, or on one it did not record."""
    from devices.catalog import LOCAL_CPU

    if device_name != LOCAL_CPU:
        return "predicted", None
    from devices import host_identity

    here = host_identity.fingerprint()
    made_on = meta.get("host_id")
    if made_on == here["host_id"]:
        return "predicted", None
    source = made_on or f"unrecorded host id ({meta.get('host') or 'host unknown'})"
    return "transferred", (f"warning: the {device_name} predictor was made on {source}, not on this "
                           f"host ({here['host_id']}): its latencies are labelled transferred; profile "
                           f"this host (python -m codesign.profile --device {device_name} --runtime "
                           f"onnxruntime) for measured ones")


def provenance_here(meta: dict, device_name: str, runtime: str | None) -> tuple[str, str | None]:
    """("predicted", None), or ("transferred-from-<where>", one warning line) when a predictor
    of this host's device was made on another host (host_provenance) or timed in another
    runtime than ``runtime``, the one the result is deployed with."""
    label, warning = host_provenance(meta, device_name)
    made_on = meta.get("host_id") or "unrecorded-host"
    timed_in = meta.get("runtime")
    if label == "transferred":
        return f"transferred-from-{made_on}", warning
    if runtime and timed_in and not str(timed_in).startswith(runtime):
        warning = (f"warning: the {device_name} predictor was timed in {timed_in}, the result "
                   f"is deployed in {runtime}: its latencies are labelled transferred")
        return f"transferred-from-{timed_in}", warning
    return "predicted", None
