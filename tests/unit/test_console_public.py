"""The console's public pages against stand-in services: asked without a token, a service that does not answer
is a plain 503 page (never cached), and the on-time rate as the page writes it."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi.testclient import TestClient

from services.console.app import ConsoleSettings, create_app
from services.console.pages.public import rate_text


def _settings() -> ConsoleSettings:
    values: dict[str, Any] = {
        "ANXIN_TOKEN_ISSUER_URL": "http://issuer.test",
        "ANXIN_CASES_URL": "http://cases.test",
        "ANXIN_SANCTIONS_URL": "http://sanctions.test",
        "ANXIN_CONSOLE_CLIENT_SECRET": "console-secret",
    }
    return ConsoleSettings(**values)


def test_the_public_pages_ask_without_a_token_and_say_when_a_service_is_down() -> None:
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        if request.url.host == "cases.test":
            return httpx.Response(503, json={"title": "Unavailable"})
        return httpx.Response(200, json={"items": [], "lists": [], "next_cursor": None})

    with TestClient(create_app(_settings(), transport=httpx.MockTransport(answer))) as browser:
        found = browser.get("/public/blacklist", params={"q": "邯郸"})
        assert found.status_code == 200 and found.headers["cache-control"] == "public, max-age=60"
        assert "未查到" in found.text
        down = browser.get("/public/transparency")
        assert down.status_code == 503 and "暂时不可用" in down.text
        assert down.headers["cache-control"] == "no-store"
    assert [r.url.path for r in asked] == ["/v1/public/blacklist", "/v1/public/statistics"]
    assert all("authorization" not in r.headers for r in asked)
    assert asked[0].url.params["q"] == "邯郸"


def test_the_rate_is_a_percentage_with_two_decimals_or_a_dash() -> None:
    assert rate_text("0.6667") == "66.67%"
    assert rate_text("1.0000") == "100.00%"
    assert rate_text(None) == "—" and rate_text("x") == "—"
