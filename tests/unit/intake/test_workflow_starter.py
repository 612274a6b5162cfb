"""The intake worker starts a poll's workflows at once, and the inbox handler only records them."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import ValidationError
from temporalio.exceptions import WorkflowAlreadyStartedError

from services.common.service import ServiceSettings
from services.contracts.events import EventEnvelope, UnknownEvent
from services.contracts.lifecycle import LifecycleConfig, complaint_workflow_id
from services.intake.worker import WorkflowStarter, complaint_input
from tests.support.events import Counted
from tests.support.factories import complaint_submitted

BATCH = 5
HENAN = LifecycleConfig.model_validate({"province": "henan"})


def submitted(n: int) -> EventEnvelope:
    complaint_id = f"TS-20261129-{n:06d}"
    return EventEnvelope.wrap(
        complaint_submitted(
            complaint_id,
            employer=f"测试建筑劳务有限公司{n}",
            project="丛台区测试安置房项目",
            submitted_at=datetime(2026, 11, 29, tzinfo=UTC),
        ),
        subject=complaint_id,
        producer="intake",
    )


class FakeTemporal:
    """Counts starts; each start waits until the whole batch is in flight, so starting them one after
    another never finishes (the test's timeout says so)."""

    def __init__(self, fail: set[str], already: set[str]) -> None:
        self.fail, self.already = fail, already
        self.started: list[str] = []
        self.in_flight = 0
        self.all_in_flight = asyncio.Event()

    async def start_workflow(self, _type: str, _input: Any, *, id: str, **_: Any) -> None:
        self.in_flight += 1
        if self.in_flight == BATCH:
            self.all_in_flight.set()
        await asyncio.wait_for(self.all_in_flight.wait(), timeout=5)
        if id in self.fail:
            raise RuntimeError("temporal away")
        if id in self.already:
            raise WorkflowAlreadyStartedError(id, "ComplaintLifecycle")
        self.started.append(id)


class FakeConnection:
    def __init__(self) -> None:
        self.recorded: list[str] = []

    def execute(self, _sql: str, params: tuple[str, str]) -> None:
        self.recorded.append(params[1])


def test_a_poll_is_started_concurrently_and_each_event_is_recorded_once() -> None:
    events = [submitted(n) for n in range(BATCH)]
    ids = [complaint_workflow_id(e.subject) for e in events]
    starter = WorkflowStarter(ServiceSettings(), lambda: HENAN)
    temporal = FakeTemporal(fail={ids[1]}, already={ids[2]})
    starter.client = temporal  # type: ignore[assignment]

    # An event of a type the starter does not handle, and one of a type nobody knows, start nothing.
    starter.prepare(
        [
            *events,
            EventEnvelope.wrap(Counted(n=1), subject="x", producer="test"),
            EventEnvelope(type="complaint.withdrawn", subject="x", producer="intake"),
        ]
    )
    assert sorted(temporal.started) == sorted([ids[0], ids[3], ids[4]])

    conn = FakeConnection()
    temporal.fail.clear()
    for event in events:
        starter(conn, event)  # type: ignore[arg-type]
    # Only the start that failed in the batch is made again, by its own event; every event is recorded.
    assert sorted(temporal.started) == sorted([ids[0], ids[3], ids[4], ids[1]])
    assert conn.recorded == ids
    starter.close()


def test_an_event_that_cannot_become_a_workflow_is_left_to_the_handler() -> None:
    starter = WorkflowStarter(ServiceSettings(), lambda: HENAN)
    broken = EventEnvelope(
        type="complaint.submitted", subject="TS-1", producer="intake", payload={"complaint_id": "TS-1"}
    )
    unknown = EventEnvelope(type="complaint.withdrawn", subject="TS-1", producer="intake")
    starter.prepare([broken, unknown])  # nothing to start, nothing raised
    with pytest.raises(ValidationError, match="employer_name_key"):
        starter(FakeConnection(), broken)  # type: ignore[arg-type]  # the inbox sets it aside
    with pytest.raises(UnknownEvent, match=r"complaint\.withdrawn v1"):
        starter(FakeConnection(), unknown)  # type: ignore[arg-type]
    conn = FakeConnection()
    starter(conn, EventEnvelope.wrap(Counted(n=1), subject="x", producer="test"))  # type: ignore[arg-type]
    assert conn.recorded == []  # not the starter's business
    starter.close()


@pytest.mark.parametrize(
    ("period", "months"),
    [
        ((date(2026, 1, 1), date(2026, 3, 31)), 3),
        ((date(2026, 1, 15), date(2026, 4, 14)), 3),
        ((date(2026, 5, 31), date(2026, 7, 1)), 1),  # three calendar months touched, one whole month
        ((date(2026, 6, 1), date(2026, 6, 20)), 0),
    ],
)
def test_the_workflow_input_counts_the_whole_months_owed(period: tuple[date, date], months: int) -> None:
    event = complaint_submitted(
        "TS-20261129-000001",
        employer="测试建筑劳务有限公司",
        project="丛台区测试安置房项目",
        submitted_at=datetime(2026, 11, 29, tzinfo=UTC),
        period=period,
    )
    workflow_input = complaint_input(event, LifecycleConfig.model_validate({"province": "henan"}))
    assert workflow_input.months_owed == months
    assert workflow_input.owed_until == period[1]


def test_the_workflow_input_carries_the_acceptance_deadlines_counted_from_receipt() -> None:
    # Received on Monday 29 September 2025: five working days run through the National Day holiday and its
    # make-up Saturday to Monday 13 October; the reminder falls one working day before, on Saturday 11 October.
    event = complaint_submitted(
        "TS-20250929-000001",
        employer="测试建筑劳务有限公司",
        project="丛台区测试安置房项目",
        submitted_at=datetime(2025, 9, 29, 2, tzinfo=UTC),
        period=(date(2025, 6, 1), date(2025, 8, 31)),
    )
    workflow_input = complaint_input(event, LifecycleConfig.model_validate({"province": "henan"}))
    due = {d.name: d.due_date for d in workflow_input.deadlines}
    assert due == {"acceptance": date(2025, 10, 13), "acceptance.reminder": date(2025, 10, 11)}
    assert not any(d.provisional for d in workflow_input.deadlines)
