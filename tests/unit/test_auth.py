"""Agency tokens: client credentials, expiry, tampering and role checks, through a real FastAPI app."""

from __future__ import annotations

import base64
import json
import os
import time
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from deploy.secrets import development_environment, development_issuer_environment
from services.common.auth import (
    LIFECYCLE_CALLER,
    ClientCredentials,
    ClientRegistry,
    InvalidToken,
    Principal,
    RegisteredClient,
    Role,
    hash_secret,
    require_roles,
    verify_secret,
)
from services.common.settings import CommonSettings
from services.common.token_keys import LEEWAY_SECONDS, TokenIssuer, TokenVerifier
from tests.support.token_apps import (
    jwks,
    new_issuer,
    principal,
    service_app,
    token_form,
)


@pytest.fixture
def issuer() -> TokenIssuer:
    return new_issuer()


@pytest.fixture
def client(issuer: TokenIssuer) -> TestClient:
    registry = ClientRegistry(
        [
            RegisteredClient("inspector-130402", hash_secret("s3cret"), Role.county_inspector, county="130402"),
            RegisteredClient("police", hash_secret("pw"), Role.police),
        ]
    )
    app = service_app(issuer, registry)

    @app.get("/inspectors-only")
    def inspectors_only(principal: Principal = require_roles(Role.county_inspector)) -> dict[str, str | None]:
        return {"who": principal.client_id, "county": principal.county}

    return TestClient(app)


def _token(client: TestClient, client_id: str, secret: str) -> str:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def test_client_credentials_give_a_token_that_opens_the_route(client: TestClient) -> None:
    token = _token(client, "inspector-130402", "s3cret")
    response = client.get("/inspectors-only", headers={"Authorization": f"Bearer {token}"})
    assert response.json() == {"who": "inspector-130402", "county": "130402"}


def test_http_basic_works_too(client: TestClient) -> None:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("police", "pw"))
    assert response.status_code == 200 and response.json()["role"] == "police"


@pytest.mark.parametrize("client_id,secret", [("inspector-130402", "wrong"), ("nobody", "s3cret")])
def test_wrong_credentials_get_401_problem(client: TestClient, client_id: str, secret: str) -> None:
    response = client.post(
        "/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"


def test_missing_tampered_and_expired_tokens_get_401_and_wrong_role_403(
    client: TestClient, issuer: TokenIssuer
) -> None:
    assert client.get("/inspectors-only").status_code == 401
    token = _token(client, "inspector-130402", "s3cret")
    tampered = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    assert client.get("/inspectors-only", headers={"Authorization": f"Bearer {tampered}"}).status_code == 401
    expired = issuer.issue(Principal("inspector-130402", Role.county_inspector, "130402"), now=0)
    response = client.get("/inspectors-only", headers={"Authorization": f"Bearer {expired}"})
    assert response.status_code == 401 and "expired" in response.json()["detail"]
    other_key = new_issuer().issue(Principal("x", Role.county_inspector))
    assert client.get("/inspectors-only", headers={"Authorization": f"Bearer {other_key}"}).status_code == 401
    police = _token(client, "police", "pw")
    assert client.get("/inspectors-only", headers={"Authorization": f"Bearer {police}"}).status_code == 403


def test_secrets_are_stored_hashed_and_salted() -> None:
    first, second = hash_secret("same"), hash_secret("same")
    assert first != second and "same" not in first
    assert verify_secret("same", first) and not verify_secret("other", first)


def test_county_scope() -> None:
    inspector = Principal("i", Role.county_inspector, county="130402")
    assert inspector.may_see_county("130402") and not inspector.may_see_county("130403")
    assert Principal("c", Role.city_office).may_see_county("130403")


# --- the lifecycle worker as a client ------------------------------------------------------------------------


def _service(issuer: TokenIssuer, token_requests: list[str]) -> FastAPI:
    """A service with the token endpoint and one lifecycle route, counting the token requests it answers."""
    registry = ClientRegistry(
        [
            RegisteredClient("lifecycle-worker", hash_secret("lw"), Role.lifecycle),
            RegisteredClient("operator", hash_secret("op"), Role.operator),
        ]
    )
    app = service_app(issuer, registry)

    @app.middleware("http")
    async def count(request: Any, call_next: Any) -> Any:
        if request.url.path == "/oauth/token":
            token_requests.append(request.url.path)
        return await call_next(request)

    @app.post("/v1/orders", dependencies=[LIFECYCLE_CALLER])
    def order() -> dict[str, str]:
        return {"id": "ORDER-1"}

    return app


async def test_the_lifecycle_client_gets_one_token_and_reuses_it(issuer: TokenIssuer) -> None:
    token_requests: list[str] = []
    transport = httpx.ASGITransport(app=_service(issuer, token_requests))
    auth = ClientCredentials("http://svc.test/oauth/token", "lifecycle-worker", "lw")
    async with httpx.AsyncClient(transport=transport, base_url="http://svc.test") as http:
        for _ in range(3):
            response = await http.post("/v1/orders", auth=auth)
            assert response.status_code == 200 and response.json() == {"id": "ORDER-1"}
        assert len(token_requests) == 1
        # Without the token, or with a person's token (even an operator's), the route refuses.
        assert (await http.post("/v1/orders")).status_code == 401
        operator = ClientCredentials("http://svc.test/oauth/token", "operator", "op")
        assert (await http.post("/v1/orders", auth=operator)).status_code == 403


async def test_the_lifecycle_client_fetches_a_new_token_when_the_old_one_isrefused() -> None:
    token_requests: list[str] = []
    old_issuer = new_issuer()
    auth = ClientCredentials("http://svc.test/oauth/token", "lifecycle-worker", "lw")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_service(old_issuer, token_requests)), base_url="http://svc.test"
    ) as http:
        assert (await http.post("/v1/orders", auth=auth)).status_code == 200
    # The service restarts with a new signing key: the cached token gets 401, a fresh one is fetched once.
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_service(new_issuer(), token_requests)), base_url="http://svc.test"
    ) as http:
        assert (await http.post("/v1/orders", auth=auth)).status_code == 200
    assert len(token_requests) == 2


