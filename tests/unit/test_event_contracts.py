"""An event is its class: the registry, the envelope, the catalog, and what producers and consumers do with
an event that is not what its contract says."""

from __future__ import annotations

import importlib.util
import types
import typing
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any, ClassVar

import pytest
from pydantic import BaseModel, ValidationError

from operations import event_contracts
from services.common.event_handlers import EventHandlers, UnacceptedVersion
from services.common.inbox import InboxConsumer
from services.common.outbox import add_event, add_events
from services.contracts import catalog
from services.contracts.case_decision_events import CaseDecisionEvents
from services.contracts.case_ledger_events import CaseLedgerEvents
from services.contracts.case_payout_events import CasePayoutEvents
from services.contracts.case_warning_events import CaseWarningEvents
from services.contracts.cases_events import ActionRecorded, CaseEvents
from services.contracts.credit_sharing_events import CreditEvents
from services.contracts.events import EventEnvelope, EventPayload, Topics, UnknownEvent, event_class
from services.contracts.guarantee_funds import GuaranteeFundEvents
from services.contracts.intake_events import IntakeEvents
from services.contracts.interview_events import InterviewEvents
from services.contracts.monitoring_events import MonitoringEvents
from services.contracts.referrals_events import ReferralEvents
from services.contracts.sanctions_events import SanctionsEvents
from tests.support import events as test_events
from tests.support.events import Counted, Marked

EVENTS = catalog.events()

# The name constants each events module keeps, and the topic their events go on.
NAMES = {
    IntakeEvents: Topics.INTAKE_COMPLAINTS,
    CaseEvents: Topics.CASES,
    CaseDecisionEvents: Topics.CASES,
    CaseLedgerEvents: Topics.CASES,
    CasePayoutEvents: Topics.CASES,
    CaseWarningEvents: Topics.CASES,
    ReferralEvents: Topics.REFERRALS,
    SanctionsEvents: Topics.SANCTIONS,
    CreditEvents: Topics.CREDIT_SHARING,
    MonitoringEvents: Topics.MONITORING,
    GuaranteeFundEvents: Topics.MONITORING,
    InterviewEvents: Topics.SANCTIONS,
}


# --- samples of every event, built from its fields' types ---------------------------------------------------


def sample(annotation: Any) -> Any:
    """A value of `annotation`: the first choice of a union or literal, one item in a list or mapping."""
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin in (typing.Union, types.UnionType):
        return sample(next(a for a in args if a is not type(None)))
    if origin is typing.Literal:
        return args[0]
    if origin is list:
        return [sample(args[0])]
    if origin is dict:
        return {"k": sample(args[1]) if args[1] is not Any else "v"}
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation(**{name: sample(field.annotation) for name, field in annotation.model_fields.items()})
    if isinstance(annotation, type) and issubclass(annotation, Enum):
        return next(iter(annotation))
    return {
        str: "S-1",
        bool: True,
        int: 3,
        Decimal: Decimal("18600.50"),
        date: date(2026, 11, 29),
        datetime: datetime(2026, 11, 29, 8, 30, tzinfo=UTC),
    }[annotation]


def test_the_catalog_holds_every_event_once_with_its_topic_and_producer() -> None:
    assert len(EVENTS) == len({(cls.TYPE, cls.VERSION) for cls in EVENTS}) >= 47
    for cls in EVENTS:
        assert cls.TOPIC in Topics.all(), cls
        assert catalog.producer_of(cls) in ("intake", "cases", "referrals", "sanctions", "monitoring")
        assert cls.__doc__, f"{cls.__name__} says what happened in its docstring (the published contract's text)"


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: f"{cls.TYPE}.v{cls.VERSION}")
def test_every_event_round_trips_through_its_json_and_its_json_schema_accepts_it(cls: type[EventPayload]) -> None:
    payload = sample(cls)
    envelope = EventEnvelope.wrap(payload, subject="C-1", producer=catalog.producer_of(cls))
    assert (envelope.type, envelope.version) == (cls.TYPE, cls.VERSION)
    assert envelope.payload == payload.model_dump(mode="json")
    again = EventEnvelope.from_bytes(envelope.to_bytes()).parse()
    # An agency's free text is kept by its producer and never travels: it comes back empty.
    assert type(again) is cls and again == payload.model_copy(update=dict.fromkeys(cls.agency_text_fields()))
    validate = _schema_validator()
    if validate is not None:
        validate(cls.model_json_schema(mode="serialization"), envelope.payload)


