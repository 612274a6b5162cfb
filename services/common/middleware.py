"""HTTP hardening shared by the services: request size limits, NUL characters refused, security headers,
and no caching of answers unless a route says otherwise."""

from __future__ import annotations

import json
import re
from pathlib import Path

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.common.problem_types import install_problem_types
from services.common.problems import PROBLEM_BASE, PROBLEM_JSON, status_type_name
from services.common.telemetry import configure_tracing, instrument_app


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    """Answer with a problem document from a middleware, before any route has run."""
    body = json.dumps(
        {"type": f"{PROBLEM_BASE}{status_type_name(status)}", "title": title, "status": status, "detail": detail},
        ensure_ascii=False,
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuses a request body over `max_bytes` with 413, whether or not Content-Length was sent."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(send)
            return
        received = 0
        response_started = False

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise _TooLarge
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal response_started
            if message["type"] == "http.response.start":
                response_started = True
            await send(message)

        try:
            await self.app(scope, limited_receive, tracking_send)
        except _TooLarge:
            if not response_started:
                await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        await _send_problem(send, 413, "Request too large", f"The request body may be at most {self.max_bytes} bytes.")


class _TooLarge(Exception):
    pass


# A JSON string escape for U+0000 that is not itself escaped (`\\u0000` is the text "\u0000", allowed).
_JSON_NUL = re.compile(rb"(?<!\\)(?:\\\\)*\\u0000")


class RefuseNulCharacters:
    """Refuses with 400 a request carrying a NUL character in its path, query or JSON body.

    PostgreSQL text cannot hold U+0000, so such a value would otherwise reach a query and fail there as a
    server error (found by `make fuzz`); no field of any service has a use for it. JSON bodies are small
    (`BodySizeLimit` runs first), so they are read whole, checked and handed on unchanged.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _refuse_nul(send)
            return
        content_type = dict(scope.get("headers") or []).get(b"content-type", b"").split(b";")[0].strip().lower()
        if not (content_type == b"application/json" or content_type.endswith(b"+json")):
            await self.app(scope, receive, send)
            return
        messages: list[Message] = []
        while True:
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
        if _JSON_NUL.search(body):
            await _refuse_nul(send)
            return

        async def replay() -> Message:
            return messages.pop(0) if messages else await receive()

        await self.app(scope, replay, send)


async def _refuse_nul(send: Send) -> None:
    await _send_problem(
        send,
        400,
        "NUL character in the request",
        "A NUL character (U+0000) is not allowed in a path, query or field value.",
    )


SECURITY_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]
# Pages are served by the same origin with no third-party anything; inline styles are not used.
PAGE_CSP = b"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


# Answers carry personal data, tracking codes and tokens (the form's confirmation page, status look-ups,
# `/oauth/token`, an inspector's reads): no browser, proxy or shared cache may keep them. A route whose answer
# is public (a poster) sets its own Cache-Control; static assets (no data in them) are left to the browser.
NO_STORE = (b"cache-control", b"no-store")
CACHEABLE_PREFIXES = ("/static/",)


class SecurityHeaders:
    """Adds the usual protective headers to every response, a strict CSP to HTML pages, and `Cache-Control:
    no-store` to every answer that does not set its own."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        cacheable = str(scope.get("path", "")).startswith(CACHEABLE_PREFIXES)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in SECURITY_HEADERS if k not in present]
                if not cacheable and b"cache-control" not in present:
                    headers.append(NO_STORE)
                content_type = dict(headers).get(b"content-type", b"")
                if content_type.startswith(b"text/html") and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", PAGE_CSP))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_edge(app: FastAPI, process_name: str, data_dir: Path, *, max_request_bytes: int) -> None:
    """What every HTTP process of the project puts in front of its routes: traces, the problem types' pages
    (`/problems/<name>`, what its refusals' `type` names), then (the last added runs first) the size limit,
    the security headers and the NUL check — inside the size limit, so a JSON body it reads whole is already
    bounded."""
    configure_tracing(process_name, data_dir)
    instrument_app(app, process_name)
    install_problem_types(app)
    app.add_middleware(RefuseNulCharacters)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(BodySizeLimit, max_bytes=max_request_bytes)
