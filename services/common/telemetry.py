"""Tracing and metrics for every process.

Tracing (OpenTelemetry): one trace follows a complaint from the HTTP request through the outbox (the
W3C trace context is stored in the event envelope), the relay (copied into Kafka headers), the consumers
and Temporal (the SDK's tracing interceptor on clients and workers). By default spans are written as JSON
lines to `<data dir>/traces/<process>.jsonl`, readable with no extra server (`anxin trace <trace id>`
gathers one trace from all files); set `OTEL_EXPORTER_OTLP_ENDPOINT` to send them to a collector instead.
Every statement sent to PostgreSQL through psycopg is a client span (OpenTelemetry's psycopg
instrumentation) inside the request, consumer or activity that ran it; the span holds the statement's text,
never its parameters (they carry sealed columns and people's numbers).

Metrics (Prometheus): every process serves `/metrics`; HTTP requests and latencies are counted here,
the relay and consumers add their own gauges.
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Response
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

_configured = threading.Lock()
_provider: TracerProvider | None = None


class JsonLinesSpanExporter(SpanExporter):
    """Writes each finished span as one JSON line to a file (append-only, one file per process)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._lock = threading.Lock()
        self._resource: tuple[Resource, str] | None = None  # the resource and its JSON text
        self._second: tuple[int, str] = (-1, "")  # a second since the epoch and its text, for `_iso_time`

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        lines = [self._line(span) for span in spans]
        with self._lock, open(self._path, "a", encoding="utf-8") as out:
            out.write("\n".join(lines) + "\n")
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None

    def _line(self, span: ReadableSpan) -> str:
        """The fields of `ReadableSpan.to_json()` on one line, built here: that method encodes the process's
        resource (the same for every span) with indentation, which takes json's pure-Python encoder, and then
        the span itself; in a busy API this thread's encoding held the interpreter for a fifth of the samples.
        The resource is encoded once and appended to each span's text, and the times are formatted from a
        cached second (a filing writes eight spans, so this thread's share is per statement)."""
        if self._resource is None or self._resource[0] is not span.resource:
            self._resource = (
                span.resource,
                json.dumps(json.loads(span.resource.to_json(indent=None)), ensure_ascii=False),
            )
        status: dict[str, Any] = {"status_code": span.status.status_code.name}
        if span.status.description:
            status["description"] = span.status.description
        fields = {
            "name": span.name,
            "context": _span_context(span.context) if span.context else None,
            "kind": str(span.kind),
            "parent_id": f"0x{trace.format_span_id(span.parent.span_id)}" if span.parent is not None else None,
            "start_time": self._iso_time(span.start_time) if span.start_time else None,
            "end_time": self._iso_time(span.end_time) if span.end_time else None,
            "status": status,
            "attributes": dict(span.attributes) if span.attributes is not None else None,
            "events": [
                {
                    "name": event.name,
                    "timestamp": self._iso_time(event.timestamp),
                    "attributes": dict(event.attributes) if event.attributes is not None else None,
                }
                for event in span.events
            ],
            "links": [
                {
                    "context": _span_context(link.context),
                    "attributes": dict(link.attributes) if link.attributes is not None else None,
                }
                for link in span.links
            ],
        }
        text = json.dumps(fields, ensure_ascii=False)
        return f'{text[:-1]}, "resource": {self._resource[1]}}}'

    def _iso_time(self, nanoseconds: int) -> str:
        """`ns_to_iso_str`'s text, to the same microsecond (the float second rounded half to even, as
        `datetime.fromtimestamp` rounds it), with the date and time of day formatted once a second: a new
        datetime and its `strftime` for every time of every span was a third of this exporter's work."""
        fraction, whole = math.modf(nanoseconds / 1e9)
        second, microsecond = int(whole), round(fraction * 1e6)
        if microsecond >= 1_000_000:
            second, microsecond = second + 1, microsecond - 1_000_000
        if self._second[0] != second:
            self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)))
        return f"{self._second[1]}.{microsecond:06d}Z"


def _span_context(context: trace.SpanContext) -> dict[str, str]:
    return {
        "trace_id": f"0x{trace.format_trace_id(context.trace_id)}",
        "span_id": f"0x{trace.format_span_id(context.span_id)}",
        "trace_state": repr(context.trace_state),
    }


def configure_tracing(process_name: str, data_dir: Path) -> TracerProvider:
    """Install the process's tracer provider once; later calls return the same one."""
    global _provider
    with _configured:
        if _provider is not None:
            return _provider
        provider = TracerProvider(
            resource=Resource.create({"service.name": process_name, "service.namespace": "anxin"})
        )
        if os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter: SpanExporter = OTLPSpanExporter()
        else:
            exporter = JsonLinesSpanExporter(data_dir / "traces" / f"{process_name}.jsonl")
        provider.add_span_processor(WithoutLoneDatabaseSpans(BatchSpanProcessor(exporter, schedule_delay_millis=500)))
        trace.set_tracer_provider(provider)
        # Calls to other services (activities → cases, referrals, sanctions) carry the trace context on.
        from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

        HTTPXClientInstrumentor().instrument()
        instrument_database()
        _provider = provider
        return provider


