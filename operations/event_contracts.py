"""The published contract of the events on Kafka, written from the event classes (`make contracts`).

    python -m operations.event_contracts           writes docs/events/asyncapi.yaml and docs/events/schemas/
    python -m operations.event_contracts --check   writes nothing; exits 1 naming the files that differ

`docs/events/asyncapi.yaml` is an AsyncAPI 3.0.0 document: one channel per topic, the `send` operation of
each service on the topics it publishes, and one message per event class, named `<type>.v<version>`, whose
payload is the envelope with the class's JSON Schema as its `payload` member and whose headers are the ones
the relay sets (`services/common/relay.py`). `docs/events/schemas/<type>.v<version>.json` is each class's
JSON Schema (pydantic's, serialization mode: what is on the wire). The output depends on the classes only:
keys sorted, no timestamps, so the files change exactly when a contract does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic.json_schema import models_json_schema

from operations.generated_files import GeneratedFiles
from services.contracts import catalog
from services.contracts.events import EventEnvelope, EventPayload, Topics

ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = Path("docs/events")
ASYNCAPI = EVENTS_DIR / "asyncapi.yaml"
SCHEMAS = EVENTS_DIR / "schemas"
JSON_SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"

TOPIC_DESCRIPTIONS = {
    Topics.INTAKE_COMPLAINTS: "Complaints as they are filed (intake). The key is the complaint id.",
    Topics.CASES: "The ledger's facts (cases): cases opened, the lifecycle's notices, orders and decisions, the "
    "inspectors' actions with the process state right after each, and every workflow's report of "
    "its own state. The key is the ledger case id (a complaint's fact before its case is known: "
    "the complaint id; a periodic report: its report id).",
    Topics.REFERRALS: "Letters, handoffs to departments and their ladder, referrals to the police, the "
    "procuratorate, arbitration and legal aid (referrals), the department directory, and the letters of "
    "the ladder against projects. The key is the case id (the directory: `departments`; the ladder "
    "against projects: the project id).",
    Topics.SANCTIONS: "The blacklist procedure, corrections, and the quarterly publication of major violations "
    "(sanctions). The key is the case id (a quarter's list: its list id).",
    Topics.CREDIT_SHARING: "The feed for the credit systems (信用中国, 征信, 公示系统): blacklist entries added and "
    "removed (sanctions). The key is the case id; apply each event id once.",
    Topics.MONITORING: "The project register (monitoring): projects under construction registered and changed, "
    "each event with the project as it stands after the change; and each project's monthly "
    "payroll and attendance feeds received (counts and totals, no worker). The key is the "
    "project id. Also the payouts to workers from a project's wage deposit or the county's "
    "emergency fund (`payout.*`, `deposit.*`, `fund.recovery_*`), keyed by the case id, and a "
    "county fund's reserve (`fund.reserve_set`), keyed `fund:<county>`.",
}

INFO_DESCRIPTION = """\
The facts Anxin's services publish on Kafka, for the agencies that read them. Every message value is an
event envelope (JSON): `event_id` (the deduplication key: apply each id once, delivery is at least once),
`type` and `version` (which event, in which version of its schema), `occurred_at`, `subject` (the case or
complaint id; also the message key, so one case's events stay in order on one partition), `producer`,
`trace` (W3C trace context) and `payload`, whose schema is the event's. Payloads carry ids, codes, amounts,
counts, masked values and keyed references, never a worker's personal data in clear.

A new version of an event is a new message (`<type>.v<version+1>`) with its own schema; a consumer states
the versions it accepts and sets aside (does not guess at) any other. See docs/events/README.md."""

HEADERS: dict[str, Any] = {
    "type": "object",
    "description": "Kafka headers the relay sets on every message, copied from the envelope.",
    "required": ["event_id", "event_type"],
    "properties": {
        "event_id": {"type": "string", "format": "uuid", "description": "The envelope's `event_id`."},
        "event_type": {"type": "string", "description": "The envelope's `type`."},
        "traceparent": {
            "type": "string",
            "description": "W3C trace context of the change that made the "
            "event, when it had one (the envelope's `trace`).",
        },
        "tracestate": {"type": "string", "description": "W3C trace state, with `traceparent` when there is one."},
    },
}


def message_name(cls: type[EventPayload]) -> str:
    return f"{cls.TYPE}.v{cls.VERSION}"


def _local_id(name: str) -> str:
    """An id for the maps whose keys take letters, digits, `_` and `-` only (channels, operations, a channel's
    messages): the dots of a name become dashes."""
    return name.replace(".", "-")


def _channel_id(topic: str) -> str:
    return _local_id(topic.removeprefix("anxin."))


def _envelope(cls: type[EventPayload]) -> dict[str, Any]:
    """The message payload: the envelope, its type, version and producer fixed, its payload the class's."""
    properties = dict(EventEnvelope.model_json_schema(mode="serialization")["properties"])
    fixed = {"type": cls.TYPE, "version": cls.VERSION, "producer": catalog.producer_of(cls)}
    for name, value in fixed.items():
        properties[name] = {**properties[name], "const": value}
    properties["payload"] = {"$ref": f"#/components/schemas/{cls.__name__}"}
    return {
        "type": "object",
        "title": f"{message_name(cls)} envelope",
        "required": sorted(properties),
        "properties": properties,
    }


def asyncapi(events: list[type[EventPayload]]) -> dict[str, Any]:
    _, definitions = models_json_schema(
        [(cls, "serialization") for cls in events], ref_template="#/components/schemas/{model}"
    )
    schemas: dict[str, Any] = {"EventHeaders": HEADERS, **definitions["$defs"]}
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    for cls in events:
        name, topic, producer = message_name(cls), cls.TOPIC, catalog.producer_of(cls)
        if cls.__name__ not in definitions["$defs"]:
            raise ValueError(f"{cls.__qualname__}: two event classes of this name; give one another name")
        messages[name] = {
            "name": name,
            "title": cls.__name__,
            "description": " ".join((cls.__doc__ or "").split()),
            "contentType": "application/json",
            "headers": {"$ref": "#/components/schemas/EventHeaders"},
            "payload": _envelope(cls),
            "bindings": {
                "kafka": {
                    "key": {"type": "string", "description": "The envelope's subject."},
                    "bindingVersion": "0.5.0",
                }
            },
        }
        channel = channels.setdefault(
            _channel_id(topic), {"address": topic, "description": TOPIC_DESCRIPTIONS[topic], "messages": {}}
        )
        channel["messages"][_local_id(name)] = {"$ref": f"#/components/messages/{name}"}
        operation = operations.setdefault(
            f"{producer}-sends-{_channel_id(topic)}",
            {
                "action": "send",
                "channel": {"$ref": f"#/channels/{_channel_id(topic)}"},
                "summary": f"The {producer} service publishes on {topic}.",
                "messages": [],
            },
        )
        operation["messages"].append({"$ref": f"#/channels/{_channel_id(topic)}/messages/{_local_id(name)}"})
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Anxin events", "version": "1.0.0", "description": INFO_DESCRIPTION},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas, "messages": messages},
    }


def payload_schema(cls: type[EventPayload]) -> dict[str, Any]:
    return {"$schema": JSON_SCHEMA_DIALECT, **cls.model_json_schema(mode="serialization")}


def expected_files() -> dict[Path, str]:
    """Every file of the published contract (paths relative to the repository) with its content."""
    events = catalog.events()
    files = {ASYNCAPI: yaml.safe_dump(asyncapi(events), sort_keys=True, allow_unicode=True, width=120)}
    for cls in events:
        files[SCHEMAS / f"{message_name(cls)}.json"] = (
            json.dumps(payload_schema(cls), indent=2, sort_keys=True, ensure_ascii=False) + "\n"
        )
    return files


FILES = GeneratedFiles(expected_files, SCHEMAS, "*.json", "no event has it", "make contracts` and commit `docs/events/")
differences, write = FILES.differences, FILES.write


def main(argv: list[str] | None = None) -> int:
    return FILES.main(
        argv,
        __doc__.splitlines()[0] if __doc__ else None,
        lambda written: f"wrote {ASYNCAPI} and {len(written) - 1} schemas in {SCHEMAS}/",
    )


if __name__ == "__main__":
    raise SystemExit(main())
