"""Agency authentication: OAuth2 client credentials → short-lived signed tokens carrying role and scope.

Machine clients (a county inspector's console, a department's system, the police's case system…) are
registered in a clients file with their secret stored as a scrypt hash, their role, and their county or
department. `POST /oauth/token` exchanges client credentials for a JWT (HS256, signed with the
configured key) that every service verifies locally; routes declare which roles may call them, and
county/department scoping is checked against the resource.

Workers never get tokens: they prove who they are for one complaint with its tracking code.

The project's own processes are clients too: the lifecycle worker holds the `lifecycle` role, the only one
that may ask a service to issue an order, a letter, a referral or a listing (`LIFECYCLE_CALLER`); it gets
its tokens by the same flow (`ClientCredentials`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import httpx
import jwt
from fastapi import APIRouter, Depends, Form, Request
from fastapi.routing import APIRoute
from fastapi.security import HTTPBasic, HTTPBasicCredentials
from pydantic import BaseModel

from services.common.problems import Problem

ISSUER = "anxin"
ALGORITHM = "HS256"


class Role(StrEnum):
    intake_clerk = "intake_clerk"
    county_inspector = "county_inspector"
    city_office = "city_office"
    # The head of a county bureau (正职负责人): approves or refuses its criminal referrals.
    bureau_head = "bureau_head"
    department = "department"
    police = "police"
    procuratorate = "procuratorate"
    court = "court"
    arbitration = "arbitration"
    legal_aid = "legal_aid"
    credit_system = "credit_system"
    operator = "operator"
    # The lifecycle worker: makes the process's own requests to the services (orders, letters, referrals,
    # listings) and nothing else. No person holds it.
    lifecycle = "lifecycle"


# Roles that belong to one county's bureau: without a county they may see nothing.
COUNTY_SCOPED_ROLES = frozenset({Role.intake_clerk, Role.county_inspector, Role.bureau_head})


@dataclass(frozen=True)
class Principal:
    client_id: str
    role: Role
    county: str | None = None
    department: str | None = None

    def may_see_county(self, county: str) -> bool:
        """County inspectors, clerks and bureau heads act in their county only; the city office and operators
        everywhere. A county-scoped client registered without its county sees no county (it fails closed);
        the agencies outside the county bureaus (departments, police, courts …) are scoped by what they are
        sent, not by county."""
        if self.role in (Role.city_office, Role.operator):
            return True
        if self.role in COUNTY_SCOPED_ROLES:
            return self.county is not None and self.county == county
        return self.county is None or self.county == county


@dataclass(frozen=True)
class RegisteredClient:
    client_id: str
    secret_hash: str
    role: Role
    county: str | None = None
    department: str | None = None

    def principal(self) -> Principal:
        return Principal(self.client_id, self.role, self.county, self.department)


def hash_secret(secret: str, *, salt: bytes | None = None) -> str:
    salt = salt or os.urandom(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    expected = hash_secret(secret, salt=base64.b64decode(salt_b64)).split("$")[2]
    return hmac.compare_digest(expected, digest_b64)


class ClientRegistry:
    def __init__(self, clients: list[RegisteredClient]) -> None:
        self._clients = {c.client_id: c for c in clients}

    @classmethod
    def from_file(cls, path: Path) -> ClientRegistry:
        rows = json.loads(path.read_text())
        return cls(
            [
                RegisteredClient(
                    client_id=r["client_id"],
                    secret_hash=r["secret_hash"],
                    role=Role(r["role"]),
                    county=r.get("county"),
                    department=r.get("department"),
                )
                for r in rows
            ]
        )

    def authenticate(self, client_id: str, secret: str) -> RegisteredClient | None:
        client = self._clients.get(client_id)
        if client is None:
            # Spend the same time as a real check, so unknown ids cannot be told apart by timing.
            verify_secret(secret, hash_secret("x"))
            return None
        return client if verify_secret(secret, client.secret_hash) else None


class TokenIssuer:
    def __init__(self, signing_key: bytes, ttl_seconds: int = 3600) -> None:
        if len(signing_key) < 32:
            raise ValueError("the token signing key must be at least 32 bytes")
        self._key = signing_key
        self.ttl_seconds = ttl_seconds

    def issue(self, principal: Principal, *, now: float | None = None) -> str:
        issued = int(now if now is not None else time.time())
        claims: dict[str, Any] = {
            "iss": ISSUER,
            "sub": principal.client_id,
            "role": principal.role.value,
            "iat": issued,
            "exp": issued + self.ttl_seconds,
        }
        if principal.county:
            claims["county"] = principal.county
        if principal.department:
            claims["department"] = principal.department
        return jwt.encode(claims, self._key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Principal:
        claims = jwt.decode(
            token, self._key, algorithms=[ALGORITHM], issuer=ISSUER, options={"require": ["exp", "iat", "sub"]}
        )
        return Principal(
            client_id=claims["sub"],
            role=Role(claims["role"]),
            county=claims.get("county"),
            department=claims.get("department"),
        )


class TokenResponse(BaseModel):
    access_token: str
    token_type: str = "Bearer"
    expires_in: int
    role: str


# Module level: route signatures are resolved by name, and a closure's local would not be found.
_basic = HTTPBasic(auto_error=False)


def _unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="anxin"'})


def token_router(registry: ClientRegistry, issuer: TokenIssuer) -> APIRouter:
    router = APIRouter(tags=["auth"])

    @router.post(
        "/oauth/token",
        response_model=TokenResponse,
        summary="OAuth2 client credentials: exchange a client id and secret for an access token",
    )
    async def token(
        credentials: Annotated[HTTPBasicCredentials | None, Depends(_basic)],
        grant_type: Annotated[str, Form(examples=["client_credentials"])],
        client_id: Annotated[str | None, Form()] = None,
        client_secret: Annotated[str | None, Form()] = None,
    ) -> TokenResponse:
        if grant_type != "client_credentials":
            raise Problem(400, "Unsupported grant type", "Only grant_type=client_credentials is supported.")
        if credentials is not None:
            client_id, client_secret = credentials.username, credentials.password
        if not client_id or not client_secret:
            raise _unauthorized("Client credentials are required (HTTP Basic or form fields).")
        client = registry.authenticate(client_id, client_secret)
        if client is None:
            raise _unauthorized("Unknown client or wrong secret.")
        return TokenResponse(
            access_token=issuer.issue(client.principal()), expires_in=issuer.ttl_seconds, role=client.role.value
        )

    return router


def bearer_principal(request: Request) -> Principal | None:
    """The caller's principal if it sent a valid bearer token, None if it sent none; 401 if invalid."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise _unauthorized("Use `Authorization: Bearer <token>`.")
    issuer: TokenIssuer = request.app.state.token_issuer
    try:
        return issuer.verify(token.strip())
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The access token has expired; request a new one.") from None
    except (jwt.InvalidTokenError, ValueError):
        raise _unauthorized("The access token is not valid.") from None


