"""Processes the bench measures beside the stack's own (bench/event_consumers.py, bench/bare_events.py): each in a
fresh interpreter of its own, as a service's process is, so that none shares the measuring process's interpreter
lock with the work being timed."""

from __future__ import annotations

import contextlib
import multiprocessing
from collections.abc import Callable, Iterator
from typing import Any

# A target is called as `target(*args, ready, stop)`: it sets `ready` once it is started and returns soon after
# `stop` is set.
Target = tuple[Callable[..., None], tuple[Any, ...]]


@contextlib.contextmanager
def spawned(targets: list[Target], what: str) -> Iterator[list[int]]:
    """Every target running in a process of its own until the block ends; yields their process ids once all are
    ready. `what` names them in the error when one does not start."""
    spawn = multiprocessing.get_context("spawn")
    stop = spawn.Event()
    readiness = [spawn.Event() for _ in targets]
    processes = [
        spawn.Process(target=target, args=(*args, ready, stop), daemon=True)
        for (target, args), ready in zip(targets, readiness, strict=True)
    ]
    for process in processes:
        process.start()
    try:
        for ready, process in zip(readiness, processes, strict=True):
            if not ready.wait(120):
                raise RuntimeError(f"{what} {process.name} did not start (exit code {process.exitcode})")
        yield [process.pid for process in processes if process.pid is not None]
    finally:
        stop.set()
        for process in processes:
            process.join(20)
            if process.is_alive():
                process.kill()
