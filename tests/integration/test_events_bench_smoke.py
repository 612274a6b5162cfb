"""The quick version of `make bench`'s events row (bench/path_measures.py, `bench_events`): 300 events through raw
produce and consume, through the bare outbox + inbox path (bench/bare_events.py) and through the project's outbox,
relay and inbox, on the real engines.

Each path ran for real: the measure waits until every event's effect is committed, and the bare path is checked
to have sent every row and applied each event once, so a baseline that loses or doubles events fails here
instead of printing a ratio."""

from __future__ import annotations

import asyncio

from bench.path_measures import bench_events
from deploy.stack import Stack
from services.common.settings import CommonSettings


async def test_the_events_bench_measures_its_three_paths(stack: Stack, settings: CommonSettings) -> None:
    # The project's writer writes to intake's outbox, which intake's relay publishes.
    await asyncio.to_thread(stack.start_processes, ["intake-relay"], timeout=240)

    figures = await asyncio.to_thread(bench_events, stack, settings, 300, 1)

    assert [(f.name, f.unit) for f in figures] == [
        ("events end to end", "events/s"),
        ("events CPU per event", "ms"),
        ("events end to end, vs bare outbox + inbox", "events/s"),
        ("events CPU per event, vs bare outbox + inbox", "ms"),
    ]
    assert all(f.anxin > 0 and f.raw > 0 for f in figures), figures
    # The same project figures against both baselines.
    assert figures[0].anxin == figures[2].anxin and figures[1].anxin == figures[3].anxin
