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


def test_answers_are_not_stored_unless_the_route_or_a_static_asset_says_otherwise() -> None:
    from fastapi.responses import Response

    from services.common.middleware import SecurityHeaders

    api = FastAPI()
    api.add_middleware(SecurityHeaders)

    @api.get("/v1/thing")
    def thing() -> dict[str, str]:
        return {"tracking_code": "K7QM-3ZPA"}

    @api.get("/poster.png")
    def poster() -> Response:
        return Response(b"png", media_type="image/png", headers={"Cache-Control": "public, max-age=300"})

    @api.get("/static/form.css")
    def asset() -> Response:
        return Response(b"body{}", media_type="text/css")

    client = TestClient(api)
    assert client.get("/v1/thing").headers["cache-control"] == "no-store"
    assert client.get("/poster.png").headers["cache-control"] == "public, max-age=300"
    assert "cache-control" not in client.get("/static/form.css").headers
