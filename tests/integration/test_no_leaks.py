"""Proof that workers' personal data does not leak: complaints with known ID numbers, phones, names and bank
cards go through the system; then every Kafka topic, every raw Temporal history (as stored, not decoded),
every search attribute and every log and trace file is scanned for them. Zero occurrences."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
from kafka import KafkaConsumer
from temporalio.client import Client

from deploy.stack import Stack
from services.common.kafka import client_options
from services.contracts.events import Topics
from services.contracts.lifecycle import complaint_workflow_id
from tests.integration.test_intake import PROCESSES, complaint, make_id_number, make_phone

COMPLAINTS = 5


def _secrets_of(body: dict[str, str]) -> list[str]:
    values = [body["id_number"], body["phone"], body["worker_name"], body["bank_card"]]
    # Also the bare digits a careless formatter might print (ID without its check character, phone tail).
    return [*values, body["id_number"][:17], body["bank_card"][-12:]]


def test_no_personal_data_in_events_histories_search_attributes_logs_or_traces(
    stack: Stack, agency_token: Callable[[str], str]
) -> None:
    stack.start_processes(PROCESSES, timeout=120)
    base = stack.processes["intake-api"].url
    token = agency_token("clerk-130402")
    secrets: list[str] = []
    complaint_ids: list[str] = []
    for i in range(COMPLAINTS):
        seed = uuid.uuid4().int % 10**7 + i
        body = complaint(
            seed,
            worker_name=f"泄露测试{chr(0x4E00 + seed % 500)}{chr(0x4E00 + i)}",
            bank_card="6222021234567890128",
            id_number=make_id_number(seed),
            phone=make_phone(seed),
        )
        response = httpx.post(f"{base}/v1/complaints", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        complaint_ids.append(response.json()["complaint_id"])
        # The worker follows the complaint, and an inspector reads the complainant: both paths are exercised.
        httpx.get(
            f"{base}/v1/complaints/{complaint_ids[-1]}", headers={"X-Tracking-Code": response.json()["tracking_code"]}
        )
        httpx.get(
            f"{base}/v1/complaints/{complaint_ids[-1]}/complainant",
            headers={"Authorization": f"Bearer {agency_token('inspector-130402')}"},
        )
        secrets += _secrets_of(body)
    # One bank card is shared by every complaint above; keep the list unique.
    secrets = sorted(set(secrets))

    import asyncio

    async def histories() -> list[str]:
        raw = await Client.connect(stack.temporal.address)  # no codec: as stored
        found: list[str] = []
        for complaint_id in complaint_ids:
            handle = raw.get_workflow_handle(complaint_workflow_id(complaint_id))
            for _ in range(120):
                try:
                    description = await handle.describe()
                    break
                except Exception:
                    await asyncio.sleep(0.5)
            else:
                raise AssertionError(f"workflow of {complaint_id} never started")
            found.append((await handle.fetch_history()).to_json())
            found.append(str(description.raw_description.workflow_execution_info.search_attributes))
            found.append(description.id)
        return found

    stored = asyncio.run(histories())

    consumer = KafkaConsumer(
        *Topics.all(),
        **client_options(stack.client_settings()),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=3000,
    )
    messages = [m for m in consumer]
    consumer.close()
    assert len(messages) >= COMPLAINTS

    time.sleep(1.5)  # let the processes flush their trace batches
    files = [p for folder in ("logs", "traces") for p in (stack.data_dir / folder).glob("*") if p.is_file()]
    assert files

    # The scan sees the real data: the complaints themselves are there, only their personal data is not.
    assert any(complaint_ids[0].encode() in (m.value or b"") for m in messages)
    assert any(complaint_ids[0] in text for text in stored)
    leaks: list[str] = []
    for secret in secrets:
        needle = secret.encode()
        leaks += [
            f"kafka {m.topic}@{m.offset}"
            for m in messages
            if needle in (m.value or b"") or needle in (m.key or b"") or any(needle in v for _, v in m.headers)
        ]
        leaks += [f"temporal history/search attributes ({secret[:2]}…)" for text in stored if secret in text]
        leaks += [f"file {Path(p).name}" for p in files if needle in Path(p).read_bytes()]
    assert leaks == []
