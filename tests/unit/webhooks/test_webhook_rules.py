"""The webhooks' rules: scope (what a subscriber may subscribe to and which events it receives), the retry
schedule, what a receiver's answer means, receivers' URLs, and signing with one secret or two (rotation),
verified with the Standard Webhooks library as a receiver would."""

from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.common.auth import Role
from services.common.errors import Invalid
from services.contracts.case_ledger_events import ReportProduced
from services.contracts.cases_events import CaseOpened
from services.contracts.credit_sharing_events import CreditEntryAdded
from services.contracts.event_scope import EventScope, scope_fields, scope_of
from services.contracts.events import EventEnvelope
from services.contracts.intake_events import ComplaintSubmitted
from services.contracts.monitoring_events import ProjectRegistered
from services.contracts.referrals_events import HandoffSent, LetterIssued, ReferralMade
from services.webhooks.commands import check_event_types
from services.webhooks.dispatcher import Answer, DeliveryLoop, Due
from services.webhooks.domain import (
    Outcome,
    Subscriber,
    body_of,
    check_url,
    delivery_id,
    headers,
    may_receive,
    may_subscribe,
    new_secret,
    outcome_of,
    parse_schedule,
    pause_after,
)
from services.webhooks.settings import WebhooksSettings

CITY = Subscriber(Role.city_office)
INSPECTOR = Subscriber(Role.county_inspector, county="130402")
HOUSING = Subscriber(Role.department, department="housing")
POLICE = Subscriber(Role.police)
CREDIT = Subscriber(Role.credit_system)


def test_scope_is_read_from_the_fields_each_event_names() -> None:
    assert scope_of(HandoffSent, {"county": "130402", "department": "housing"}) == EventScope(
        county="130402", department="housing"
    )
    assert scope_of(ComplaintSubmitted, {"county_code": "130403"}).county == "130403"
    assert scope_of(ProjectRegistered, {"project": {"county": "130404", "department": "transport"}}) == EventScope(
        county="130404", department="transport"
    )
    assert scope_of(ReferralMade, {"county": "130402", "target": "police"}).receiver == "police"
    assert scope_of(CreditEntryAdded, {"listing_id": "L-1"}) == EventScope(credit_feed=True)


def test_the_scope_fields_an_event_class_declares() -> None:
    assert scope_fields(HandoffSent).department and scope_fields(HandoffSent).county
    assert not scope_fields(CaseOpened).department and not scope_fields(CaseOpened).receiver
    assert scope_fields(ProjectRegistered).county and scope_fields(ProjectRegistered).department
    assert scope_fields(LetterIssued).receiver and scope_fields(LetterIssued).department
    assert scope_fields(CreditEntryAdded).credit_feed and not scope_fields(CreditEntryAdded).county


def test_a_department_receives_its_own_handoffs_only() -> None:
    assert may_subscribe(HOUSING, HandoffSent) and not may_subscribe(HOUSING, CaseOpened)
    assert may_receive(HOUSING, EventScope(county="130402", department="housing"))
    assert not may_receive(HOUSING, EventScope(county="130402", department="transport"))
    assert not may_receive(Subscriber(Role.department), EventScope(department="housing"))  # fails closed


def test_a_county_inspector_receives_its_county_only() -> None:
    assert may_subscribe(INSPECTOR, CaseOpened) and not may_subscribe(INSPECTOR, CreditEntryAdded)
    assert may_receive(INSPECTOR, EventScope(county="130402"))
    assert not may_receive(INSPECTOR, EventScope(county="130403"))
    assert not may_receive(INSPECTOR, EventScope())
    assert not may_receive(Subscriber(Role.county_inspector), EventScope(county="130402"))


def test_the_police_receive_what_was_referred_to_them() -> None:
    assert may_subscribe(POLICE, ReferralMade) and not may_subscribe(POLICE, HandoffSent)
    assert may_receive(POLICE, EventScope(county="130402", receiver="police"))
    assert not may_receive(POLICE, EventScope(county="130402", receiver="arbitration"))


def test_the_city_office_receives_everything_and_the_credit_systems_their_feed() -> None:
    assert may_subscribe(CITY, ReportProduced) and may_receive(CITY, EventScope())
    assert may_subscribe(CREDIT, CreditEntryAdded) and not may_subscribe(CREDIT, CaseOpened)
    assert may_receive(CREDIT, EventScope(credit_feed=True)) and not may_receive(CREDIT, EventScope(county="130402"))
    assert not may_subscribe(Subscriber(Role.court), CaseOpened)


