"""Agency authentication: OAuth2 client credentials → short-lived signed tokens carrying role and scope.

Machine clients (a county inspector's console, a department's system, the police's case system…) are
registered in a clients file with their secret stored as a scrypt hash, their role, and their county or
department. `POST /oauth/token` (`token_endpoint.py`) exchanges client credentials for a JWT signed by the one
issuer's Ed25519 key (`token_keys.py`) that every service verifies locally against the published JWKS; routes
declare which roles may call them, and county/department scoping is checked against the resource.

Workers never get tokens: they prove who they are for one complaint with its tracking code.

The project's own processes are clients too: the lifecycle worker holds the `lifecycle` role, the only one
that may ask a service to issue an order, a letter, a referral or a listing (`LIFECYCLE_CALLER`); it gets
its tokens by the same flow (`ClientCredentials`).
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import httpx
from fastapi import Depends, Request
from fastapi.routing import APIRoute

# Re-exported: the clients file's hashes are made and checked through this module.
from services.common.client_secrets import hash_secret as hash_secret
from services.common.client_secrets import verify_secret as verify_secret
from services.common.problems import Problem


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
    # The web console's own client: may ask the issuer for a signed-in person's token (grant_type=password)
    # and nothing else; no route admits it, and the issuer gives it no token of its own.
    console = "console"


# A person's token names them as `person:<id>` (its `sub`, so the Principal's client_id and every audit row's
# actor); no registered client may take an id of that shape.
PERSON_PREFIX = "person:"


# Roles that belong to one county's bureau: without a county they may see nothing.
COUNTY_SCOPED_ROLES = frozenset({Role.intake_clerk, Role.county_inspector, Role.bureau_head})


@dataclass(frozen=True)
class Principal:
    client_id: str
    role: Role
    county: str | None = None
    department: str | None = None

    @property
    def person_id(self) -> str | None:
        """The signed-in person this token names, None for a client's own token."""
        return self.client_id.removeprefix(PERSON_PREFIX) if self.client_id.startswith(PERSON_PREFIX) else None

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


class ClientRegistry:
    def __init__(self, clients: list[RegisteredClient]) -> None:
        borrowed = sorted(c.client_id for c in clients if c.client_id.startswith(PERSON_PREFIX))
        if borrowed:
            raise ValueError(f"client ids may not start with {PERSON_PREFIX!r} (a person's): {', '.join(borrowed)}")
        self._clients = {c.client_id: c for c in clients}
        # Checked against for an unknown id, so it costs one scrypt like a known one (no timing oracle) — made
        # once here, not per request: hashing a fresh dummy each time made an unknown id cost two.
        self._dummy_hash = hash_secret(os.urandom(16).hex())

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

    def stored_hash(self, client_id: str) -> tuple[RegisteredClient | None, str]:
        """The client and the hash its secret is checked against; an unknown id gets the dummy hash, so the check
        costs one scrypt either way (no timing oracle)."""
        client = self._clients.get(client_id)
        return client, client.secret_hash if client is not None else self._dummy_hash

    def authenticate(self, client_id: str, secret: str) -> RegisteredClient | None:
        client = self._clients.get(client_id)
        if client is None:
            # Spend the same time as a real check, so unknown ids cannot be told apart by timing.
            verify_secret(secret, self._dummy_hash)
            return None
        return client if verify_secret(secret, client.secret_hash) else None


class InvalidToken(Exception):
    """A bearer token that must be refused; `expired` tells the caller it only needs a new one."""

    def __init__(self, reason: str, *, expired: bool = False) -> None:
        super().__init__(reason)
        self.expired = expired


class TokenChecker(Protocol):
    """What `bearer_principal` needs of `app.state.token_verifier` (`token_keys.TokenVerifier`)."""

    def verify(self, token: str) -> Principal: ...


def unauthorized(detail: str) -> Problem:
    return Problem(401, "Unauthorized", detail, headers={"WWW-Authenticate": 'Bearer realm="anxin"'})


def bearer_principal(request: Request) -> Principal | None:
    """The caller's principal if it sent a valid bearer token, None if it sent none; 401 if invalid."""
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise unauthorized("Use `Authorization: Bearer <token>`.")
    verifier: TokenChecker = request.app.state.token_verifier
    try:
        return verifier.verify(token.strip())
    except InvalidToken as error:
        if error.expired:
            raise unauthorized("The access token has expired; request a new one.") from None
        # The reason stays in the server: it would tell a forger which check stopped them.
        raise unauthorized("The access token is not valid.") from None


def require_roles(*roles: Role) -> Any:
    """A dependency: a valid token of one of `roles`, else 401 (no or bad token) or 403 (wrong role)."""

    # Async, and the token read here rather than in a sub-dependency: FastAPI runs a plain `def` dependency in
    # its thread pool, two hand-offs per request for a check that takes microseconds.
    async def dependency(request: Request) -> Principal:
        principal = bearer_principal(request)
        if principal is None:
            raise unauthorized("This endpoint needs an agency access token.")
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

    def __init__(
        self,
        token_url: str,
        client_id: str,
        client_secret: str,
        *,
        margin_seconds: float = 60,
        audiences: list[str] | None = None,
    ) -> None:
        self._token_url = token_url
        # None: the issuer's default, a token for every service.
        self._form = {"grant_type": "client_credentials"} | ({"audience": " ".join(audiences)} if audiences else {})
        self._basic = httpx.BasicAuth(client_id, client_secret)
        self._margin = margin_seconds
        self._token: str | None = None
        self._renew_at = 0.0

    def _token_request(self) -> httpx.Request:
        request = httpx.Request("POST", self._token_url, data=self._form)
        return next(self._basic.auth_flow(request))

    def _keep(self, response: httpx.Response) -> None:
        if response.status_code != 200:
            # Raised inside the activity, which is retried with backoff until the credentials are fixed.
            raise httpx.HTTPStatusError(
                f"token request to {self._token_url} answered {response.status_code}: {response.text[:200]}",
                request=response.request,
                response=response,
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
