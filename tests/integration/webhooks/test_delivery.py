"""Webhooks on the real stack: the webhooks API and dispatcher, PostgreSQL and Kafka, and receivers on loopback.

Events are put on Kafka as a service's relay puts them (an envelope of a registered event class on its topic);
the dispatcher's own consumer group reads them. Receivers are small HTTP servers on 127.0.0.1 that fail, recover
or answer 410 as each test needs; every delivery they get is checked with the Standard Webhooks library. The
dispatcher runs with a short retry schedule (0.3 s pauses, 4 attempts) so the tests take seconds.
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from deploy.stack import Stack
from services.common.kafka import new_producer
from services.contracts.events import EventEnvelope, EventPayload
from services.contracts.lifecycle.enums import ReferralKind
from services.contracts.referrals_events import HandoffSent, ReferralWithdrawn
from tests.support.agencies import agency_clients, wait_for

RETRY_SCHEDULE = "0.3,0.3,0.3"
ATTEMPTS = 4  # the first and one after each pause


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    """An HTTP server on loopback: each path answers from its own plan (`fail_first`, `down`, `gone`).

    `fail_first[path] = n` fails the first n attempts of each delivery to that path (by its `webhook-id`): the
    stack is shared, so a department's subscription may also be sent other tests' events of its scope, which
    must not use up the failures planned for the test's own event."""

    server: ThreadingHTTPServer
    received: list[Received] = field(default_factory=list)
    fail_first: dict[str, int] = field(default_factory=dict)
    down: set[str] = field(default_factory=set)
    gone: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{path}"

    def answer(self, path: str, headers: dict[str, str], body: bytes) -> int:
        with self.lock:
            delivery = headers.get("webhook-id")
            earlier = sum(1 for r in self.received if r.path == path and r.headers.get("webhook-id") == delivery)
            if path in self.gone:
                status = 410
            elif path in self.down or earlier < self.fail_first.get(path, 0):
                status = 503
            else:
                status = 204
            self.received.append(Received(path, headers, body, status))
            return status

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if r.path == path]


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    plan = Receiver(server)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            status = plan.answer(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server.RequestHandlerClass = Handler
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield plan
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def client(stack: Stack, agency_token: Callable[[str], str]) -> Iterator[Callable[[str], httpx.Client]]:
    stack.start_processes(["issuer-api", "webhooks-api"], timeout=180)
    dispatcher = stack.spec("webhooks-dispatcher")
    dispatcher.env = {
        **dispatcher.env,
        "ANXIN_WEBHOOKS_RETRY_SCHEDULE": RETRY_SCHEDULE,
        "ANXIN_WEBHOOKS_DISPATCH_INTERVAL_SECONDS": "0.1",
    }
    stack.stop_process("webhooks-dispatcher")
    stack.start_process(dispatcher)
    stack.wait_process_ready(dispatcher, 180)
    make = agency_clients(stack, agency_token)
    yield lambda who: make("webhooks-api", who)
    # The next user of this stack gets the dispatcher with the settings of its spec.
    stack.stop_process("webhooks-dispatcher")
    stack.start_processes(["webhooks-dispatcher"], timeout=180)


@pytest.fixture(scope="module")
def publish(stack: Stack) -> Iterator[Callable[[EventPayload, str], EventEnvelope]]:
    producer = new_producer(stack.client_settings(), client_id="webhooks-test")

    def send(payload: EventPayload, subject: str, envelope: EventEnvelope | None = None) -> EventEnvelope:
        envelope = envelope or EventEnvelope.wrap(payload, subject=subject, producer="referrals")
        producer.send(payload.TOPIC, key=subject.encode(), value=envelope.to_bytes()).get(timeout=30)
        return envelope

    yield send  # type: ignore[misc]
    producer.close()


def handoff(department: str) -> tuple[HandoffSent, str]:
    case_id = f"C-WH-{uuid.uuid4().hex[:10]}"
    return HandoffSent(
        handoff_id=f"H-{uuid.uuid4().hex[:10]}",
        case_id=case_id,
        county="130402",
        department=department,
        letter_id=f"L-{uuid.uuid4().hex[:8]}",
    ), case_id


def subscribe(http: httpx.Client, url: str, event_types: list[str]) -> dict[str, Any]:
    answer = http.post("/v1/subscriptions", json={"url": url, "event_types": event_types})
    assert answer.status_code == 201, answer.text
    created: dict[str, Any] = answer.json()
    assert created["secret"].startswith("whsec_") and created["status"] == "active"
    return created


def of_event(received: list[Received], event: EventEnvelope) -> list[Received]:
    return [r for r in received if f'"event_id":"{event.event_id}"'.encode() in r.body]


def deliveries(http: httpx.Client, subscription_id: str, *events: EventEnvelope, **params: str) -> list[dict[str, Any]]:
    """The subscription's deliveries, only those of `events` when given: the stack is shared, and a
    subscription is also sent the events of its scope that other tests publish."""
    answer = http.get(f"/v1/subscriptions/{subscription_id}/deliveries", params=params)
    assert answer.status_code == 200, answer.text
    items: list[dict[str, Any]] = answer.json()["items"]
    wanted = {str(event.event_id) for event in events}
    return [item for item in items if item["event_id"] in wanted] if events else items


def test_a_receiver_that_fails_then_recovers_gets_each_event_once_signed_and_only_its_own(
    client: Callable[[str], httpx.Client], receiver: Receiver, publish: Any
) -> None:
    housing = client("dept-housing")
    path = f"/flaky-{uuid.uuid4().hex[:6]}"
    receiver.fail_first[path] = 2
    subscription = subscribe(housing, receiver.url(path), ["handoff.sent"])
    theirs, case_id = handoff("transport")
    ours, _ = handoff("housing")
    # The other department's handoff first, on the same partition (same key): fanned out before ours.
    publish(theirs, case_id)
    event = publish(ours.model_copy(update={"case_id": case_id}), case_id)
    publish(ours, case_id, event)  # the relay sends it again (at least once): still one delivery

    got = wait_for(
        "the delivery after two failures",
        lambda: [r for r in of_event(receiver.at(path), event) if r.answered == 204],
        timeout=60,
    )
    attempts = of_event(receiver.at(path), event)
    assert [r.answered for r in attempts] == [503, 503, 204]
    assert len({r.headers["webhook-id"] for r in attempts}) == 1
    delivered = Webhook(subscription["secret"]).verify(got[0].body, got[0].headers)
    assert delivered["type"] == "handoff.sent" and delivered["data"]["payload"]["department"] == "housing"
    assert delivered["data"]["event_id"] == str(event.event_id)
    # Not the other department's handoff, and no second delivery of the redelivered event.
    assert all(b"transport" not in r.body for r in receiver.at(path))
    rows = deliveries(housing, subscription["subscription_id"], event)
    assert [(r["status"], r["attempts"]) for r in rows] == [("delivered", 3)]
    assert deliveries(housing, subscription["subscription_id"], status="dead") == []


def dead_letters_gauge(stack: Stack) -> float:
    """The dispatcher's `anxin_webhook_deliveries{status="dead"}` (every subscription's)."""
    metrics = httpx.get(f"{stack.processes['webhooks-dispatcher'].url}/metrics", timeout=10).text
    line = next(line for line in metrics.splitlines() if line.startswith('anxin_webhook_deliveries{status="dead"}'))
    return float(line.rsplit(" ", 1)[1])


def test_a_dead_letter_is_listed_and_replayed_once_the_receiver_recovers(
    stack: Stack, client: Callable[[str], httpx.Client], receiver: Receiver, publish: Any
) -> None:
    police = client("police")
    path = f"/down-{uuid.uuid4().hex[:6]}"
    receiver.down.add(path)
    subscription = subscribe(police, receiver.url(path), ["referral.withdrawn"])
    sub_id = subscription["subscription_id"]
    events = []
    for _ in range(2):
        case_id = f"C-WH-{uuid.uuid4().hex[:10]}"
        events.append(
            publish(
                ReferralWithdrawn(
                    referral_id=f"R-{uuid.uuid4().hex[:8]}",
                    case_id=case_id,
                    county="130402",
                    target=ReferralKind.POLICE,
                ),
                case_id,
            )
        )
    dead = wait_for(
        "two dead letters",
        lambda: (rows := deliveries(police, sub_id, *events, status="dead")) and len(rows) == 2 and rows,
        timeout=60,
    )
    assert {r["attempts"] for r in dead} == {ATTEMPTS} and {r["last_status"] for r in dead} == {503}
    assert {r["event_id"] for r in dead} == {str(e.event_id) for e in events}
    assert all(len(of_event(receiver.at(path), e)) == ATTEMPTS for e in events)
    # Operators see them too (the gauge is cached for a few seconds).
    wait_for("the dead letters in the gauge", lambda: dead_letters_gauge(stack) >= 2, timeout=30)
    # Another agency does not see the subscription.
    assert client("arbitration").get(f"/v1/subscriptions/{sub_id}").status_code == 404

    receiver.down.discard(path)
    first = next(r for r in dead if r["event_id"] == str(events[0].event_id))
    replayed = police.post(f"/v1/subscriptions/{sub_id}/deliveries/{first['delivery_id']}/replay")
    assert replayed.status_code == 200 and replayed.json()["replayed"] == [first["delivery_id"]]
    wait_for("the replayed delivery", lambda: [r for r in of_event(receiver.at(path), events[0]) if r.answered == 204])
    again = police.post(f"/v1/subscriptions/{sub_id}/deliveries/{first['delivery_id']}/replay")
    assert again.status_code == 409 and again.json()["type"].endswith("not-dead-letter")
    second = next(r for r in dead if r["event_id"] == str(events[1].event_id))
    everything = police.post(f"/v1/subscriptions/{sub_id}/dead-letters/replay")
    assert everything.status_code == 200 and second["delivery_id"] in everything.json()["replayed"]
    assert first["delivery_id"] not in everything.json()["replayed"]
    wait_for(
        "every dead letter delivered",
        lambda: all(r["status"] == "delivered" for r in deliveries(police, sub_id, *events)),
    )
    for event in events:
        success = [r for r in of_event(receiver.at(path), event) if r.answered == 204]
        assert len(success) == 1
        Webhook(subscription["secret"]).verify(success[0].body, success[0].headers)


def test_after_a_rotation_both_secrets_sign_and_410_disables_the_subscription(
    client: Callable[[str], httpx.Client], receiver: Receiver, publish: Any
) -> None:
    city = client("city-office")
    path = f"/rotated-{uuid.uuid4().hex[:6]}"
    subscription = subscribe(city, receiver.url(path), ["handoff.sent"])
    rotated = city.post(f"/v1/subscriptions/{subscription['subscription_id']}/secret")
    assert rotated.status_code == 200, rotated.text
    new_secret = rotated.json()["secret"]
    assert new_secret != subscription["secret"] and rotated.json()["previous_secret_expires_at"]
    payload, case_id = handoff("transport")
    event = publish(payload, case_id)
    got = wait_for("the delivery", lambda: of_event(receiver.at(path), event))[0]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    Webhook(new_secret).verify(got.body, got.headers)
    Webhook(subscription["secret"]).verify(got.body, got.headers)

    receiver.gone.add(path)
    later, later_case = handoff("housing")
    gone = publish(later, later_case)
    wait_for("410 answered", lambda: of_event(receiver.at(path), gone))
    state = wait_for(
        "the subscription disabled",
        lambda: (
            (body := city.get(f"/v1/subscriptions/{subscription['subscription_id']}").json())["status"] == "disabled"
            and body
        ),
    )
    assert "410" in state["disabled_reason"]
    assert len(of_event(receiver.at(path), gone)) == 1  # not retried


def test_an_agency_subscribes_only_within_its_scope(client: Callable[[str], httpx.Client], receiver: Receiver) -> None:
    housing = client("dept-housing")
    refused = housing.post("/v1/subscriptions", json={"url": receiver.url("/x"), "event_types": ["case.opened"]})
    assert refused.status_code == 422 and refused.json()["errors"][0]["code"] == "out_of_scope"
    police = client("police").post(
        "/v1/subscriptions", json={"url": receiver.url("/x"), "event_types": ["handoff.sent"]}
    )
    assert police.status_code == 422
    not_https = housing.post("/v1/subscriptions", json={"url": "http://example.org/x", "event_types": ["handoff.sent"]})
    assert not_https.status_code == 422 and not_https.json()["errors"][0]["field"] == "url"
    assert (
        client("court")
        .post("/v1/subscriptions", json={"url": receiver.url("/x"), "event_types": ["handoff.sent"]})
        .status_code
        == 403
    )
    mine = subscribe(housing, receiver.url("/mine"), ["handoff.sent", "handoff.escalated"])
    listed = housing.get("/v1/subscriptions", params={"limit": 200}).json()
    assert mine["subscription_id"] in {s["subscription_id"] for s in listed["items"]}
    assert mine["subscription_id"] not in {
        s["subscription_id"] for s in client("dept-transport").get("/v1/subscriptions").json()["items"]
    }
    changed = housing.patch(
        f"/v1/subscriptions/{mine['subscription_id']}", json={"event_types": ["handoff.sent"], "status": "disabled"}
    )
    assert changed.status_code == 200 and changed.json()["event_types"] == ["handoff.sent"]
    assert changed.json()["status"] == "disabled"
    assert housing.delete(f"/v1/subscriptions/{mine['subscription_id']}").status_code == 204
    assert housing.get(f"/v1/subscriptions/{mine['subscription_id']}").status_code == 404
    trail = client("city-office").get("/v1/audit", params={"subject": mine["subscription_id"]}).json()["items"]
    assert [(row["action"], row["actor"]) for row in reversed(trail)] == [
        ("subscription.created", "dept-housing"),
        ("subscription.changed", "dept-housing"),
        ("subscription.deleted", "dept-housing"),
    ]
    assert all("whsec_" not in str(row["detail"]) for row in trail)


def test_a_pending_delivery_outlives_a_dispatcher_killed_between_attempts(
    stack: Stack, client: Callable[[str], httpx.Client], receiver: Receiver, publish: Any
) -> None:
    inspector = client("inspector-130402")
    path = f"/restart-{uuid.uuid4().hex[:6]}"
    receiver.down.add(path)
    subscription = subscribe(inspector, receiver.url(path), ["handoff.sent"])
    sub_id = subscription["subscription_id"]
    # A dispatcher that waits 5 s before its one retry, so it can be killed while the delivery is pending.
    usual = stack.processes["webhooks-dispatcher"]
    patient = stack.spec("webhooks-dispatcher")
    patient.env = {**usual.env, "ANXIN_WEBHOOKS_RETRY_SCHEDULE": "5"}
    stack.stop_process("webhooks-dispatcher")
    stack.start_process(patient)
    stack.wait_process_ready(patient, 180)
    try:
        payload, case_id = handoff("housing")  # county 130402: the inspector's
        event = publish(payload, case_id)
        pending = wait_for(
            "the first attempt failed",
            lambda: [
                r for r in deliveries(inspector, sub_id, event) if r["attempts"] == 1 and r["status"] == "pending"
            ],
        )
        stack.kill_process("webhooks-dispatcher")
    finally:
        receiver.down.discard(path)
        stack.start_process(usual)
        stack.wait_process_ready(usual, 180)
    done = wait_for(
        "the delivery after the restart",
        lambda: [r for r in deliveries(inspector, sub_id, event) if r["status"] == "delivered"],
        timeout=60,
    )
    assert [(r["delivery_id"], r["attempts"]) for r in done] == [(pending[0]["delivery_id"], 2)]
    assert [r.answered for r in of_event(receiver.at(path), event)] == [503, 204]
