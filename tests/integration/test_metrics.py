"""Operational gauges on the real stack: consumer lag per partition from the inbox consumers, open and
overdue cases from the cases worker, overdue handoffs from the referrals worker."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from deploy.stack import Stack
from services.common.inbox import InboxConsumer
from services.common.kafka import ensure_topics, new_consumer, new_producer
from services.common.migrations import apply_migrations
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope
from tests.support.events import Counted

EVENTS = 600


def _samples(text: str, name: str) -> list[tuple[dict[str, str], float]]:
    return [
        (sample.labels, sample.value)
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == name
    ]


def _group_lag(group: str) -> dict[int, float]:
    """This process's /metrics (the same registry a worker serves), lag per partition of `group`."""
    samples = _samples(generate_latest().decode(), "anxin_consumer_lag_messages")
    return {int(labels["partition"]): value for labels, value in samples if labels["group"] == group}


def test_consumer_lag_is_reported_while_behind_and_zero_once_caught_up(
    settings: CommonSettings, scratch_schema: str
) -> None:
    topic = f"test.lag.{uuid.uuid4().hex[:8]}"
    ensure_topics(settings, [topic], partitions=2)
    producer = new_producer(settings, client_id="test-lag")
    for n in range(EVENTS):
        envelope = EventEnvelope.wrap(Counted(n=n), subject=f"c{n % 5}", producer="test")
        producer.send(topic, key=envelope.subject.encode(), value=envelope.model_dump_json().encode())
    producer.flush(30)
    producer.close()

    apply_migrations(settings.database_url, scratch_schema, None)
    group = f"test-lag-{uuid.uuid4().hex[:8]}"

    def slow_handler(conn: psycopg.Connection[Any], event: EventEnvelope) -> None:
        time.sleep(0.004)  # slow enough that the group is seen behind between batches

    consumer = InboxConsumer(
        name=group,
        database_url=settings.database_url,
        schema=scratch_schema,
        consumer_factory=lambda: new_consumer(settings, topic, group_id=group, client_id=group),
        handler=slow_handler,
        lag_interval_seconds=0.1,
    )
    assert _group_lag(group) == {}, "no lag is reported before the consumer has measured any"
    thread = threading.Thread(target=consumer.run, daemon=True)
    thread.start()
    seen_behind: list[float] = []
    try:
        # A loaded machine can take a while to settle the new group's first assignment (a join retried after
        # UnknownMemberIdError): the lag is asserted, not the time the group takes to form.
        deadline = time.monotonic() + 150
        while time.monotonic() < deadline:
            lag = _group_lag(group)
            total = sum(lag.values())
            if total > 0:
                seen_behind.append(total)
            if consumer.status.applied_total == EVENTS and set(lag) == {0, 1} and total == 0:
                break
            time.sleep(0.02)
        else:
            raise AssertionError(f"lag never came back to 0: {_group_lag(group)}, status {consumer.status}")
    finally:
        consumer.stop()
        thread.join(10)
    assert seen_behind, "the lag of a group with events waiting was never reported above 0"
    assert max(seen_behind) <= EVENTS
    applied = _samples(generate_latest().decode(), "anxin_consumer_applied_total")
    assert ({"group": group}, float(EVENTS)) in applied


def test_service_workers_export_their_consumer_lag(services_running: Stack) -> None:
    url = f"{services_running.processes['cases-worker'].url}/metrics"
    deadline = time.monotonic() + 30  # a worker measures its lag every few seconds once it has partitions
    while not (lag := _samples(httpx.get(url, timeout=10).text, "anxin_consumer_lag_messages")):
        assert time.monotonic() < deadline, "the cases worker exports no consumer lag"
        time.sleep(0.5)
    assert all(set(labels) == {"group", "topic", "partition"} for labels, _ in lag)
    assert all(value >= 0 for _, value in lag)


def _scrape_until(url: str, name: str, labels: dict[str, str], value: float) -> None:
    deadline = time.monotonic() + 30  # the gauges are cached for 10 seconds
    while True:
        samples = _samples(httpx.get(url, timeout=10).text, name)
        if (labels, value) in samples:
            return
        assert time.monotonic() < deadline, f"{name}{labels} never became {value}: {samples[:20]}"
        time.sleep(0.5)


