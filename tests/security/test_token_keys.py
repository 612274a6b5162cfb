"""Attacks on the agencies' tokens, each refused (docs/security.md, "Attacks the suite performs"): tokens forged
with HS256 (also keyed with the public key), `alg: none` or an unpublished Ed25519 key; a token for another
service; a clock far off; the old shared HS256 key; a service that would issue; a key rotation that would sign
everyone out; a county-scoped client registered without its county."""

from __future__ import annotations

import base64
import os
import time

import jwt
import pytest
from fastapi.testclient import TestClient

from services.common.auth import (
    ClientRegistry,
    InvalidToken,
    Principal,
    RegisteredClient,
    Role,
    hash_secret,
)
from services.common.crypto import KeyConfigError
from services.common.settings import CommonSettings
from services.common.token_keys import TokenIssuer, TokenKeyError, TokenVerifier, new_signing_jwk, public_jwk
from tests.support.token_apps import (
    jwks,
    new_issuer,
    principal,
    refused,
    service_app,
    token_form,
)


@pytest.fixture
def issuer() -> TokenIssuer:
    return new_issuer()


def test_forged_tokens_arerefused(issuer: TokenIssuer) -> None:
    verifier = TokenVerifier(jwks(issuer), ["cases"])
    claims = {
        "iss": "anxin",
        "sub": "x",
        "aud": ["cases"],
        "role": "city_office",
        "iat": int(time.time()),
        "exp": int(time.time()) + 600,
    }
    public_x = base64.urlsafe_b64decode(issuer.public_jwk["x"] + "==")
    forged = {
        # The old shared-key scheme, and the classic confusion: HMAC keyed with the public key itself.
        "hs256": jwt.encode(claims, os.urandom(32), algorithm="HS256", headers={"kid": issuer.kid}),
        "hs256-public-key": jwt.encode(claims, public_x, algorithm="HS256", headers={"kid": issuer.kid}),
        "none": jwt.encode(claims, None, algorithm="none", headers={"kid": issuer.kid}),
        # Another Ed25519 key, claiming the published kid, and under a kid of its own.
        "other-key-same-kid": TokenIssuer({**new_signing_jwk(), "kid": issuer.kid}).issue(principal()),
        "other-key": new_issuer().issue(principal()),
        "another-audience": issuer.issue(principal(), audiences=["sanctions"]),
    }
    for name, token in forged.items():
        assert refused(verifier, token), name
    assert verifier.verify(issuer.issue(principal(), audiences=["cases", "sanctions"])).role == Role.city_office


def test_clock_skew_is_tolerated_within_the_leeway(issuer: TokenIssuer) -> None:
    verifier = TokenVerifier(jwks(issuer), ["cases"])
    now = time.time()
    # The issuer's clock 20 s ahead: iat and nbf in the future; a token that expired 20 s ago.
    assert verifier.verify(issuer.issue(principal(), now=now + 20))
    assert verifier.verify(issuer.issue(principal(), now=now - issuer.ttl_seconds - 20))
    with pytest.raises(InvalidToken) as expired:
        verifier.verify(issuer.issue(principal(), now=now - issuer.ttl_seconds - 40))
    assert expired.value.expired
    assert refused(verifier, issuer.issue(principal(), now=now + 40))


def test_rotation_keeps_tokens_of_the_old_key_valid_while_both_are_published() -> None:
    old, new = new_issuer(), new_issuer()
    old_token = old.issue(principal())
    # Step 1: every service verifies with both keys; step 2: the issuer signs with the new one.
    both = TokenVerifier(jwks(old, new), ["intake"])
    assert both.verify(old_token) and both.verify(new.issue(principal()))
    assert jwt.get_unverified_header(new.issue(principal()))["kid"] == new.kid != old.kid
    # Step 3, once the old tokens have expired: the old key leaves the set, and its tokens with it.
    assert refused(TokenVerifier(jwks(new), ["intake"]), old_token)
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


def test_a_service_without_the_signing_key_does_not_issue_and_publishes_the_jwks(issuer: TokenIssuer) -> None:
    registry = ClientRegistry([RegisteredClient("police", hash_secret("pw"), Role.police)])
    app = service_app(None, registry, published=[issuer], issuer_url="https://intake.example")
    with TestClient(app) as http:
        response = http.post("/oauth/token", data=token_form("police", "pw"))
        assert response.status_code == 421
        assert response.json()["token_endpoint"] == "https://intake.example/oauth/token"
        published = http.get("/.well-known/jwks.json").json()
    assert published == {"keys": [issuer.public_jwk]} and "d" not in published["keys"][0]


def test_a_county_scoped_client_without_its_county_sees_no_county() -> None:
    for role in (Role.intake_clerk, Role.county_inspector, Role.bureau_head):
        assert not Principal("misconfigured", role).may_see_county("130402")
    # Agencies outside the county bureaus are scoped by what they are sent, not by county.
    assert Principal("d", Role.department, department="housing").may_see_county("130402")
