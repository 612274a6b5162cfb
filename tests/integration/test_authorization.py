"""The authorisation matrix: every route of every service, called with a token of every role (and with
none), on the real running services. A route guarded by roles refuses every other role (403, or 404 where
existence must not leak) and a missing token (401); a route with no guard must be on the public list
below, so a new route cannot ship unguarded by accident."""

from __future__ import annotations

import importlib
import re

import httpx
import pytest
from fastapi.routing import APIRoute

from deploy.secrets import development_token_issuer
from deploy.stack import Stack
from services.common.auth import Principal, Role, allowed_roles
from services.common.token_keys import TokenIssuer, new_signing_jwk

SERVICES = ["intake", "cases", "referrals", "sanctions", "monitoring", "webhooks"]

# Routes anyone may call, and why.
PUBLIC = {
    ("*", "GET", "/healthz"),
    ("*", "GET", "/readyz"),
    ("*", "GET", "/metrics"),
    ("*", "POST", "/oauth/token"),  # client credentials are the authentication
    ("*", "GET", "/.well-known/jwks.json"),  # public keys
    ("*", "GET", "/problems"),
    ("*", "GET", "/problems/{name}"),  # what a problem's `type` names
    ("intake", "GET", "/"),
    ("intake", "POST", "/form"),
    ("intake", "GET", "/status"),
    ("intake", "POST", "/status"),
    ("intake", "GET", "/v1/sites/{site_id}"),
    ("intake", "GET", "/v1/sites/{site_id}/poster.{fmt}"),  # on the poster
    ("intake", "GET", "/v1/complaints/{complaint_id}"),  # tracking code or token, checked in the route
    # Published lists are public by law; documents are public when published, otherwise checked in the route.
    ("sanctions", "GET", "/v1/public/blacklist"),
    ("sanctions", "GET", "/v1/public/blacklist/{listing_id}"),
    ("sanctions", "GET", "/v1/public/major-violations"),
    ("sanctions", "GET", "/v1/documents/{document_id}"),
    ("cases", "GET", "/v1/public/statistics"),  # counts per county, published for transparency
}


def _routes(service: str) -> list[tuple[str, str, frozenset[Role] | None]]:
    app_module = importlib.import_module(f"services.{service}.api")
    # A service with more than one router lists them all in `ROUTERS`.
    routers = getattr(app_module, "ROUTERS", [app_module.router])
    rows = []
    for router in routers:
        for route in router.routes:
            if isinstance(route, APIRoute):
                for method in sorted(route.methods - {"HEAD"}):
                    rows.append((method, route.path, allowed_roles(route)))
    return rows


def _principal(role: Role) -> Principal:
    return Principal(
        f"matrix-{role.value}",
        role,
        county="130402" if role in (Role.county_inspector, Role.intake_clerk, Role.bureau_head) else None,
        department="housing" if role is Role.department else None,
    )


@pytest.fixture(scope="module")
def apis(stack: Stack) -> Stack:
    stack.start_processes([f"{s}-api" for s in SERVICES], timeout=180)
    return stack


def _issuer(stack: Stack) -> TokenIssuer:
    return development_token_issuer(stack.data_dir)


@pytest.mark.parametrize("service", SERVICES)
def test_every_route_refuses_every_role_it_does_not_name(apis: Stack, service: str) -> None:
    issuer = _issuer(apis)
    base = apis.processes[f"{service}-api"].url
    tokens = {role: issuer.issue(_principal(role)) for role in Role}
    checked = 0
    unguarded: list[str] = []
    with httpx.Client(base_url=base, timeout=30) as http:
        for method, path, allowed in _routes(service):
            url = re.sub(r"\{[^}]+\}", "MATRIX-0001", path)
            if allowed is None:
                public = ("*", method, path) in PUBLIC or (service, method, path) in PUBLIC
                if not public:
                    unguarded.append(f"{method} {path}")
                continue
            anonymous = http.request(method, url, json={})
            assert anonymous.status_code == 401, f"{method} {path} without a token: {anonymous.status_code}"
            for role, token in tokens.items():
                if role in allowed:
                    continue  # the route may still refuse it on finer scope (county, department, own records)
                response = http.request(method, url, json={}, headers={"Authorization": f"Bearer {token}"})
                assert response.status_code in (403, 404), (
                    f"{role} not refused on {method} {path}: {response.status_code} {response.text[:200]}"
                )
                checked += 1
    assert unguarded == [], f"routes with no role guard and not on the public list: {unguarded}"
    assert checked > 0 or service == "sanctions"


def test_tampered_and_expired_tokens_are_refused_everywhere(apis: Stack) -> None:
    issuer = _issuer(apis)
    token = issuer.issue(_principal(Role.city_office))
    expired = issuer.issue(_principal(Role.city_office), now=0)
    forged = TokenIssuer(new_signing_jwk()).issue(_principal(Role.city_office))
    for service in SERVICES:
        url = f"{apis.processes[f'{service}-api'].url}/v1/audit"
        assert httpx.get(url, headers={"Authorization": f"Bearer {token}"}).status_code == 200
        for bad in (expired, forged, token[:-3] + "abc"):
            assert httpx.get(url, headers={"Authorization": f"Bearer {bad}"}).status_code == 401
