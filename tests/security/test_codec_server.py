"""The codec server decodes only for an operator's token or the installation's path secret, and only under
the host names it is configured for (docs/security.md, "Attacks the suite performs")."""

from __future__ import annotations

import base64
import json
import os
import secrets
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import ValidationError

from deploy import secrets as secrets_module
from deploy.secrets import codec_path_token
from services.common.auth import Principal, Role
from services.common.codec_server import CodecSettings, create_app, host_allowed
from services.common.crypto import FieldCipher
from services.common.temporal import data_converter
from services.common.token_keys import TokenIssuer, new_signing_jwk

KEY = base64.b64encode(os.urandom(32)).decode()
PATH_TOKEN = secrets.token_urlsafe(32)
ISSUER = TokenIssuer(new_signing_jwk())


def _settings(**extra: str) -> CodecSettings:
    return CodecSettings(
        **{
            "ANXIN_DATA_KEYS": json.dumps({"k1": KEY}),
            "ANXIN_DATA_KEY_ID": "k1",
            "ANXIN_TOKEN_JWKS": json.dumps({"keys": [ISSUER.public_jwk]}),
            "ANXIN_CODEC_PATH_TOKEN": PATH_TOKEN,
            **extra,
        }
    )


async def _sealed() -> list[dict[str, object]]:
    converter = data_converter(FieldCipher.from_config(json.dumps({"k1": KEY}), "k1"))
    [plain] = converter.payload_converter.to_payloads(["王小明"])
    assert converter.payload_codec is not None
    [sealed] = await converter.payload_codec.encode([plain])
    return [
        {
            "metadata": {k: base64.b64encode(v).decode() for k, v in sealed.metadata.items()},
            "data": base64.b64encode(sealed.data).decode(),
        }
    ]


def _token(settings: CodecSettings, role: Role) -> dict[str, str]:
    return {"Authorization": f"Bearer {ISSUER.issue(Principal('someone', role))}"}


async def test_the_path_secret_or_an_operator_token_decodes_and_nothing_else() -> None:
    settings = _settings()
    payloads = await _sealed()
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8299")

    def decode(path: str, headers: dict[str, str] | None = None) -> tuple[int, str]:
        response = client.post(path, json={"payloads": payloads}, headers=headers or {})
        return response.status_code, response.text

    status, text = decode(f"/{PATH_TOKEN}/decode")
    assert status == 200 and "王小明" in json.dumps(
        [base64.b64decode(p["data"]).decode() for p in json.loads(text)["payloads"]], ensure_ascii=False
    )
    assert decode("/decode", _token(settings, Role.operator))[0] == 200
    # No token (the loopback exemption is gone), a wrong path secret, another role's token.
    assert decode("/decode")[0] == 401
    assert decode(f"/{PATH_TOKEN[:-1]}x/decode")[0] == 401
    assert decode("/decode", _token(settings, Role.city_office))[0] == 403
    assert client.post(f"/{PATH_TOKEN[:-1]}x/encode", json={"payloads": []}).status_code == 401
    # The path secret is not taken from anywhere else (a query, a header).
    assert decode(f"/decode?capability={PATH_TOKEN}")[0] == 401


async def test_another_host_name_is_refused_as_a_rebound_page_would_send_it() -> None:
    settings = _settings()
    payloads = await _sealed()
    client = TestClient(create_app(settings), base_url="http://127.0.0.1:8299")
    for host in ("attacker.example", "attacker.example:8299", "127.0.0.1:8300", ""):
        response = client.post(f"/{PATH_TOKEN}/decode", json={"payloads": payloads}, headers={"Host": host})
        assert response.status_code == 421, (host, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert client.get("/healthz", headers={"Host": "10.1.2.3:8299"}).status_code == 200  # probes
    assert (
        client.post(
            f"/{PATH_TOKEN}/decode", json={"payloads": payloads}, headers={"Host": "localhost:8299"}
        ).status_code
        == 200
    )
    published = TestClient(
        create_app(_settings(ANXIN_CODEC_ALLOWED_HOSTS="codec.example.org")), base_url="https://codec.example.org"
    )
    assert published.post(f"/{PATH_TOKEN}/decode", json={"payloads": payloads}).status_code == 200
    assert (
        published.post(
            f"/{PATH_TOKEN}/decode", json={"payloads": payloads}, headers={"Host": "127.0.0.1:8299"}
        ).status_code
        == 421
    )


def test_host_names_match_exactly_or_by_name_without_port() -> None:
    assert host_allowed("codec.example.org:443", {"codec.example.org"})
    assert host_allowed("CODEC.example.org", {"codec.example.org"})
    assert not host_allowed("codec.example.org.attacker.example", {"codec.example.org"})
    assert not host_allowed("127.0.0.1:8300", {"127.0.0.1:8299"})
    assert not host_allowed("", {"127.0.0.1:8299"})


def test_the_loopback_exemption_is_gone_and_a_short_path_secret_refused() -> None:
    with pytest.raises(ValidationError, match="ANXIN_CODEC_ALLOW_LOOPBACK"):
        _settings(ANXIN_CODEC_ALLOW_LOOPBACK="1")
    with pytest.raises(ValidationError):
        _settings(ANXIN_CODEC_PATH_TOKEN="short")


def test_the_development_path_secret_is_made_once_per_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANXIN_CODEC_PATH_TOKEN", raising=False)
    made = codec_path_token(tmp_path / "stack")
    assert len(made) >= 32 and codec_path_token(tmp_path / "stack") == made
    assert (tmp_path / "stack" / "codec-path-token").stat().st_mode & 0o077 == 0
    assert codec_path_token(tmp_path / "other") != made

    def read_only(path: Path, content: object) -> None:
        raise PermissionError(path)

    # A command built its stack where the data dir cannot be written: the same token for the whole process.
    monkeypatch.setattr(secrets_module, "_write_private", read_only)
    assert codec_path_token(tmp_path / "read-only") == codec_path_token(tmp_path / "read-only")
    monkeypatch.setenv("ANXIN_CODEC_PATH_TOKEN", PATH_TOKEN)
    assert codec_path_token(tmp_path / "stack") == PATH_TOKEN
