"""The NUL guard in front of every service: PostgreSQL text cannot hold U+0000, so it is refused at the door."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common.middleware import BodySizeLimit, RefuseNulCharacters


def app() -> TestClient:
    api = FastAPI()
    api.add_middleware(RefuseNulCharacters)
    api.add_middleware(BodySizeLimit, max_bytes=1000)

    @api.get("/items")
    def items(q: str = "") -> dict[str, str]:
        return {"q": q}

    @api.post("/items")
    def create(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return TestClient(api)


def test_a_nul_in_the_query_or_path_is_a_400_problem() -> None:
    client = app()
    for response in (client.get("/items", params={"q": "a\x00b"}), client.get("/items%00")):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert "NUL" in response.json()["title"]
    assert client.get("/items", params={"q": "邯郸 100%"}).json() == {"q": "邯郸 100%"}


def test_a_nul_in_a_json_body_is_refused_and_the_text_backslash_u0000_is_not() -> None:
    client = app()
    refused = client.post("/items", content=b'{"name": "a\\u0000b"}', headers={"content-type": "application/json"})
    assert refused.status_code == 400
    text = client.post("/items", content=b'{"name": "a\\\\u0000b"}', headers={"content-type": "application/json"})
    assert text.status_code == 200 and text.json() == {"name": "a\\u0000b"}
    big = client.post("/items", json={"name": "x" * 2000})
    assert big.status_code == 413  # the size limit still comes first
