"""The traces' JSON lines (services/common/telemetry.py) hold what the OpenTelemetry SDK's own `to_json()` holds,
field for field, though the exporter builds them itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.util import ns_to_iso_str

from services.common.telemetry import JsonLinesSpanExporter


def test_a_span_line_holds_the_fields_of_the_sdk_json(tmp_path: Path) -> None:
    tracer = TracerProvider(resource=Resource.create({"service.name": "intake-api"})).get_tracer("test")
    # Nested: the inner span links to the outer one.
    with tracer.start_as_current_span("POST /v1/complaints", kind=trace.SpanKind.SERVER) as server:  # noqa: SIM117
        with tracer.start_as_current_span(
            "INSERT",
            kind=trace.SpanKind.CLIENT,
            attributes={"db.statement": "INSERT INTO complaints …", "db.rows": (1, 2)},
            links=[trace.Link(server.get_span_context(), {"why": "test"})],
        ) as statement:
            statement.add_event("retried", {"attempt": 2})
            statement.set_status(trace.Status(trace.StatusCode.ERROR, "unique violation"))
    exporter = JsonLinesSpanExporter(tmp_path / "traces" / "intake-api.jsonl")
    exporter.export([statement, server])
    lines = [json.loads(line) for line in (tmp_path / "traces" / "intake-api.jsonl").read_text().splitlines()]
    assert lines == [json.loads(statement.to_json()), json.loads(server.to_json())]
    assert "INSERT INTO complaints …" in (tmp_path / "traces" / "intake-api.jsonl").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "nanoseconds",
    [
        1_764_755_000_000_000_000,  # a whole second
        1_764_755_000_123_456_789,
        1_764_755_000_999_999_600,  # rounds up into the next second
        1_764_755_059_999_999_999,  # and the next minute
        1_764_755_001_000_000_499,
        1_764_755_001_000_000_500,
    ],
)
def test_a_span_time_reads_as_the_sdk_writes_it(tmp_path: Path, nanoseconds: int) -> None:
    exporter = JsonLinesSpanExporter(tmp_path / "traces" / "intake-api.jsonl")
    # Twice: the second time the second's text comes from the exporter's cache.
    assert exporter._iso_time(nanoseconds) == ns_to_iso_str(nanoseconds)
    assert exporter._iso_time(nanoseconds) == ns_to_iso_str(nanoseconds)
