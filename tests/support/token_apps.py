"""Services as `create_service_app` builds them, in-process, for the token tests (tests/unit/test_auth.py and
the token attacks in tests/security): an issuer with a fresh Ed25519 key, a JWKS, an app with the token
endpoint, and the forms and clients that talk to it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from services.common.auth import ClientRegistry, InvalidToken, Principal, Role
from services.common.problems import install_problem_handlers
from services.common.token_endpoint import TokenEndpoint, TokenEndpointLimits, token_router
from services.common.token_keys import TokenIssuer, TokenVerifier, new_signing_jwk


def new_issuer(ttl_seconds: int = 600) -> TokenIssuer:
    return TokenIssuer(new_signing_jwk(), ttl_seconds=ttl_seconds)


def jwks(*issuers: TokenIssuer) -> dict[str, Any]:
    return {"keys": [issuer.public_jwk for issuer in issuers]}


def service_app(
    issuer: TokenIssuer | None,
    registry: ClientRegistry,
    *,
    audience: str = "cases",
    published: list[TokenIssuer] | None = None,
    limits: TokenEndpointLimits | None = None,
    issuer_url: str | None = None,
) -> FastAPI:
    """A service as `create_service_app` builds it: verifying with the JWKS for its audience, issuing if given
    the signing key."""
    keys = published if published is not None else [issuer] if issuer is not None else []
    verifier = TokenVerifier(jwks(*keys), [audience])
    app = FastAPI()
    app.state.token_verifier = verifier
    install_problem_handlers(app)
    endpoint = TokenEndpoint(verifier, issuer, registry, limits or TokenEndpointLimits(), issuer_url)
    app.state.token_endpoint = endpoint
    app.include_router(token_router(endpoint))
    return app


def principal(role: Role = Role.city_office) -> Principal:
    return Principal("someone", role)


def refused(verifier: TokenVerifier, token: str) -> bool:
    try:
        verifier.verify(token)
    except InvalidToken:
        return True
    return False


def token_form(client_id: str, secret: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra}


def asgi_client(app: FastAPI, address: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://svc.test"
    )