AGENCY_TEXT_EVENTS = [cls for cls in EVENTS if cls.agency_text_fields()]


def test_the_agencies_free_text_fields_are_the_notes_and_reasons_people_type() -> None:
    fields = {f"{cls.TYPE}.{name}" for cls in AGENCY_TEXT_EVENTS for name in cls.agency_text_fields()}
    assert fields == {
        "complaint.forwarded.note",
        "case.extension_requested.reason",
        "case.extension_approved.reason",
        "case.extension_refused.reason",
        "case.referral_approval_decided.reason",
        "case.referral_withdrawal_proposed.reason",
        "case.referral_withdrawal_decided.reason",
        "case.deadline_confirmed.note",
        "case.figures_confirmed.notes",
        "case.merged.reason",
        "case.split.reason",
        "employer.linked.reason",
        "payout.refused.reason",
    }


@pytest.mark.parametrize("cls", AGENCY_TEXT_EVENTS, ids=lambda cls: f"{cls.TYPE}.v{cls.VERSION}")
def test_an_agencys_free_text_is_kept_by_the_producer_and_never_in_the_event(cls: type[EventPayload]) -> None:
    marker = "转送备注 13800138000 MARKER-7f3a"
    payload = sample(cls).model_copy(update=dict.fromkeys(cls.agency_text_fields(), marker))
    assert payload.agency_texts() == dict.fromkeys(cls.agency_text_fields(), marker)
    envelope = EventEnvelope.wrap(payload, subject="C-1", producer=catalog.producer_of(cls))
    assert marker not in envelope.to_bytes().decode()
    for name in cls.agency_text_fields():
        assert name not in cls.model_json_schema(mode="serialization")["properties"]
    # An event published before still carries the text: it is read, with the text, as it was.
    older = envelope.model_copy(update={"payload": {**envelope.payload, **payload.agency_texts()}})
    assert EventEnvelope.from_bytes(older.to_bytes()).parse() == payload


def _schema_validator() -> Any:
    """A JSON Schema validator from the virtualenv (jsonschema, or the one schemathesis brings), if any."""
    try:
        import jsonschema

        return lambda schema, instance: jsonschema.validate(instance, schema)
    except ImportError:
        pass
    try:
        import jsonschema_rs

        return lambda schema, instance: jsonschema_rs.validate(schema, instance)
    except ImportError:
        return None


def test_every_name_constant_has_its_class_on_its_topic() -> None:
    named = set()
    for names, topic in NAMES.items():
        for constant, event_type in vars(names).items():
            if constant.isupper():
                cls = event_class(event_type, 1)
                assert topic == cls.TOPIC, (constant, cls)
                named.add(cls)
    assert named == set(EVENTS)


# --- the registry and the envelope --------------------------------------------------------------------------


def test_an_unknown_type_or_version_is_an_unknown_event_naming_the_versions_known() -> None:
    with pytest.raises(UnknownEvent) as caught:
        EventEnvelope(type="case.opened", version=2, subject="C", producer="cases").parse()
    assert str(caught.value) == "unknown event case.opened v2: the versions known are v1"
    assert isinstance(caught.value, ValueError) and caught.value.known_versions == [1]
    with pytest.raises(UnknownEvent, match="no version of it is known"):
        EventEnvelope(type="case.reopened", subject="C", producer="cases").parse()


def test_a_payload_its_class_does_not_accept_is_a_validation_error() -> None:
    envelope = EventEnvelope(
        type=CaseEvents.PAYMENT_RECORDED,
        subject="C",
        producer="cases",
        payload={
            "action_id": "A",
            "case_id": "C",
            "county": "130402",
            "actor": "x",
            "payment_id": "P",
            "amount": "1",
            "worker_name": "张三",
        },
    )
    with pytest.raises(ValidationError, match="worker_name"):
        envelope.parse()


