"""What the integration suites' agency fixtures share: polling until something holds, an authenticated
client per agency and process, and filing a complaint through intake."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from deploy.stack import Stack


def wait_for(what: str, probe: Callable[[], Any], timeout: float = 60, interval: float = 0.4) -> Any:
    """`probe()`'s first truthy answer, asked every `interval` seconds; fails naming `what` after `timeout`."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def agency_clients(stack: Stack, agency_token: Callable[[str], str]) -> Callable[[str, str | None], httpx.Client]:
    """`client(process, token_of)`: an HTTP client for one of the stack's processes, with the bearer token of
    the development client `token_of` (None: no token)."""

    def client(process: str, token_of: str | None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {agency_token(token_of)}"} if token_of else {}
        return httpx.Client(base_url=stack.processes[process].url, headers=headers, timeout=30)

    return client


@dataclass
class Filing:
    """The stack and intake's clerk of county 130402, who files complaints."""

    stack: Stack
    clerk: httpx.Client  # intake, 130402

    def intake_for(self, county: str) -> httpx.Client:
        """Who files a complaint in `county` (a suite with a city-office client files elsewhere with it)."""
        return self.clerk

    def file(self, body: dict[str, Any]) -> str:
        """File the complaint through intake's API; its complaint id."""
        response = self.intake_for(body["county_code"]).post("/v1/complaints", json=body)
        assert response.status_code == 201, response.text
        return str(response.json()["complaint_id"])
