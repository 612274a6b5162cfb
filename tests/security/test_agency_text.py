"""Free text an agency types never travels in Kafka (docs/security.md): the attack is anyone with read
access to a topic — every service, an operator, a misconfigured consumer — reading what an inspector wrote
in a forwarding note, an extension, a merge, a split or an employer link, where a name or a phone number
may stand. The text stays with the service that received it (the ledger's timeline still shows it)."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Callable
from typing import Any

from kafka import KafkaConsumer

from services.common.kafka import client_options
from services.contracts.events import Topics
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import agency_clients, wait_for
from tests.support.factories import credit_code, seed


def test_an_agencys_notes_and_reasons_are_nowhere_in_the_events(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    marker = f"联系人王某 13912345678 NOTE-{uuid.uuid4().hex[:12]}"

    # A forwarding note: the inspector's explanation goes with the letter the lifecycle asks for.
    forwarded = a.file(complaint_body(seed()))
    forwarded_case = a.in_ledger(forwarded)["case_id"]
    r = a.act(
        a.inspector,
        f"/v1/complaints/{forwarded}/acceptance",
        {"decision": "forward", "forward_to": "130400-HOUSING", "explanation": f"转送：{marker}"},
        retry_on=(404, 503),
    )
    assert r.status_code == 200, r.text

    # An extension requested and approved, each with its reason.
    _, extended = a.accepted_case(complaint_body(seed()))
    r = a.act(a.inspector, f"/v1/cases/{extended}/extension-requests", {"reason": f"延期：{marker}"}, until=201)
    assert r.status_code == 201, r.text
    r = a.city.post(f"/v1/cases/{extended}/extension-requests/approval", json={"reason": f"批准：{marker}"})
    assert r.status_code == 200, r.text

    # A split and a merge, each with its reason.
    employer = seed()
    one, two = (a.file(complaint_body(employer)) for _ in range(2))
    grouped = a.in_ledger(one)["case_id"]
    assert a.in_ledger(two)["case_id"] == grouped
    r = a.inspector.post(f"/v1/cases/{grouped}/split", json={"complaint_ids": [two], "reason": f"拆分：{marker}"})
    assert r.status_code == 202, r.text
    merged = a.in_ledger(a.file(complaint_body(seed())))["case_id"]
    r = a.inspector.post(f"/v1/cases/{grouped}/merge", json={"case_id": merged, "reason": f"合并：{marker}"})
    assert r.status_code == 202, r.text

    # An employer linked to its credit code, with the inspector's reason (intake's event).
    s = seed()
    body = complaint_body(s, employer_credit_code="")
    a.in_ledger(a.file(body))
    link = {"employer_name": body["employer_name"], "credit_code": credit_code(s), "reason": f"关联：{marker}"}
    linked = agency_clients(a.stack, agency_token)("intake-api", "inspector-130402").post(
        "/v1/employers/links", json=link
    )
    assert linked.status_code == 201, linked.text

    # The ledger applied every one of these events, and its timeline still shows the text it was given.
    def timeline(case_id: str) -> list[dict[str, Any]]:
        return a.city.get(f"/v1/cases/{case_id}/timeline").json()["events"]  # type: ignore[no-any-return]

    def shown(case_id: str, event_type: str, text: str | None) -> bool:
        return any(e["type"] == event_type and (text is None or text in e["summary"]) for e in timeline(case_id))

    for case_id, event_type, text in [
        (forwarded_case, "complaint.forwarded", None),
        (extended, "case.extension_requested", f"延期：{marker}"),
        (extended, "case.extension_approved", f"批准：{marker}"),
        (grouped, "case.split", f"拆分：{marker}"),
        (grouped, "case.merged", f"合并：{marker}"),
    ]:
        wait_for(f"{event_type} in the timeline of {case_id}", functools.partial(shown, case_id, event_type, text), 90)

    consumer = KafkaConsumer(
        *Topics.all(),
        **client_options(a.stack.client_settings()),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=3000,
    )
    messages = list(consumer)
    consumer.close()
    types = {
        m.value.split(b'"type":"', 1)[1].split(b'"', 1)[0].decode()
        for m in messages
        if m.value and b'"type":"' in m.value
    }
    # The scan sees the events that once carried the text.
    assert {
        "complaint.forwarded",
        "case.extension_requested",
        "case.extension_approved",
        "case.split",
        "case.merged",
        "employer.linked",
    } <= types
    needles = [marker.split()[-1], "13912345678"]
    leaks = [
        f"{m.topic}@{m.offset}"
        for m in messages
        for needle in needles
        if needle.encode() in (m.value or b"") + (m.key or b"") + b"".join(v for _, v in m.headers)
    ]
    assert leaks == []