def test_wrap_takes_type_and_version_from_the_class_and_keeps_what_it_is_given() -> None:
    at = datetime(2026, 11, 29, tzinfo=UTC)
    envelope = EventEnvelope.wrap(
        Counted(n=7), subject="c", producer="test", occurred_at=at, trace={"traceparent": "00-1-2-01"}
    )
    assert (envelope.type, envelope.version, envelope.occurred_at, envelope.payload) == (
        "test.counted",
        1,
        at,
        {"n": 7},
    )
    assert envelope.trace == {"traceparent": "00-1-2-01"}
    with pytest.raises(TypeError, match="not a registered event class"):
        EventEnvelope.wrap(ActionRecorded.model_construct(), subject="c", producer="test")  # type: ignore[call-arg]


def test_a_class_defined_again_is_the_same_event_but_another_class_for_its_key_is_refused() -> None:
    # As Temporal's workflow sandbox does: the module executed anew, under its own name.
    path = Path(test_events.__file__)
    spec = importlib.util.spec_from_file_location(test_events.__name__, path)
    assert spec is not None and spec.loader is not None
    fresh = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(fresh)
    assert fresh.Counted is not Counted
    assert event_class("test.counted", 1) is Counted  # the first definition stays the event's class

    with pytest.raises(TypeError, match=r"test\.counted v1 is already tests\.support\.events\.Counted"):

        class Impostor(EventPayload):
            TYPE: ClassVar[str] = "test.counted"
            VERSION: ClassVar[int] = 1


# --- producers: the outbox refuses what its class would not read ------------------------------------------


class RecordingConnection:
    """Stands in for a connection: records what would have been executed."""

    def __init__(self) -> None:
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: tuple[Any, ...] = (), *, prepare: bool | None = None) -> Any:
        self.statements.append((sql, params))
        # The inbox's one statement for a poll's rows returns the ids it wrote: here, all of them.
        written = [(event_id,) for event_id in params[1]] if sql.startswith("INSERT INTO inbox") else []
        return types.SimpleNamespace(rowcount=1, fetchall=lambda: written)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield


def test_add_event_refuses_an_event_its_class_would_not_read_and_writes_nothing() -> None:
    conn = RecordingConnection()
    # As a producer writing its payload by hand would: the amount missing, an unknown field.
    by_hand = EventEnvelope(
        type=CaseEvents.PAYMENT_RECORDED,
        subject="C-1",
        producer="cases",
        payload={"action_id": "A", "case_id": "C-1", "county": "130402", "actor": "x", "payment_id": "P", "paid": "1"},
    )
    with pytest.raises(ValidationError):
        add_event(conn, Topics.CASES, by_hand)  # type: ignore[arg-type]
    with pytest.raises(UnknownEvent):
        add_event(conn, Topics.CASES, EventEnvelope(type="case.reopened", subject="C-1", producer="cases"))  # type: ignore[arg-type]
    assert conn.statements == []
    add_event(conn, "test.topic", EventEnvelope.wrap(Counted(n=1), subject="c", producer="test"))  # type: ignore[arg-type]
    assert len(conn.statements) == 1


def test_add_events_refuses_the_whole_batch_for_one_bad_event_and_writes_the_rest_in_one_statement() -> None:
    conn = RecordingConnection()
    good = [EventEnvelope.wrap(Counted(n=n), subject="c", producer="test") for n in range(3)]
    bad = EventEnvelope(type="test.counted", subject="c", producer="test", payload={"n": "many"})
    with pytest.raises(ValidationError):
        add_events(conn, "test.topic", [*good[:2], bad, good[2]])  # type: ignore[arg-type]
    assert conn.statements == []
    add_events(conn, "test.topic", [])  # type: ignore[arg-type]
    assert conn.statements == []
    add_events(conn, "test.topic", good)  # type: ignore[arg-type]
    [(sql, params)] = conn.statements
    topic, event_ids, keys, types_, envelopes = params
    assert sql.startswith("INSERT INTO outbox") and topic == "test.topic"
    assert event_ids == [e.event_id for e in good] and keys == ["c"] * 3 and types_ == [Counted.TYPE] * 3
    # Each envelope as written is the event's own JSON document, read back the same.
    assert [EventEnvelope.model_validate_json(text) for text in envelopes] == good


# --- consumers: handlers by class ----------------------------------------------------------------------------


