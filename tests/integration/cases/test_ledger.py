"""The ledger on the real stack: queue filters and stable keyset pages, the consumer killed and caught up
(no event applied twice, even when Kafka delivers everything again), merge and split."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal
from typing import Any

import psycopg
from kafka import KafkaConsumer, TopicPartition
from kafka.structs import OffsetAndMetadata

from services.cases.projection import CONSUMER_NAME, TOPICS
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.contracts.lifecycle import CaseStatus, Queries, case_workflow_id
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import wait_for
from tests.support.factories import credit_code, seed
from tests.support.ledger_audit import assert_ledger_agrees, keyed_client


def _all_pages(a: Agencies, params: dict[str, Any], limit: int) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = a.city.get("/v1/cases", params={**params, "limit": limit, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200, page.text
        body = page.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if not cursor:
            return items


def test_queue_filters_and_pages_in_deadline_order(agencies: Agencies) -> None:
    a = agencies
    tag = seed()
    complaints = [
        a.file(complaint_body(seed(), county="130403", employer_name=f"队列测试劳务公司{tag}-{i}")) for i in range(5)
    ]
    case_ids = [a.in_ledger(c)["case_id"] for c in complaints]
    mine = {"employer": f"队列测试劳务公司{tag}"}
    for case_id in case_ids:  # each complaint's acceptance period, as its workflow reports it
        a.case_until(case_id, lambda c: c["next_deadline"] is not None, "the acceptance period in the ledger")
    # Every report applied (a later one can bring an earlier deadline, the acceptance reminder's): a case
    # whose sort key changes between two pages would be skipped or listed twice.
    assert_ledger_agrees(a.stack, case_ids)

    everything = _all_pages(a, mine, limit=2)
    assert sorted(c["case_id"] for c in everything) == sorted(case_ids)
    deadlines = [c["next_deadline"] for c in everything]
    assert deadlines == sorted(deadlines)  # the soonest deadline first
    assert len({c["case_id"] for c in everything}) == 5  # no case twice across pages

    assert len(_all_pages(a, {**mine, "county": "130403", "stage": "acceptance", "status": "open"}, 50)) == 5
    assert _all_pages(a, {**mine, "county": "130402"}, 50) == []
    assert _all_pages(a, {**mine, "overdue": "true"}, 50) == []
    assert len(_all_pages(a, {**mine, "due_within_days": 30}, 50)) == 5
    assert _all_pages(a, {**mine, "due_within_days": 0}, 50) == []

    assigned = a.other_inspector.post(f"/v1/cases/{case_ids[0]}/assignment", json={"inspector": "inspector-130403"})
    assert assigned.status_code == 200, assigned.text
    wait_for(
        "the assignment in the ledger",
        lambda: [c["case_id"] for c in _all_pages(a, {**mine, "inspector": "inspector-130403"}, 50)] == case_ids[:1],
    )

    # The employer's contractors, as the inspector found them (credit codes checked).
    bad = a.other_inspector.put(
        f"/v1/cases/{case_ids[1]}/parties",
        json={
            "contractors": [{"role": "general_contractor", "name": "某建工集团", "credit_code": "911304001234567890"}]
        },
    )
    assert bad.status_code == 422
    parties = [
        {"role": "general_contractor", "name": "某建工集团有限公司", "credit_code": credit_code(tag)},
        {"role": "project_owner", "name": "某置业有限公司", "credit_code": None},
    ]
    assert a.other_inspector.put(f"/v1/cases/{case_ids[1]}/parties", json={"contractors": parties}).status_code == 200
    case = a.case_until(case_ids[1], lambda c: bool(c["contractors"]), "the contractors in the ledger")
    assert [p["name"] for p in case["contractors"]] == ["某建工集团有限公司", "某置业有限公司"]

    assert a.city.get("/v1/cases", params={"cursor": "not-a-cursor"}).status_code == 422
    assert a.city.get("/v1/cases", params={"stage": "nowhere"}).status_code == 422


def _case_status(a: Agencies, case_id: str) -> CaseStatus:
    """The case workflow's own status (its query), read with the stack's keys."""

    async def query() -> CaseStatus:
        client = await keyed_client(a.stack)
        return await client.get_workflow_handle(case_workflow_id(case_id)).query(Queries.STATUS, result_type=CaseStatus)

    return asyncio.run(query())


def _ledger_rows(a: Agencies, case_id: str) -> tuple[Any, ...]:
    case = a.case(case_id)
    return (
        case["complaint_count"],
        case["amount_claimed"],
        case["workers_affected"],
        case["stage"],
        tuple(sorted(c["complaint_id"] + c["stage"] for c in case["complaints"])),
    )


def _rewind_consumer_group(settings: CommonSettings, timeout: float = 60) -> None:
    """Commit offset 0 on every partition of the ledger consumer's group: Kafka delivers everything again."""
    deadline = time.monotonic() + timeout
    while True:
        consumer = KafkaConsumer(**client_options(settings), group_id=CONSUMER_NAME, enable_auto_commit=False)
        try:
            partitions = [TopicPartition(t, p) for t in TOPICS for p in consumer.partitions_for_topic(t) or ()]
            consumer.commit({tp: OffsetAndMetadata(0, "", -1) for tp in partitions})
            return
        except Exception:
            # The killed member still holds the group until its session times out.
            if time.monotonic() > deadline:
                raise
            time.sleep(2)
        finally:
            consumer.close()