DATABASE_SCOPE = "opentelemetry.instrumentation.psycopg"


def instrument_database() -> None:
    """A client span for each statement of every psycopg connection opened from now on (pools included).

    The statement's text only: `capture_parameters` would copy the values (sealed columns, ID numbers,
    phone numbers) into the span, and the SQL commenter would change the statements."""
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor

    instrumentor = PsycopgInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(capture_parameters=False, enable_commenter=False)


class WithoutLoneDatabaseSpans(SpanProcessor):
    """Passes every span on to `inner` except a database span that is the root of its trace: the relays'
    polling, the readiness checks and the metrics' scrapes run statements outside any request and would
    write a trace of one span per statement, several a second, that tells nothing."""

    def __init__(self, inner: SpanProcessor) -> None:
        self._inner = inner

    @staticmethod
    def _lone_database_span(span: ReadableSpan) -> bool:
        scope = span.instrumentation_scope
        return span.parent is None and scope is not None and scope.name == DATABASE_SCOPE

    def on_start(self, span: Span, parent_context: otel_context.Context | None = None) -> None:
        if not self._lone_database_span(span):
            self._inner.on_start(span, parent_context)

    def on_end(self, span: ReadableSpan) -> None:
        if not self._lone_database_span(span):
            self._inner.on_end(span)

    def shutdown(self) -> None:
        self._inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self._inner.force_flush(timeout_millis)


def flush_traces() -> None:
    if _provider is not None:
        _provider.force_flush(5000)


@functools.cache
def tracer(name: str) -> trace.Tracer:
    # Kept per name: the relay and the inboxes ask for it once per event, and `get_tracer` builds a new one
    # each time (a tenth of the relay's CPU under `make bench`). One taken before `configure_tracing` is a
    # proxy that follows the provider installed later.
    return trace.get_tracer(name)


def current_trace_context() -> dict[str, str]:
    """The W3C trace context of the current span, to carry in an event envelope or message headers."""
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    return carrier


def trace_context(carrier: dict[str, str]) -> otel_context.Context:
    """The context of `carrier`'s trace, to start a span in it without making it the current one."""
    return propagate.extract(carrier)


def attach_trace_context(carrier: dict[str, str]) -> object:
    """Make `carrier`'s trace the current one; pass the token to `detach_trace_context`."""
    return otel_context.attach(trace_context(carrier))


def detach_trace_context(token: object) -> None:
    otel_context.detach(token)  # type: ignore[arg-type]


def temporal_interceptors() -> list[Any]:
    """The Temporal tracing interceptor, for clients and workers (spans for starts, workflows, activities)."""
    from temporalio.contrib.opentelemetry import TracingInterceptor

    return [TracingInterceptor()]


# -- metrics ----------------------------------------------------------------------------------------

HTTP_REQUESTS = Counter("anxin_http_requests_total", "HTTP requests served", ["process", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "anxin_http_request_seconds",
    "HTTP request latency",
    ["process", "method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def metrics_router() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics", summary="Prometheus metrics of this process", include_in_schema=False)
    def metrics() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return router


UNCOUNTED_ROUTES = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestMetrics:
    """Counts and times every request by its route template. Plain ASGI: `@app.middleware("http")` would run
    each request through `BaseHTTPMiddleware`, an extra task and a streamed copy of every response."""

    def __init__(self, app: ASGIApp, process_name: str) -> None:
        self.app = app
        self.process_name = process_name

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before answering

        async def noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        finally:
            # The router writes the matched route into the request's scope.
            template = getattr(scope.get("route"), "path", "unmatched")
            if template not in UNCOUNTED_ROUTES:
                HTTP_REQUESTS.labels(self.process_name, scope["method"], template, str(status)).inc()
                HTTP_LATENCY.labels(self.process_name, scope["method"], template).observe(time.perf_counter() - started)


def instrument_app(app: FastAPI, process_name: str) -> None:
    """Server spans for every request (OpenTelemetry's FastAPI instrumentation) and request metrics."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    # No spans of their own for the ASGI messages (`http receive`, `http send`): three spans a request that
    # tell nothing the server span does not, and each is encoded and written like the rest.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics", exclude_spans=["receive", "send"])

    app.add_middleware(RequestMetrics, process_name=process_name)
    app.include_router(metrics_router())
