"""The relay's span for each event it publishes belongs to the event's own trace (services/common/relay.py), so
a complaint's trace shows when its event left the outbox, and it leaves no context behind."""

from __future__ import annotations

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.common import relay
from services.common.telemetry import current_trace_context


@pytest.fixture
def spans(monkeypatch: pytest.MonkeyPatch) -> tuple[TracerProvider, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    monkeypatch.setattr(relay, "tracer", provider.get_tracer)
    return provider, exporter


def test_the_publish_span_is_a_child_of_the_span_that_wrote_the_event(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    provider, exporter = spans
    with provider.get_tracer("test").start_as_current_span("POST /v1/complaints") as request:
        carrier = current_trace_context()
    envelope = {"type": "complaint.submitted", "trace": carrier, "subject": "TS-1", "event_id": "e-1"}

    exporter.clear()

    relay._publish_span(envelope, "intake.complaints")

    (published,) = exporter.get_finished_spans()
    assert published.name == "publish complaint.submitted"
    assert published.kind == trace.SpanKind.PRODUCER
    assert published.context.trace_id == request.get_span_context().trace_id
    assert published.parent is not None and published.parent.span_id == request.get_span_context().span_id
    assert published.attributes == {
        "messaging.system": "kafka",
        "messaging.destination.name": "intake.complaints",
        "anxin.subject": "TS-1",
        "anxin.event_id": "e-1",
    }
    assert not trace.get_current_span().get_span_context().is_valid  # nothing left current


def test_an_event_written_outside_any_trace_gets_a_trace_of_its_own(
    spans: tuple[TracerProvider, InMemorySpanExporter],
) -> None:
    _provider, exporter = spans
    relay._publish_span({"type": "case.opened", "subject": "C-1", "event_id": "e-2"}, "cases.events")
    (published,) = exporter.get_finished_spans()
    assert published.parent is None and published.context.is_valid
