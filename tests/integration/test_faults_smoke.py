"""The quick version of `make faults`: kill -9 intake's outbox relay while 50 complaints are filed; every one
still reaches its workflow (intake records the start) and its case in the cases service's ledger, once."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import httpx

from deploy.stack import Stack
from services.common.settings import CommonSettings
from tests.integration.test_intake import complaint
from tests.support.delivery import inbox_applications, started_and_ledgered

PROCESSES = [
    "intake-api",
    "intake-relay",
    "intake-worker",
    "cases-api",
    "cases-relay",
    "cases-worker",
    "lifecycle-worker",
]


def test_killing_the_intake_relay_under_load_loses_nothing(
    stack: Stack, settings: CommonSettings, agency_token: Callable[[str], str]
) -> None:
    stack.start_processes(PROCESSES, timeout=240)
    seed = uuid.uuid4().int % 10**6
    headers = {"Authorization": f"Bearer {agency_token('clerk-130402')}"}
    ids: list[str] = []
    with httpx.Client(base_url=stack.processes["intake-api"].url, headers=headers, timeout=30) as http:
        for n in range(50):
            if n == 15:
                stack.kill_process("intake-relay")
            if n == 35:
                stack.restart_process("intake-relay", timeout=60)
            body = complaint(seed * 100 + n, phone=f"138{(seed * 100 + n) % 10**8:08d}")
            response = http.post("/v1/complaints", json=body, headers={"Idempotency-Key": f"smoke-{seed}-{n}"})
            assert response.status_code == 201, response.text
            ids.append(response.json()["complaint_id"])

    started, ledgered = started_and_ledgered(settings.database_url, ids, timeout=120)
    assert (started, ledgered) == (len(ids), len(ids))
    # The relay resent the batch it was killed in: each event still took effect once.
    applied = inbox_applications(settings.database_url, ids)
    assert applied[0] == applied[1] >= len(ids)
