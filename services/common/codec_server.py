"""The remote codec server for the Temporal Web UI: decrypts payloads for an authorised operator.

The Web UI posts encoded payloads to `/decode` (and `/encode`) following Temporal's remote-codec protocol;
this server opens them with the same keys as the workers. Every decode is logged with who asked (never
what was decoded). An operator token is required, except from loopback on a development stack
(`ANXIN_CODEC_ALLOW_LOOPBACK=1`, which `make run` sets), where the UI runs without sign-in.

Run as `python -m services.common.codec_server`; the launcher starts it and points the UI at it.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from pydantic import Field
from temporalio.api.common.v1 import Payload

from services.common.auth import Role, bearer_principal
from services.common.logs import configure_logging
from services.common.problems import Problem, install_problem_handlers
from services.common.runner import serve
from services.common.settings import CommonSettings
from services.common.temporal import EncryptionCodec
from services.common.token_keys import AUDIENCES

log = logging.getLogger(__name__)


class CodecSettings(CommonSettings):
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    http_port: int = Field(8299, alias="ANXIN_HTTP_PORT")
    ui_origin: str = Field("http://127.0.0.1:8233", alias="ANXIN_TEMPORAL_UI_ORIGIN")
    allow_loopback: bool = Field(False, alias="ANXIN_CODEC_ALLOW_LOOPBACK")


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
            {"metadata": {k: base64.b64encode(v).decode() for k, v in p.metadata.items()},
             "data": base64.b64encode(p.data).decode()}
            for p in payloads
        ]
    }


def create_app(settings: CodecSettings) -> FastAPI:
    codec = EncryptionCodec(settings.cipher())
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

    def authorise(request: Request) -> str:
        principal = bearer_principal(request)
        if principal is not None:
            if principal.role != Role.operator:
                raise Problem(403, "Forbidden", "Only operators may decode workflow payloads.")
            return principal.client_id
        host = request.client.host if request.client else ""
        if settings.allow_loopback and host in ("127.0.0.1", "::1"):
            return "loopback-development"
        raise Problem(401, "Unauthorized", "An operator token is required to decode payloads.")

    @app.post("/decode")
    async def decode(request: Request) -> dict[str, Any]:
        who = authorise(request)
        payloads = _payloads(await request.json())
        log.info("payloads decoded for the web UI", extra={"operator": who, "count": len(payloads),
                                                           "namespace": request.headers.get("x-namespace")})
        return _json(await codec.decode(payloads))

    @app.post("/encode")
    async def encode(request: Request) -> dict[str, Any]:
        authorise(request)
        return _json(await codec.encode(_payloads(await request.json())))

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
