"""`make run`, `make run-cluster` and `make status`: which stack runs from which data dir, and its launcher.

    python -m deploy.launcher run [--profile embedded|cluster] [--data-dir DIR]
    python -m deploy.launcher status

The embedded profile (`deploy/stack.py`) keeps its files in `.data/`, the cluster profile
(`deploy/cluster.py`) in `.data/cluster/`. Both use the same ports, so only one runs at a time; the tools that
talk to "the running stack" (`make status`, `make demo`, `anxin`) find which one by its lock.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import logging
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

from deploy.engines import REPO_ROOT, EngineError, Ports
from deploy.stack import AlreadyRunning, Stack

PROFILES = ("embedded", "cluster")


def make_stack(profile: str, data_dir: Path, ports: Ports | None = None, **options: Any) -> Stack:
    """A stack of either profile (the benchmarks and fault runs take `--profile` too)."""
    if profile == "cluster":
        from deploy.cluster import ClusterStack

        return ClusterStack(data_dir, ports, **options)
    return Stack(data_dir, ports, **options)


def default_data_dir(profile: str) -> Path:
    """`.data` for `make run`, `.data/cluster` for `make run-cluster` (another PostgreSQL with password
    authentication, another Temporal database): the two profiles never share engine files."""
    root = Path(os.environ.get("ANXIN_DATA_DIR", REPO_ROOT / ".data"))
    return root / "cluster" if profile == "cluster" else root


def lock_holder(data_dir: Path) -> str | None:
    """The launcher pid holding `data_dir`'s stack lock, or None when no stack runs from it."""
    path = data_dir / "stack.lock"
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "unknown"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


def running_profile() -> str:
    """Which profile a running stack on the default ports belongs to (`make status`, `make demo`)."""
    return "cluster" if lock_holder(default_data_dir("cluster")) else "embedded"


def run(data_dir: Path, profile: str = "embedded") -> int:
    for other in PROFILES:
        # Both profiles use the same ports: a second one would only fail on its first port.
        holder = lock_holder(default_data_dir(other)) if other != profile else None
        if holder:
            print(
                f"Anxin's {other} profile is already running (launcher pid {holder}); stop it first.", file=sys.stderr
            )
            return 1
    stack = make_stack(profile, data_dir)
    try:
        stack.acquire_lock()
    except AlreadyRunning as exc:
        print(exc, file=sys.stderr)
        return 1
    started = time.monotonic()

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    try:
        print(f"Starting Anxin, {profile} profile (data in {stack.data_dir}, logs in {stack.log_dir})", flush=True)
        stack.start_engines(lambda message: print(message, flush=True), timeout=180)
        stack.start_processes(timeout=180)
        print(f"\nAnxin is ready in {time.monotonic() - started:.0f}s:\n", flush=True)
        for name, url in stack.urls():
            print(f"  {name:<16} {url}", flush=True)
        print("\nPress Ctrl-C to stop.", flush=True)
        stack.supervise()
    except KeyboardInterrupt:
        print("\nStopping Anxin...", flush=True)
    except EngineError as exc:
        print(f"\nAnxin could not start: {exc}", file=sys.stderr, flush=True)
        stack.stop()
        return 1
    stack.stop()
    print("Stopped.", flush=True)
    return 0


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.launcher")
    parser.add_argument("command", choices=["run", "status"])
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default=None,
        help="embedded (make run) or cluster (make run-cluster); status: the running one",
    )
    parser.add_argument("--data-dir", type=Path, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    profile = args.profile or (running_profile() if args.command == "status" else "embedded")
    data_dir = args.data_dir or default_data_dir(profile)
    if args.command == "run":
        sys.exit(run(data_dir, profile))
    for row in make_stack(profile, data_dir).status():
        print(json.dumps(row))


if __name__ == "__main__":
    main()