def test_handlers_get_their_class_ignore_other_known_events_and_refuse_versions_they_do_not_accept() -> None:
    seen: list[tuple[str, Any]] = []
    handlers = EventHandlers(
        {Counted: lambda _conn, envelope, payload: seen.append((envelope.subject, payload))}, consumer="test-consumer"
    )
    handlers(None, EventEnvelope.wrap(Counted(n=4), subject="a", producer="test"))
    assert seen == [("a", Counted(n=4))]

    handlers(None, EventEnvelope.wrap(Marked(marker="m"), subject="b", producer="test"))  # known, not handled here
    assert (
        len(seen) == 1
        and handlers.payload_of(EventEnvelope.wrap(Marked(marker="m"), subject="b", producer="test")) is None
    )
    with pytest.raises(UnacceptedVersion, match=r"test-consumer accepts test\.counted v1, not v3"):
        handlers(None, EventEnvelope(type="test.counted", version=3, subject="c", producer="test", payload={"n": 1}))
    with pytest.raises(UnknownEvent, match=r"unknown event test\.unheard-of v1"):
        handlers(None, EventEnvelope(type="test.unheard-of", subject="c", producer="test"))
    with pytest.raises(ValidationError):
        handlers(None, EventEnvelope(type="test.counted", subject="c", producer="test", payload={"n": "many"}))
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("envelope", "error"),
    [
        (
            EventEnvelope(type="test.unheard-of", subject="c", producer="test"),
            "UnknownEvent: unknown event test.unheard-of v1: no version of it is known",
        ),
        (
            EventEnvelope(type="test.counted", version=2, subject="c", producer="test", payload={"n": 1}),
            "UnacceptedVersion: inbox-test accepts test.counted v1, not v2",
        ),
        (
            EventEnvelope(type="test.counted", subject="c", producer="test", payload={"n": "many"}),
            "ValidationError: 1 validation error for Counted\nn\n  Input should be a valid integer",
        ),
    ],
    ids=["unknown", "version", "invalid"],
)
def test_the_inbox_sets_an_unreadable_event_aside_as_a_dead_letter_with_the_reason(
    envelope: EventEnvelope, error: str
) -> None:
    applied: list[Counted] = []
    consumer = InboxConsumer(
        name="inbox-test",
        database_url="postgresql://unused",
        schema="unused",
        consumer_factory=lambda: None,  # type: ignore[arg-type,return-value]
        handler=EventHandlers({Counted: lambda _c, _e, payload: applied.append(payload)}, consumer="inbox-test"),
    )
    conn = RecordingConnection()
    record = types.SimpleNamespace(topic="test.topic", partition=0, offset=41)
    consumer._apply_poll(conn, [(record, envelope)])  # type: ignore[arg-type]
    dead_letter = next(params for sql, params in conn.statements if sql.startswith("INSERT INTO dead_letters"))
    assert dead_letter[:6] == ("inbox-test", envelope.event_id, "test.topic", 0, 41, envelope.type)
    assert dead_letter[6].startswith(error), dead_letter[6]
    assert consumer.status.dead_letters_total == 1 and not applied


# --- the published contract -------------------------------------------------------------------------------


def test_the_published_contract_is_the_one_the_event_classes_make() -> None:
    stale = event_contracts.differences()
    assert not stale, f"docs/events/ is not what the event classes say: run `make contracts` and commit it ({stale})"


def test_the_asyncapi_document_has_each_topic_each_producer_and_a_message_that_accepts_each_event() -> None:
    document = event_contracts.asyncapi(EVENTS)
    assert document["asyncapi"] == "3.0.0"
    assert sorted(channel["address"] for channel in document["channels"].values()) == sorted(Topics.all())
    assert {(op["action"], op["channel"]["$ref"]) for op in document["operations"].values()} == {
        ("send", f"#/channels/{event_contracts._channel_id(cls.TOPIC)}") for cls in EVENTS
    }
    messages = document["components"]["messages"]
    assert sorted(messages) == sorted(f"{cls.TYPE}.v{cls.VERSION}" for cls in EVENTS)
    validate = _schema_validator()
    for cls in EVENTS:
        message = messages[f"{cls.TYPE}.v{cls.VERSION}"]
        assert message["description"] and message["payload"]["properties"]["type"]["const"] == cls.TYPE
        if validate is not None:
            envelope = EventEnvelope.wrap(
                sample(cls),
                subject="C-1",
                producer=catalog.producer_of(cls),
                trace={"traceparent": "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"},
            )
            schema = {**message["payload"], "components": document["components"]}
            validate(schema, envelope.model_dump(mode="json"))