def test_the_ledger_catches_up_after_the_consumer_is_killed_and_applies_nothing_twice(agencies: Agencies) -> None:
    a = agencies
    employer = seed()
    before = a.file(complaint_body(employer, amount_owed="1000.00", workers_affected=1))
    case_id = a.in_ledger(before)["case_id"]

    a.stack.kill_process("cases-worker")
    try:
        # While the consumer is down the API still answers from the ledger and records its facts.
        accepted = a.act(a.inspector, f"/v1/complaints/{before}/acceptance", {"decision": "accept"}, retry_on=(503,))
        assert accepted.status_code == 200, accepted.text
        during = [a.file(complaint_body(employer, amount_owed="2000.00", workers_affected=2)) for _ in range(2)]
        time.sleep(2)
        assert a.case(case_id)["complaint_count"] == 1  # nothing applied while the consumer is dead
        _rewind_consumer_group(a.stack.client_settings())
    finally:
        a.stack.start_process(a.stack.spec("cases-worker"))
        a.stack.wait_process_ready(a.stack.processes["cases-worker"], 90)

    def caught_up(c: dict[str, Any]) -> bool:
        # Every event applied, the acceptance decided while the consumer was down among them (it can come
        # after the complaints and the case process: two producers, two topics).
        decided = any(x["complaint_id"] == before and x["decision"] for x in c["complaints"])
        return c["complaint_count"] == 3 and bool(c["process_case_ids"]) and decided

    case = a.case_until(case_id, caught_up, "the ledger caught up")
    assert Decimal(case["amount_claimed"]) == Decimal("5000.00") and case["workers_affected"] == 5
    by_id = {c["complaint_id"]: c for c in case["complaints"]}
    assert by_id[before]["decision"] == "accept" and all(by_id[c]["stage"] == "awaiting_acceptance" for c in during)

    timeline = a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]
    submitted = [e["complaint_id"] for e in timeline if e["type"] == "complaint.submitted"]
    assert sorted(submitted) == sorted([before, *during])  # each event once, though Kafka delivered all again
    assert [e["type"] for e in timeline].count("complaint.acceptance_decided") == 1
    with psycopg.connect(a.stack.postgres.service_url("cases")) as conn:
        opened = conn.execute(
            "SELECT count(*) FROM cases.outbox WHERE event_type = 'case.opened' AND message_key = %s", (case_id,)
        ).fetchone()
    assert opened is not None and opened[0] == 1
    snapshot = _ledger_rows(a, case_id)
    time.sleep(1)
    assert _ledger_rows(a, case_id) == snapshot


