"""Agency tokens: client credentials, expiry, tampering and role checks, through a real FastAPI app."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from deploy.secrets import development_environment, development_issuer_environment
from services.common import client_secrets
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
from services.common.crypto import KeyConfigError
from services.common.problems import install_problem_handlers
from services.common.settings import CommonSettings
from services.common.token_endpoint import (
    FailureCounter,
    SecretChecks,
    TokenEndpoint,
    TokenEndpointLimits,
    address_key,
    token_router,
)
from services.common.token_keys import TokenIssuer, TokenKeyError, TokenVerifier, new_signing_jwk, public_jwk


def new_issuer(ttl_seconds: int = 600) -> TokenIssuer:
    return TokenIssuer(new_signing_jwk(), ttl_seconds=ttl_seconds)


def jwks(*issuers: TokenIssuer) -> dict[str, Any]:
    return {"keys": [issuer.public_jwk for issuer in issuers]}


def service_app(issuer: TokenIssuer | None, registry: ClientRegistry, *, audience: str = "cases",
                published: list[TokenIssuer] | None = None, limits: TokenEndpointLimits | None = None,
                issuer_url: str | None = None) -> FastAPI:
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


@pytest.fixture
def issuer() -> TokenIssuer:
    return new_issuer()


@pytest.fixture
def client(issuer: TokenIssuer) -> TestClient:
    registry = ClientRegistry([
        RegisteredClient("inspector-130402", hash_secret("s3cret"), Role.county_inspector, county="130402"),
        RegisteredClient("police", hash_secret("pw"), Role.police),
    ])
    app = service_app(issuer, registry)

    @app.get("/inspectors-only")
    def inspectors_only(principal: Principal = require_roles(Role.county_inspector)) -> dict[str, str | None]:
        return {"who": principal.client_id, "county": principal.county}

    return TestClient(app)


def _token(client: TestClient, client_id: str, secret: str) -> str:
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                 "client_secret": secret})
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
    response = client.post("/oauth/token", data={"grant_type": "client_credentials", "client_id": client_id,
                                                 "client_secret": secret})
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


def test_a_county_scoped_client_without_its_county_sees_no_county() -> None:
    for role in (Role.intake_clerk, Role.county_inspector, Role.bureau_head):
        assert not Principal("misconfigured", role).may_see_county("130402")
    # Agencies outside the county bureaus are scoped by what they are sent, not by county.
    assert Principal("d", Role.department, department="housing").may_see_county("130402")


# --- the lifecycle worker as a client ------------------------------------------------------------------------


def _service(issuer: TokenIssuer, token_requests: list[str]) -> FastAPI:
    """A service with the token endpoint and one lifecycle route, counting the token requests it answers."""
    registry = ClientRegistry([
        RegisteredClient("lifecycle-worker", hash_secret("lw"), Role.lifecycle),
        RegisteredClient("operator", hash_secret("op"), Role.operator),
    ])
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


async def test_the_lifecycle_client_fetches_a_new_token_when_the_old_one_is_refused() -> None:
    token_requests: list[str] = []
    old_issuer = new_issuer()
    auth = ClientCredentials("http://svc.test/oauth/token", "lifecycle-worker", "lw")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_service(old_issuer, token_requests)),
                                 base_url="http://svc.test") as http:
        assert (await http.post("/v1/orders", auth=auth)).status_code == 200
    # The service restarts with a new signing key: the cached token gets 401, a fresh one is fetched once.
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_service(new_issuer(),
                                                                            token_requests)),
                                 base_url="http://svc.test") as http:
        assert (await http.post("/v1/orders", auth=auth)).status_code == 200
    assert len(token_requests) == 2


async def test_wrong_lifecycle_credentials_fail_loudly(issuer: TokenIssuer) -> None:
    auth = ClientCredentials("http://svc.test/oauth/token", "lifecycle-worker", "wrong")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_service(issuer, [])),
                                 base_url="http://svc.test") as http:
        with pytest.raises(httpx.HTTPStatusError, match="answered 401"):
            await http.post("/v1/orders", auth=auth)


# --- keys: EdDSA only, kid, aud, leeway, rotation ------------------------------------------------------------


def _principal(role: Role = Role.city_office) -> Principal:
    return Principal("someone", role)


def _refused(verifier: TokenVerifier, token: str) -> bool:
    try:
        verifier.verify(token)
    except InvalidToken:
        return True
    return False


def test_forged_tokens_are_refused(issuer: TokenIssuer) -> None:
    verifier = TokenVerifier(jwks(issuer), ["cases"])
    claims = {"iss": "anxin", "sub": "x", "aud": ["cases"], "role": "city_office", "iat": int(time.time()),
              "exp": int(time.time()) + 600}
    public_x = base64.urlsafe_b64decode(issuer.public_jwk["x"] + "==")
    forged = {
        # The old shared-key scheme, and the classic confusion: HMAC keyed with the public key itself.
        "hs256": jwt.encode(claims, os.urandom(32), algorithm="HS256", headers={"kid": issuer.kid}),
        "hs256-public-key": jwt.encode(claims, public_x, algorithm="HS256", headers={"kid": issuer.kid}),
        "none": jwt.encode(claims, None, algorithm="none", headers={"kid": issuer.kid}),
        # Another Ed25519 key, claiming the published kid, and under a kid of its own.
        "other-key-same-kid": TokenIssuer({**new_signing_jwk(), "kid": issuer.kid}).issue(_principal()),
        "other-key": new_issuer().issue(_principal()),
        "another-audience": issuer.issue(_principal(), audiences=["sanctions"]),
    }
    for name, token in forged.items():
        assert _refused(verifier, token), name
    assert verifier.verify(issuer.issue(_principal(), audiences=["cases", "sanctions"])).role == Role.city_office


def test_clock_skew_is_tolerated_within_the_leeway(issuer: TokenIssuer) -> None:
    verifier = TokenVerifier(jwks(issuer), ["cases"])
    now = time.time()
    # The issuer's clock 20 s ahead: iat and nbf in the future; a token that expired 20 s ago.
    assert verifier.verify(issuer.issue(_principal(), now=now + 20))
    assert verifier.verify(issuer.issue(_principal(), now=now - issuer.ttl_seconds - 20))
    with pytest.raises(InvalidToken) as expired:
        verifier.verify(issuer.issue(_principal(), now=now - issuer.ttl_seconds - 40))
    assert expired.value.expired
    assert _refused(verifier, issuer.issue(_principal(), now=now + 40))


def test_rotation_keeps_tokens_of_the_old_key_valid_while_both_are_published() -> None:
    old, new = new_issuer(), new_issuer()
    old_token = old.issue(_principal())
    # Step 1: every service verifies with both keys; step 2: the issuer signs with the new one.
    both = TokenVerifier(jwks(old, new), ["intake"])
    assert both.verify(old_token) and both.verify(new.issue(_principal()))
    assert jwt.get_unverified_header(new.issue(_principal()))["kid"] == new.kid != old.kid
    # Step 3, once the old tokens have expired: the old key leaves the set, and its tokens with it.
    assert _refused(TokenVerifier(jwks(new), ["intake"]), old_token)
    # An issuer switched to a key not yet published would sign tokens nobody accepts: it refuses to start.
    signing = new_signing_jwk()
    with pytest.raises(TokenKeyError, match="not in ANXIN_TOKEN_JWKS"):
        TokenIssuer(signing, published_kids=both.kids)


def test_the_jwks_holds_public_keys_only(issuer: TokenIssuer) -> None:
    signing = new_signing_jwk()
    with pytest.raises(TokenKeyError, match="private"):
        TokenVerifier({"keys": [signing]}, ["cases"])
    assert "d" not in public_jwk(signing) and public_jwk(signing)["kid"] == signing["kid"]
    with pytest.raises(TokenKeyError):
        TokenVerifier({"keys": [{"kty": "oct", "k": "c2VjcmV0", "kid": "hs"}]}, ["cases"])


def test_the_old_hs256_key_alone_fails_fast() -> None:
    settings = CommonSettings(ANXIN_TOKEN_SIGNING_KEY=base64.b64encode(os.urandom(32)).decode())
    with pytest.raises(KeyConfigError, match="no longer used"):
        settings.token_verifier(["cases"])


# --- the token endpoint: audiences, issuer only, JWKS --------------------------------------------------------


def _form(client_id: str, secret: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret, **extra}


def test_a_client_asks_for_its_audiences(client: TestClient, issuer: TokenIssuer) -> None:
    response = client.post("/oauth/token", data=_form("police", "pw", audience="sanctions cases"))
    assert response.json()["audience"] == ["cases", "sanctions"]
    assert jwt.decode(response.json()["access_token"], options={"verify_signature": False})["aud"] == [
        "cases", "sanctions"]
    everything = client.post("/oauth/token", data=_form("police", "pw")).json()
    assert everything["audience"] == ["intake", "cases", "referrals", "sanctions"]
    unknown = client.post("/oauth/token", data=_form("police", "pw", resource="payroll"))
    assert unknown.status_code == 400 and unknown.json()["type"].endswith("invalid-target")


def test_a_service_without_the_signing_key_does_not_issue_and_publishes_the_jwks(issuer: TokenIssuer) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    app = service_app(None, registry, published=[issuer], issuer_url="https://intake.example")
    with TestClient(app) as http:
        response = http.post("/oauth/token", data=_form("police", "pw"))
        assert response.status_code == 421
        assert response.json()["token_endpoint"] == "https://intake.example/oauth/token"
        published = http.get("/.well-known/jwks.json").json()
    assert published == {"keys": [issuer.public_jwk]} and "d" not in published["keys"][0]


# --- the token endpoint under attack: one scrypt, off the loop, bounded, rate limited ------------------------


def test_an_unknown_client_id_costs_one_scrypt_like_a_known_one(monkeypatch: pytest.MonkeyPatch) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    calls: list[int] = []
    real = hashlib.scrypt
    monkeypatch.setattr(client_secrets.hashlib, "scrypt", lambda *a, **k: calls.append(1) or real(*a, **k))
    assert registry.authenticate("nobody", "pw") is None
    assert registry.authenticate("police", "wrong") is None
    assert len(calls) == 2


def _async_client(app: FastAPI, address: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app, client=(address, 40000)),
                             base_url="http://svc.test")


async def test_secret_checks_run_in_their_own_threads() -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    threads: list[str] = []

    def verify(secret: str, stored: str) -> bool:
        threads.append(threading.current_thread().name)
        return verify_secret(secret, stored)

    checks = SecretChecks(registry, workers=1, queue=0, verify=verify)
    try:
        assert await checks.check("police", "pw") == registry.authenticate("police", "pw")
        assert await checks.check("police", "wrong") is None and await checks.check("nobody", "pw") is None
    finally:
        checks.close()
    assert len(threads) == 3 and all(name.startswith("client-secret-check") for name in threads)


async def test_a_full_pool_refuses_at_once_and_the_event_loop_stays_free(issuer: TokenIssuer) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    app = service_app(issuer, registry)
    release = threading.Event()

    def slow_verify(secret: str, stored: str) -> bool:
        release.wait(10)
        return verify_secret(secret, stored)

    # A thread pool stands in for the processes here, so the test can hold the checks until it releases them.
    app.state.token_endpoint.checks = SecretChecks(
        registry, 1, 1, executor=lambda: ThreadPoolExecutor(1), verify=slow_verify)

    @app.get("/ping")
    async def ping() -> str:
        return "pong"

    async with _async_client(app) as http:
        pending = [asyncio.create_task(http.post("/oauth/token", data=_form("police", "pw"))) for _ in range(2)]
        await asyncio.sleep(0.2)
        # Both admitted requests are checked (one running, one waiting): the loop still answers at once …
        started = time.monotonic()
        assert (await http.get("/ping")).text == '"pong"'
        # … and a third request is refused without waiting.
        busy = await http.post("/oauth/token", data=_form("police", "pw"))
        assert time.monotonic() - started < 0.5
        assert busy.status_code == 503 and busy.headers["retry-after"] == "1"
        assert busy.headers["content-type"] == "application/problem+json"
        release.set()
        assert [r.status_code for r in await asyncio.gather(*pending)] == [200, 200]


async def test_failures_from_one_address_or_for_one_client_are_limited(issuer: TokenIssuer) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    app = service_app(issuer, registry, limits=TokenEndpointLimits(failures_per_address=3, failures_per_client=5))
    async with _async_client(app, "198.51.100.1") as attacker:
        codes = [(await attacker.post("/oauth/token", data=_form(f"guess-{i}", "x"))).status_code for i in range(4)]
        assert codes == [401, 401, 401, 429]
        # Limited before any check: even the right secret, from this address, waits for the window.
        limited = await attacker.post("/oauth/token", data=_form("police", "pw"))
        assert limited.status_code == 429 and 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.json()["type"].endswith("rate-limited")
    # Guesses at one client's secret spread over addresses: limited per client id.
    for i in range(5):
        async with _async_client(app, f"192.0.2.{i}") as http:
            assert (await http.post("/oauth/token", data=_form("police", "wrong"))).status_code == 401
    async with _async_client(app, "192.0.2.200") as http:
        assert (await http.post("/oauth/token", data=_form("police", "pw"))).status_code == 429
        # Another client from a clean address is not affected.
        assert (await http.post("/oauth/token", data=_form("guest", "x"))).status_code == 401


def test_the_failure_counter_forgets_after_its_window_and_stays_bounded() -> None:
    now = [1000.0]
    counter = FailureCounter(2, 60, max_keys=3, clock=lambda: now[0])
    counter.fail("a")
    counter.fail("a")
    assert counter.retry_after("a") == 60
    now[0] += 45
    assert counter.retry_after("a") == 15
    now[0] += 16
    assert counter.retry_after("a") is None
    for key in ("b", "c", "d", "e"):
        counter.fail(key)
        counter.fail(key)
    assert counter.retry_after("b") is None and counter.retry_after("e") == 60


def test_an_ipv6_host_is_counted_by_its_64() -> None:
    assert address_key("2001:db8:1:2::1") == address_key("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert address_key("203.0.113.7") == "203.0.113.7" and address_key(None) == "unknown"


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
    assert issuer is not None and verifier.verify(issuer.issue(_principal())).role == Role.city_office
    assert all("d" not in key for key in json.loads((tmp_path / "token-jwks.json").read_text())["keys"])