def test_cases_worker_exports_open_cases_by_stage_and_overdue(services_running: Stack) -> None:
    county = f"t{uuid.uuid4().hex[:8]}"
    url = f"{services_running.processes['cases-worker'].url}/metrics"
    columns = (
        "case_id, county, city, employer_ref, employer_name, project_ref, project_name, stage, status, "
        "next_deadline, received_at"
    )
    rows = [  # two in verification (one past its deadline), one in investigation, one closed (not counted)
        (f"{county}-1", "verification", "open", "-1 hour"),
        (f"{county}-2", "verification", "open", "+3 days"),
        (f"{county}-3", "investigation", "open", "+3 days"),
        (f"{county}-4", "verification", "closed", "-1 day"),
    ]
    with psycopg.connect(
        services_running.postgres.service_url("cases"), autocommit=True, options="-c search_path=cases"
    ) as conn:
        for case_id, stage, status, due in rows:
            conn.execute(
                f"INSERT INTO ledger ({columns}) VALUES (%s, %s, 'test city', 'e', 'e', 'p', 'p', %s, %s, "
                "now() + %s::interval, now())",
                (case_id, county, stage, status, due),
            )
        try:
            _scrape_until(url, "anxin_cases_by_stage", {"stage": "verification", "county": county}, 2.0)
            _scrape_until(url, "anxin_cases_by_stage", {"stage": "investigation", "county": county}, 1.0)
            _scrape_until(url, "anxin_cases_overdue", {"county": county}, 1.0)
            conn.execute("UPDATE ledger SET stage = 'investigation' WHERE case_id = %s", (f"{county}-2",))
            _scrape_until(url, "anxin_cases_by_stage", {"stage": "investigation", "county": county}, 2.0)
        finally:
            conn.execute("DELETE FROM ledger WHERE county = %s", (county,))


def test_referrals_worker_exports_overdue_handoffs_per_department(services_running: Stack) -> None:
    department = f"t{uuid.uuid4().hex[:8]}"
    url = f"{services_running.processes['referrals-worker'].url}/metrics"
    rows = [("sent", "-2 hours"), ("acknowledged", "-1 hour"), ("sent", "+2 days"), ("responded", "-1 day")]
    with psycopg.connect(
        services_running.postgres.service_url("referrals"), autocommit=True, options="-c search_path=referrals"
    ) as conn:
        for n, (status, due) in enumerate(rows):
            conn.execute(
                "INSERT INTO handoffs (handoff_id, case_id, county, department, letter_id, status, due_at, "
                "created_at) VALUES (%s, %s, 'test', %s, 'none', %s, now() + %s::interval, now())",
                (f"{department}-{n}", f"{department}-case", department, status, due),
            )
        try:
            _scrape_until(url, "anxin_handoffs_overdue", {"department": department}, 2.0)
        finally:
            conn.execute("DELETE FROM handoffs WHERE department = %s", (department,))


def test_workers_export_the_dead_letters_waiting_until_redelivered(services_running: Stack) -> None:
    url = f"{services_running.processes['cases-worker'].url}/metrics"
    labels = {"schema": "cases", "consumer": "cases-ledger"}
    _scrape_until(url, "anxin_dead_letters", labels, 0.0)  # reported at 0 while nothing is set aside
    event_ids = [uuid.uuid4() for _ in range(2)]
    with psycopg.connect(
        services_running.postgres.service_url("cases"), autocommit=True, options="-c search_path=cases"
    ) as conn:
        for n, event_id in enumerate(event_ids):
            conn.execute(
                'INSERT INTO dead_letters (consumer, event_id, topic, partition, "offset", event_type, '
                "error, envelope) VALUES ('cases-ledger', %s, 'test', 0, %s, 'test.event', 'test', '{}')",
                (event_id, 10**9 + n),
            )
        try:
            _scrape_until(url, "anxin_dead_letters", labels, 2.0)
        finally:
            conn.execute("DELETE FROM dead_letters WHERE event_id = ANY(%s)", (event_ids,))
        _scrape_until(url, "anxin_dead_letters", labels, 0.0)  # as after `anxin redeliver`