def test_merge_keeps_an_alias_and_split_regroups_complaints(agencies: Agencies) -> None:
    a = agencies
    first_employer, second_employer = seed(), seed()
    one, case_a = a.accepted_case(complaint_body(first_employer, amount_owed="4000.00", workers_affected=1))
    two, case_b = a.accepted_case(complaint_body(second_employer, amount_owed="6000.00", workers_affected=2))
    assert case_a != case_b

    other_county = a.file(complaint_body(seed(), county="130403"))
    foreign = a.in_ledger(other_county)["case_id"]
    assert a.city.post(f"/v1/cases/{case_a}/merge", json={"case_id": foreign, "reason": "同一项目"}).status_code == 422
    assert (
        a.inspector.post(f"/v1/cases/{case_a}/merge", json={"case_id": foreign, "reason": "同一项目"}).status_code
        == 404
    )

    # Case A's process is verified (its order is its own); case B's is not: B's merges into A's, and its
    # complaint moves into case A's workflow.
    verified = a.act(a.inspector, f"/v1/cases/{case_a}/verification", {"outcome": "wage_arrears"})
    assert verified.status_code == 200, verified.text
    r = a.inspector.post(f"/v1/cases/{case_a}/merge", json={"case_id": case_b, "reason": "同一用人单位的两个名称"})
    assert r.status_code == 202, r.text
    assert r.json()["processes_merged"] == [case_b] and r.json()["processes_kept"] == {}

    def merged_processes(c: dict) -> bool:
        by_id = {p["process_case_id"]: p for p in c["processes"]}
        return c["complaint_count"] == 2 and by_id.get(case_b, {}).get("closure_reason") == "merged"

    merged = a.case_until(case_a, merged_processes, "the merge applied, case B's process closed as merged")
    assert Decimal(merged["amount_claimed"]) == Decimal("10000.00")
    assert merged["process_case_ids"] == [case_a]
    assert {c["complaint_id"]: c["process_case_id"] for c in merged["complaints"]} == {one: case_a, two: case_a}
    survivor = wait_for(
        "case B's complaint in case A's workflow", lambda: (s := _case_status(a, case_a)).workers == 3 and s, timeout=60
    )
    assert sorted(survivor.members) == sorted([one, two]) and survivor.amount_owed == Decimal("10000.00")
    alias = a.case(case_b)
    assert alias["case_id"] == case_a and alias["requested_id"] == case_b
    listed = [c["case_id"] for c in a.city.get("/v1/cases", params={"employer": str(second_employer)}).json()["items"]]
    assert case_b not in listed
    assert "complaint.submitted" in {e["type"] for e in a.city.get(f"/v1/cases/{case_b}/timeline").json()["events"]}

    # New complaints against the merged case's employer and project land in the surviving case.
    three = a.file(complaint_body(second_employer, amount_owed="1000.00", workers_affected=1))
    assert a.in_ledger(three)["case_id"] == case_a

    # The merged process no longer takes actions: they go to the survivor's.
    gone = a.inspector.post(
        f"/v1/cases/{case_a}/figures",
        json={"confirmed_amount": "10000.00", "confirmed_workers": 3, "process_case_id": case_b},
    )
    assert gone.status_code == 422 and case_b in gone.json()["detail"]

    # Split the second employer's complaints off again.
    assert (
        a.inspector.post(
            f"/v1/cases/{case_a}/split", json={"complaint_ids": [one, two, three], "reason": "x"}
        ).status_code
        == 422
    )
    assert (
        a.inspector.post(f"/v1/cases/{case_a}/split", json={"complaint_ids": ["TS-NOPE"], "reason": "x"}).status_code
        == 422
    )
    r = a.inspector.post(f"/v1/cases/{case_a}/split", json={"complaint_ids": [two, three], "reason": "核实为不同项目"})
    assert r.status_code == 202, r.text
    new_case = r.json()["new_case_id"]
    split_off = wait_for(
        "the split applied", lambda: a.city.get(f"/v1/cases/{new_case}").status_code == 200 and a.case(new_case)
    )
    assert sorted(c["complaint_id"] for c in split_off["complaints"]) == sorted([two, three])
    assert Decimal(split_off["amount_claimed"]) == Decimal("7000.00")
    remaining = a.case_until(case_a, lambda c: c["complaint_count"] == 1, "the source case after the split")
    assert [c["complaint_id"] for c in remaining["complaints"]] == [one]
    assert a.in_ledger(two)["case_id"] == new_case
    assert_ledger_agrees(a.stack, [case_a, new_case])