def test_event_types_asked_for_must_be_known_and_in_scope() -> None:
    assert check_event_types(HOUSING, ["handoff.sent", "handoff.escalated", "handoff.sent"]) == [
        "handoff.escalated",
        "handoff.sent",
    ]
    with pytest.raises(Invalid) as refused:
        check_event_types(HOUSING, ["case.opened", "no.such"])
    assert [e["code"] for e in refused.value.errors or []] == ["out_of_scope", "unknown"]
    with pytest.raises(Invalid):
        check_event_types(HOUSING, [])


def test_backoff_follows_the_schedule_then_the_delivery_is_dead() -> None:
    schedule = parse_schedule("5, 30,120,600,3600")
    assert [pause_after(schedule, n) for n in range(1, 7)] == [5, 30, 120, 600, 3600, None]
    with pytest.raises(ValueError):
        parse_schedule("5,-1")
    with pytest.raises(ValueError):
        parse_schedule("")


def test_what_a_receivers_answer_means() -> None:
    assert outcome_of(200) is Outcome.DELIVERED and outcome_of(204) is Outcome.DELIVERED
    assert outcome_of(410) is Outcome.GONE
    assert {outcome_of(status) for status in (None, 301, 400, 404, 429, 500, 503)} == {Outcome.RETRY}


def test_a_receiver_url_is_https_or_http_to_loopback_where_allowed() -> None:
    assert check_url("https://hr.example.gov.cn/hook", allow_http_loopback=False)
    assert check_url("http://127.0.0.1:8123/hook", allow_http_loopback=True)
    assert check_url("http://[::1]:8123/hook", allow_http_loopback=True)
    for url, allowed in [
        ("http://127.0.0.1:8123/hook", False),
        ("http://10.0.0.5/hook", True),
        ("ftp://example.org/x", True),
        ("https://user:pw@example.org/", True),
        ("/relative", True),
        ("https://[::1/hook", True),
    ]:
        with pytest.raises(Invalid):
            check_url(url, allow_http_loopback=allowed)


def envelope() -> EventEnvelope:
    payload = HandoffSent(handoff_id="H-1", case_id="C-1", county="130402", department="housing", letter_id="L-1")
    return EventEnvelope.wrap(payload, subject="C-1", producer="referrals")


def test_a_delivery_verifies_with_the_library_under_its_secret() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    event = envelope()
    body = body_of(event)
    message_id = delivery_id("sub_1", event.event_id)
    assert message_id == delivery_id("sub_1", event.event_id) != delivery_id("sub_2", event.event_id)
    sent = headers(message_id, datetime.now(UTC), body, [secret])
    delivered = Webhook(secret).verify(body, sent)
    assert delivered["type"] == "handoff.sent" and delivered["data"]["event_id"] == str(event.event_id)
    assert "trace" not in delivered["data"]
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(body, sent)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("housing", "transport"), sent)


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = new_secret(), new_secret()
    body = json.dumps({"type": "x"})
    sent = headers(f"msg_{uuid.uuid4().hex}", datetime.now(UTC), body, [new, old])
    assert len(sent["webhook-signature"].split(" ")) == 2
    assert all(part.startswith("v1,") for part in sent["webhook-signature"].split(" "))
    Webhook(old).verify(body, sent)
    Webhook(new).verify(body, sent)
    alone = headers(sent["webhook-id"], datetime.now(UTC), body, [new])
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(body, alone)


def test_a_send_is_signed_for_the_receiver_and_its_answer_is_read() -> None:
    secret = new_secret()
    body = body_of(envelope())
    seen: list[httpx.Request] = []

    def receiver(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        Webhook(secret).verify(request.content, dict(request.headers))
        return httpx.Response(410 if request.url.path == "/gone" else 204)

    settings = WebhooksSettings(ANXIN_WEBHOOKS_RETRY_SCHEDULE="1,2")
    loop = DeliveryLoop(settings, client=httpx.Client(transport=httpx.MockTransport(receiver)))
    due = Due("msg_1", "sub_1", "https://hr.example.gov.cn/hook", body, 0, (secret,))
    assert loop.send(due) == Answer(204, None)
    assert outcome_of(loop.send(replace(due, url="https://hr.example.gov.cn/gone")).status) is Outcome.GONE
    assert seen[0].headers["webhook-id"] == "msg_1" and seen[0].content == body.encode()

    def unreachable(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    down = DeliveryLoop(settings, client=httpx.Client(transport=httpx.MockTransport(unreachable)))
    answer = down.send(due)
    assert answer.status is None and "ConnectError" in (answer.error or "")
    assert outcome_of(answer.status) is Outcome.RETRY
