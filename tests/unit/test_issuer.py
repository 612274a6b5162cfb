"""The token issuer (services/issuer) as its own app, and the lifecycle worker's way to it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient

from deploy.secrets import development_clients, development_environment, development_issuer_environment
from services.common.crypto import KeyConfigError
from services.common.token_keys import TokenVerifier, load_json_setting
from services.issuer.app import IssuerSettings, create_app
from workflows.clients import ReplicatedCommandClient
from workflows.worker import LifecycleSettings


def _settings(data_dir: Path, **overrides: str) -> IssuerSettings:
    env = {**development_environment(data_dir), **development_issuer_environment(data_dir), **overrides}
    return IssuerSettings(
        **{key: value for key, value in env.items() if key.startswith("ANXIN_TOKEN") or key == "ANXIN_CLIENTS_FILE"},
        ANXIN_DATA_DIR=str(data_dir),
        # The issuer alone, no PostgreSQL: client credentials only (people sign in on a stack).
        ANXIN_ISSUER_PEOPLE=overrides.get("ANXIN_ISSUER_PEOPLE", "false"),
    )


def test_the_issuer_signs_for_its_registered_clients_and_publishes_the_public_keys(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    clerk = development_clients(tmp_path)["clerk-130402"]
    with TestClient(create_app(settings)) as http:
        assert http.get("/readyz").status_code == 200
        issued = http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "audience": "intake"},
            auth=("clerk-130402", clerk["client_secret"]),
        )
        wrong = http.post("/oauth/token", data={"grant_type": "client_credentials"}, auth=("clerk-130402", "wrong"))
        published = http.get("/.well-known/jwks.json").json()
    assert issued.status_code == 200, issued.text
    assert wrong.status_code == 401 and wrong.headers["content-type"] == "application/problem+json"
    assert all("d" not in key for key in published["keys"])
    # What a service verifies with: the published keys, its own audience.
    principal = TokenVerifier(load_json_setting(settings.token_jwks or ""), ["intake"]).verify(
        issued.json()["access_token"]
    )
    assert principal.client_id == "clerk-130402" and principal.county == "130402"
    assert jwt.get_unverified_header(issued.json()["access_token"])["kid"] == published["keys"][0]["kid"]


def test_the_issuer_refuses_to_start_without_its_key_or_its_clients(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match="ANXIN_TOKEN_SIGNING_JWK must be set"):
        create_app(_settings(tmp_path, ANXIN_TOKEN_SIGNING_JWK=""))
    with pytest.raises(KeyConfigError, match="ANXIN_CLIENTS_FILE"):
        create_app(_settings(tmp_path, ANXIN_CLIENTS_FILE=str(tmp_path / "none.json")))
    # With people's accounts: their TOTP secrets are sealed, so the issuer's key ring is needed too.
    with pytest.raises(SystemExit, match="ANXIN_ISSUER_KEYS"):
        create_app(_settings(tmp_path, ANXIN_ISSUER_PEOPLE="true"))


def test_the_lifecycle_worker_gets_its_tokens_from_the_issuer_and_only_there(tmp_path: Path) -> None:
    secret = {"ANXIN_LIFECYCLE_CLIENT_SECRET": "s", "ANXIN_DATA_DIR": str(tmp_path)}
    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.path == "/oauth/token":
            return httpx.Response(200, json={"access_token": "t", "expires_in": 900})
        return httpx.Response(200, json={})

    async def call(settings: LifecycleSettings, services: str) -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(answer)) as http:
            client = settings.service_client(http, services, "cases")
            await client.get("/v1/anything")
            if isinstance(client, ReplicatedCommandClient):
                for replica in client._replicas[1:]:
                    await replica.get("/v1/anything")

    with pytest.raises(KeyConfigError, match="ANXIN_TOKEN_ISSUER_URL"):
        asyncio.run(call(LifecycleSettings(**secret), "http://cases:8002"))
    # Replica n of a service is paired with issuer n.
    paired = LifecycleSettings(**secret, ANXIN_TOKEN_ISSUER_URL="http://issuer:8005,http://issuer:8015")
    asyncio.run(call(paired, "http://cases:8002,http://cases:8012"))
    assert [url for url in asked if url.endswith("/oauth/token")] == [
        "http://issuer:8005/oauth/token",
        "http://issuer:8015/oauth/token",
    ]
    assert json.dumps(asked).count("/v1/anything") == 2
