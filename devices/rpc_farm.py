"""RPC device farm helpers: parse tracker addresses, and a loopback tracker + server for trying
`tvm-rpc` on this machine (the tests use it; a real farm runs `python -m tvm.exec.rpc_tracker`
on a host and `python -m tvm.exec.rpc_server --tracker HOST:PORT --key KEY` on each device)."""
from __future__ import annotations

import contextlib
import time


def parse_tracker(address: str) -> tuple[str, int]:
    """`HOST:PORT` → (host, port); ValueError with a one-line reason otherwise."""
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"RPC tracker address must be HOST:PORT, got {address!r}")
    return host, int(port)


def wait_for_key(host: str, port: int, key: str, timeout_s: float = 120.0) -> None:
    """Block until a server with `key` is registered at the tracker (TimeoutError otherwise)."""
    from tvm import rpc

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            summary = rpc.connect_tracker(host, port).summary()
            if summary.get("queue_info", {}).get(key, {}).get("free", 0) > 0:
                return
        except (RuntimeError, OSError, ConnectionError):
            pass
        time.sleep(0.5)
    raise TimeoutError(f"no RPC server with key {key!r} at tracker {host}:{port} after {timeout_s:.0f} s")


@contextlib.contextmanager
def loopback_farm(key: str, port: int = 9190):
    """A tracker and one server with `key` on 127.0.0.1; yields (host, tracker_port) and stops
    both (their popen_worker processes included) on exit."""
    from tvm import rpc
    from tvm.rpc.tracker import Tracker

    tracker = Tracker(host="127.0.0.1", port=port, port_end=port + 100, silent=True)
    server = None
    try:
        server = rpc.Server(host="127.0.0.1", port=port + 200, port_end=port + 300,
                            tracker_addr=("127.0.0.1", tracker.port), key=key, silent=True)
        wait_for_key("127.0.0.1", tracker.port, key)
        yield "127.0.0.1", tracker.port
    finally:
        if server is not None:
            server.terminate()
        tracker.terminate()

