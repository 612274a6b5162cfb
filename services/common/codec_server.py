"""The remote codec server for the Temporal Web UI: decrypts payloads for an authorised caller.

The Web UI posts encoded payloads to `<endpoint>/decode` (and `/encode`) following Temporal's remote-codec
protocol; this server opens them with the same keys as the workers. Every decode is logged with who asked
(never what was decoded). Two ways in, nothing else:

- an operator's bearer token on `/decode` (a UI behind sign-in that passes the operator's token, `anxin`);
- the installation's path secret (`ANXIN_CODEC_PATH_TOKEN`) as the endpoint's first path segment,
  `http://127.0.0.1:8299/<secret>/decode`: the UI without sign-in cannot send a header of its own, so its
  codec endpoint carries the capability in its URL. Anyone who can read the UI's settings can read it too:
  it is exactly as protected as the UI.

Every request but the health checks must name one of the configured hosts (`ANXIN_CODEC_ALLOWED_HOSTS`,
by default 127.0.0.1 and localhost on this port), else 421: a page elsewhere that rebinds its own name to
127.0.0.1 (DNS rebinding) reaches this port with its own name as the Host, and is refused.

Run as `python -m services.common.codec_server`; the launcher starts it and points the UI at it.
"""

from __future__ import annotations

import base64
import hmac
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.middleware.cors import CORSMiddleware
from pydantic import Field, model_validator
from temporalio.api.common.v1 import Payload

from services.common.auth import Role, bearer_principal
from services.common.data_keys import KeyPurpose
from services.common.logs import configure_logging
from services.common.problems import Problem, install_problem_handlers, problem_response
from services.common.runner import serve
from services.common.settings import CommonSettings
from services.common.temporal import EncryptionCodec
from services.common.token_keys import AUDIENCES

log = logging.getLogger(__name__)


class CodecSettings(CommonSettings):
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    http_port: int = Field(8299, alias="ANXIN_HTTP_PORT")
    ui_origin: str = Field("http://127.0.0.1:8233", alias="ANXIN_TEMPORAL_UI_ORIGIN")
    # The UI's capability: the endpoint's first path segment. Unset: only operator tokens are accepted.
    path_token: str | None = Field(None, alias="ANXIN_CODEC_PATH_TOKEN", repr=False, min_length=32)
    # Comma-separated Host values accepted (`name` or `name:port`); unset: 127.0.0.1 and localhost on http_port.
    allowed_hosts: str | None = Field(None, alias="ANXIN_CODEC_ALLOWED_HOSTS")
    # Gone: loopback is no authorisation (any local process, or a rebound page, is loopback). Kept only to
    # refuse a deployment that still sets it, rather than ignore it silently.
    allow_loopback: bool = Field(False, alias="ANXIN_CODEC_ALLOW_LOOPBACK")

    @model_validator(mode="after")
    def _no_loopback_exemption(self) -> CodecSettings:
        if self.allow_loopback:
            raise ValueError(
                "ANXIN_CODEC_ALLOW_LOOPBACK is no longer supported: give the UI the endpoint "
                "with the path secret (ANXIN_CODEC_PATH_TOKEN), or pass the operator's token"
            )
        return self

    def hosts(self) -> set[str]:
        if self.allowed_hosts:
            return {h.strip().lower() for h in self.allowed_hosts.split(",") if h.strip()}
        return {f"127.0.0.1:{self.http_port}", f"localhost:{self.http_port}"}


def host_allowed(host: str, allowed: set[str]) -> bool:
    """`host` (the Host header) is one of `allowed`: exactly, or by its name when the entry names no port."""
    host = host.strip().lower()
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return bool(host) and (host in allowed or name in allowed)


def _payloads(body: dict[str, Any]) -> list[Payload]:
    return [
        Payload(
            metadata={k: base64.b64decode(v) for k, v in (p.get("metadata") or {}).items()},
            data=base64.b64decode(p.get("data") or ""),
        )
        for p in body.get("payloads", [])
    ]


def _json(payloads: list[Payload]) -> dict[str, Any]:
    return {
        "payloads": [
            {
                "metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
                "data": base64.b64encode(p.data).decode(),
            }
            for p in payloads
        ]
    }


def create_app(settings: CodecSettings) -> FastAPI:
    # Payloads never sealed (none should be) are shown as stored: refusing them here would hide the whole
    # batch from the page and protect nothing, since they are already readable in Temporal.
    codec = EncryptionCodec(settings.cipher(KeyPurpose.PAYLOAD), pass_unsealed=True)
    app = FastAPI(title="Anxin codec server", docs_url=None, redoc_url=None)
    # An operator tool, not a service: a token for any of the services will do (the role is checked below).
    app.state.token_verifier = settings.token_verifier(AUDIENCES)
    install_problem_handlers(app)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=[settings.ui_origin],
        allow_credentials=True,
        allow_methods=["POST"],
        allow_headers=["Authorization", "Content-Type", "X-Namespace"],
    )

    allowed_hosts = settings.hosts()

    @app.middleware("http")
    async def check_host(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        # The health checks answer any Host: the kubelet's probes name the pod's address, and they tell nothing.
        if request.url.path not in ("/healthz", "/readyz") and not host_allowed(
            request.headers.get("host", ""), allowed_hosts
        ):
            return problem_response(
                Problem(421, "Misdirected Request", "This codec server does not answer for that host name."), request
            )
        return await call_next(request)

    def authorise(request: Request, capability: str | None = None) -> str:
        if capability is not None:
            token = settings.path_token
            if token and hmac.compare_digest(capability.encode(), token.encode()):
                return "ui-path-secret"
            raise Problem(401, "Unauthorized", "This is not the codec endpoint of this installation.")
        principal = bearer_principal(request)
        if principal is None:
            raise Problem(
                401,
                "Unauthorized",
                "An operator token is required to decode payloads.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        if principal.role != Role.operator:
            raise Problem(403, "Forbidden", "Only operators may decode workflow payloads.")
        return principal.client_id

    async def decode(request: Request, who: str) -> dict[str, Any]:
        payloads = _payloads(await request.json())
        log.info(
            "payloads decoded for the web UI",
            extra={"operator": who, "count": len(payloads), "namespace": request.headers.get("x-namespace")},
        )
        return _json(await codec.decode(payloads))

    async def encode(request: Request) -> dict[str, Any]:
        return _json(await codec.encode(_payloads(await request.json())))

    @app.post("/decode")
    async def decode_for_operator(request: Request) -> dict[str, Any]:
        return await decode(request, authorise(request))

    @app.post("/encode")
    async def encode_for_operator(request: Request) -> dict[str, Any]:
        authorise(request)
        return await encode(request)

    @app.post("/{capability}/decode")
    async def decode_for_ui(request: Request, capability: str) -> dict[str, Any]:
        return await decode(request, authorise(request, capability))

    @app.post("/{capability}/encode")
    async def encode_for_ui(request: Request, capability: str) -> dict[str, Any]:
        authorise(request, capability)
        return await encode(request)

    @app.get("/healthz")
    @app.get("/readyz")
    async def health() -> dict[str, str]:
        return {"status": "ok", "service": "codec-server"}

    return app


def main() -> None:
    settings = CodecSettings()
    configure_logging("codec-server", settings.log_level)
    serve(create_app(settings), host=settings.http_host, port=settings.http_port)


if __name__ == "__main__":
    main()