async def test_wrong_lifecycle_credentials_fail_loudly(issuer: TokenIssuer) -> None:
    auth = ClientCredentials("http://svc.test/oauth/token", "lifecycle-worker", "wrong")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_service(issuer, [])), base_url="http://svc.test"
    ) as http:
        with pytest.raises(httpx.HTTPStatusError, match="answered 401"):
            await http.post("/v1/orders", auth=auth)


# --- keys: EdDSA only, kid, aud, leeway, rotation ------------------------------------------------------------


# --- the token endpoint: audiences, issuer only, JWKS --------------------------------------------------------


def test_a_client_asks_for_its_audiences(client: TestClient, issuer: TokenIssuer) -> None:
    response = client.post("/oauth/token", data=token_form("police", "pw", audience="sanctions cases"))
    assert response.json()["audience"] == ["cases", "sanctions"]
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"] == [
        "cases",
        "sanctions",
    ]
    everything = client.post("/oauth/token", data=token_form("police", "pw")).json()
    assert everything["audience"] == ["intake", "cases", "referrals", "sanctions", "monitoring", "webhooks"]
    unknown = client.post("/oauth/token", data=token_form("police", "pw", resource="payroll"))
    assert unknown.status_code == 400 and unknown.json()["type"].endswith("invalid-target")


# --- the token endpoint under attack: one scrypt, off the loop, bounded, rate limited ------------------------


def test_a_development_data_dir_of_before_gets_an_ed25519_key_in_place_of_its_hs256_one(tmp_path: Path) -> None:
    development_environment(tmp_path)
    env = json.loads((tmp_path / "development-secrets.json").read_text())
    old = {**env, "ANXIN_TOKEN_SIGNING_KEY": base64.b64encode(os.urandom(32)).decode()}
    for name in ("ANXIN_TOKEN_JWKS", "ANXIN_TOKEN_SIGNING_JWK", "ANXIN_TOKEN_TTL_SECONDS"):
        old.pop(name)
    (tmp_path / "development-secrets.json").write_text(json.dumps(old))
    migrated = {**development_environment(tmp_path), **development_issuer_environment(tmp_path)}
    assert "ANXIN_TOKEN_SIGNING_KEY" not in migrated
    settings = CommonSettings(**{k: v for k, v in migrated.items() if k.startswith("ANXIN_TOKEN")})
    verifier = settings.token_verifier(["cases"])
    issuer = settings.token_issuer(verifier)
    assert issuer is not None and verifier.verify(issuer.issue(principal())).role == Role.city_office
    assert all("d" not in key for key in json.loads((tmp_path / "token-jwks.json").read_text())["keys"])


def test_a_verified_token_is_remembered_until_it_expires_and_not_after(
    issuer: TokenIssuer, monkeypatch: pytest.MonkeyPatch
) -> None:
    verifier = TokenVerifier(jwks(issuer), ["cases"])
    who = Principal("inspector-130402", Role.county_inspector, "130402")
    # Issued long enough ago that it expires, leeway included, two seconds from now.
    token = issuer.issue(who, now=time.time() - issuer.ttl_seconds - LEEWAY_SECONDS + 2)
    assert verifier.verify(token) == who
    checks: list[str] = []
    decode = jwt.decode
    monkeypatch.setattr(jwt, "decode", lambda *args, **kwargs: checks.append("decode") or decode(*args, **kwargs))
    assert verifier.verify(token) == who
    assert checks == [], "the same token again is not checked again"
    header, claims, signature = token.split(".")
    forged = ".".join([header, claims, ("B" if signature[0] == "A" else "A") + signature[1:]])
    with pytest.raises(InvalidToken):
        verifier.verify(forged)
    time.sleep(2.5)
    with pytest.raises(InvalidToken) as refused:
        verifier.verify(token)
    assert refused.value.expired, "once expired it is checked in full, and refused as expired"