def require_roles(*roles: Role) -> Any:
    """A dependency: a valid token of one of `roles`, else 401 (no or bad token) or 403 (wrong role)."""

    def dependency(principal: Annotated[Principal | None, Depends(bearer_principal)]) -> Principal:
        if principal is None:
            raise _unauthorized("This endpoint needs an agency access token.")
        if principal.role not in roles:
            raise Problem(403, "Forbidden", f"The role {principal.role.value} may not do this.")
        return principal

    # Read by `allowed_roles` below.
    dependency.allowed_roles = frozenset(roles)  # type: ignore[attr-defined]
    return Depends(dependency)


def allowed_roles(route: APIRoute) -> frozenset[Role] | None:
    """The roles a route's `require_roles` guard admits, however deep among its dependencies; None when it
    has no such guard. The authorisation test matrix and `make fuzz` read every route's roles from here."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        roles = getattr(dependency.call, "allowed_roles", None)
        if roles is not None:
            return frozenset(roles)
        stack.extend(dependency.dependencies)
    return None


# The services' lifecycle endpoints (orders, letters, referrals, listings …) answer the lifecycle worker only.
LIFECYCLE_CALLER = require_roles(Role.lifecycle)


class ClientCredentials(httpx.Auth):
    """httpx authentication for one of the project's own processes calling a service: a token from the
    service's `/oauth/token` by client credentials, reused until shortly before it expires, and fetched anew
    once if the service answers 401 (a rotated signing key, a clock step)."""

    requires_response_body = True

    def __init__(self, token_url: str, client_id: str, client_secret: str, *, margin_seconds: float = 60) -> None:
        self._token_url = token_url
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._margin = margin_seconds
        self._token: str | None = None
        self._renew_at = 0.0

    def _token_request(self) -> httpx.Request:
        request = httpx.Request("POST", self._token_url, data={"grant_type": "client_credentials"})
        return next(self._basic.auth_flow(request))

    def _keep(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            # Raised inside the activity, which is retried with backoff until the credentials are fixed.
            raise httpx.HTTPStatusError(
                f"token request to {self._token_url} answered {response.status_code}: {response.text[:200]}",
                request=response.request, response=response,
            )
        body = response.json()
        self._token = body["access_token"]
        self._renew_at = time.monotonic() + max(0.0, float(body["expires_in"]) - self._margin)

    def auth_flow(self, request: httpx.Request) -> Any:
        if self._token is None or time.monotonic() >= self._renew_at:
            self._keep((yield self._token_request()))
        request.headers["Authorization"] = f"Bearer {self._token}"
        response = yield request
        if response.status_code == 401:
            self._keep((yield self._token_request()))
            request.headers["Authorization"] = f"Bearer {self._token}"
            yield request
