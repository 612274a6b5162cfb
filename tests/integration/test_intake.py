"""Intake on the real stack: a complaint filed through the API reaches its workflow and the event stream,
also when Kafka is down at the time; idempotency, validation, abuse limits, the worker's pages, posters
and clue import."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pytest
from kafka import KafkaConsumer
from stdnum.cn import uscc
from temporalio.client import WorkflowExecutionStatus

from deploy.stack import Stack
from services.common.kafka import client_options
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.events import Topics
from services.contracts.lifecycle import complaint_workflow_id
from tests.support.identities import sample_id_number

PROCESSES = ["intake-api", "intake-relay", "intake-worker", "lifecycle-worker"]


def make_id_number(seed: int) -> str:
    return sample_id_number(seed)


def make_phone(seed: int) -> str:
    return f"139{seed % 100000000:08d}"


def make_credit_code(seed: int) -> str:
    body = f"91130400MA{seed % 10**7:07d}"
    return body + uscc.calc_check_digit(body)


def complaint(seed: int, **overrides: Any) -> dict[str, Any]:
    body = {
        "worker_name": "测试工人",
        "id_number": make_id_number(seed),
        "phone": make_phone(seed),
        "employer_name": f"邯郸市测试建筑劳务有限公司{seed}",
        "employer_credit_code": make_credit_code(seed),
        "project_name": "丛台区测试安置房项目",
        "county_code": "130402",
        "period_start": "2026-06-01",
        "period_end": "2026-09-30",
        "amount_owed": "18600.00",
        "workers_affected": 3,
        "description": "六月到九月在该项目做钢筋工，工资一直没有发放。",
    }
    body.update(overrides)
    return body


@pytest.fixture(scope="module")
def intake(stack: Stack) -> Stack:
    stack.start_processes(PROCESSES, timeout=120)
    return stack


@pytest.fixture(scope="module")
def clerk(intake: Stack, agency_token: Callable[[str], str]) -> httpx.Client:
    client = httpx.Client(
        base_url=intake.processes["intake-api"].url,
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    )
    return client


@pytest.fixture(scope="module")
def city(intake: Stack, agency_token: Callable[[str], str]) -> httpx.Client:
    return httpx.Client(
        base_url=intake.processes["intake-api"].url,
        headers={"Authorization": f"Bearer {agency_token('city-office')}"},
        timeout=30,
    )


def _seed() -> int:
    return uuid.uuid4().int % 10**7


async def _wait_for_workflow(settings: CommonSettings, complaint_id: str, timeout: float = 60) -> None:
    client = await connect(settings)
    handle = client.get_workflow_handle(complaint_workflow_id(complaint_id))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            description = await handle.describe()
            assert description.status == WorkflowExecutionStatus.RUNNING
            return
        except Exception:
            await asyncio.sleep(0.5)
    raise AssertionError(f"workflow for {complaint_id} never started")


def _events_for(settings: CommonSettings, complaint_id: str, timeout: float = 30) -> list[dict[str, Any]]:
    consumer = KafkaConsumer(
        Topics.INTAKE_COMPLAINTS,
        **client_options(settings),
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        group_id=None,
        consumer_timeout_ms=2000,
    )
    found: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and not found:
            for message in consumer:
                if message.key == complaint_id.encode():
                    found.append({"value": message.value, "headers": dict(message.headers)})
    finally:
        consumer.close()
    return found


async def test_a_complaint_reaches_its_workflow_and_the_event_stream_without_personal_data(
    clerk: httpx.Client, settings: CommonSettings
) -> None:
    body = complaint(_seed())
    response = clerk.post("/v1/complaints", json=body)
    assert response.status_code == 201, response.text
    filed = response.json()
    assert filed["complaint_id"].startswith("TS-") and len(filed["tracking_code"]) == 9

    await _wait_for_workflow(settings, filed["complaint_id"])

    events = _events_for(settings, filed["complaint_id"])
    assert len(events) >= 1
    raw = events[0]["value"]
    event = json.loads(raw)
    assert event["type"] == "complaint.submitted" and event["payload"]["complaint_id"] == filed["complaint_id"]
    for secret in (body["id_number"], body["phone"], body["worker_name"]):
        assert secret.encode() not in raw
    assert event["payload"]["phone_masked"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert "traceparent" in events[0]["headers"]

    status = httpx.get(
        f"{clerk.base_url}/v1/complaints/{filed['complaint_id']}", headers={"X-Tracking-Code": filed["tracking_code"]}
    )
    assert status.status_code == 200
    assert status.json()["stage"] in ("awaiting_acceptance", "received")
    wrong = httpx.get(
        f"{clerk.base_url}/v1/complaints/{filed['complaint_id']}", headers={"X-Tracking-Code": "XXXX-XXXX"}
    )
    assert wrong.status_code == 404


async def test_kafka_down_during_submission_then_back_loses_nothing(
    intake: Stack, clerk: httpx.Client, settings: CommonSettings
) -> None:
    intake.kafka.stop()
    try:
        response = clerk.post("/v1/complaints", json=complaint(_seed()))
        assert response.status_code == 201, "the worker is answered even with Kafka away"
        complaint_id = response.json()["complaint_id"]
        with psycopg.connect(intake.postgres.service_url("intake"), options="-c search_path=intake") as conn:
            row = conn.execute("SELECT sent_at FROM outbox WHERE message_key = %s", (complaint_id,)).fetchone()
        assert row is not None and row[0] is None, "the event waits in the outbox"
    finally:
        intake.kafka.start()
        intake.kafka.wait_ready(timeout=120)
    await _wait_for_workflow(settings, complaint_id, timeout=120)


def test_a_repeated_idempotency_key_returns_the_first_complaint(clerk: httpx.Client, intake: Stack) -> None:
    body = complaint(_seed())
    key = str(uuid.uuid4())
    first = clerk.post("/v1/complaints", json=body, headers={"Idempotency-Key": key})
    again = clerk.post("/v1/complaints", json=body, headers={"Idempotency-Key": key})
    assert first.status_code == 201 and again.status_code == 200
    assert again.json() == first.json()
    with psycopg.connect(intake.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        count = conn.execute(
            "SELECT count(*) FROM complaints WHERE person_ref = (SELECT person_ref FROM complaints WHERE complaint_id = %s)",
            (first.json()["complaint_id"],),
        ).fetchone()
    assert count is not None and count[0] == 1
    other = clerk.post("/v1/complaints", json={**body, "amount_owed": "1.00"}, headers={"Idempotency-Key": key})
    assert other.status_code == 422
    assert other.headers["content-type"] == "application/problem+json"


def test_invalid_fields_are_named_and_nothing_is_written(clerk: httpx.Client, intake: Stack) -> None:
    body = complaint(_seed())
    bad_id = body["id_number"][:-1] + ("0" if body["id_number"][-1] != "0" else "1")
    with psycopg.connect(intake.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        before = conn.execute("SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM outbox)").fetchone()
    response = clerk.post(
        "/v1/complaints",
        json={
            **body,
            "id_number": bad_id,
            "phone": "1234",
            "amount_owed": "-5",
            "county_code": "999999",
            "employer_credit_code": "91130400MA00000000",
            "period_end": "2099-01-01",
        },
    )
    assert response.status_code == 422
    problem = response.json()
    fields = {e["field"] for e in problem["errors"]}
    assert {"id_number", "phone", "amount_owed", "county_code", "employer_credit_code", "period_end"} <= fields
    with psycopg.connect(intake.postgres.service_url("intake"), options="-c search_path=intake") as conn:
        after = conn.execute("SELECT (SELECT count(*) FROM complaints), (SELECT count(*) FROM outbox)").fetchone()
    assert before == after


def test_out_of_county_clerk_and_missing_token_are_refused(clerk: httpx.Client) -> None:
    assert clerk.post("/v1/complaints", json=complaint(_seed(), county_code="130404")).status_code == 403
    assert httpx.post(f"{clerk.base_url}/v1/complaints", json=complaint(_seed())).status_code == 401


def test_too_many_complaints_from_one_phone_get_429_with_retry_after(clerk: httpx.Client) -> None:
    seed = _seed()
    statuses = [
        clerk.post("/v1/complaints", json=complaint(seed + i, phone=make_phone(seed))).status_code for i in range(6)
    ]
    assert statuses[:5] == [201] * 5
    refused = clerk.post("/v1/complaints", json=complaint(seed + 9, phone=make_phone(seed)))
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0


def test_site_poster_and_the_form_from_its_qr_link(clerk: httpx.Client) -> None:
    site_id = f"HD-{uuid.uuid4().hex[:8]}"
    registered = clerk.put(
        f"/v1/sites/{site_id}",
        json={
            "site_id": site_id,
            "name": "邯山区测试安置房项目",
            "county_code": "130402",
            "address": "邯山区测试路1号",
            "general_contractor": "测试建工集团有限公司",
        },
    )
    assert registered.status_code == 200, registered.text
    assert registered.json()["form_url"].endswith(f"/?site={site_id}")
    png = httpx.get(f"{clerk.base_url}/v1/sites/{site_id}/poster.png")
    pdf = httpx.get(f"{clerk.base_url}/v1/sites/{site_id}/poster.pdf")
    assert png.content.startswith(b"\x89PNG") and pdf.content.startswith(b"%PDF")

    page = httpx.get(f"{clerk.base_url}/?site={site_id}")
    assert page.status_code == 200 and "邯山区测试安置房项目" in page.text
    assert "content-security-policy" in page.headers
    seed = _seed()
    form = {k: str(v) for k, v in complaint(seed).items() if k not in ("county_code", "project_name")}
    form["site_id"] = site_id
    submitted = httpx.post(
        f"{clerk.base_url}/form", data=form, files={"evidence": ("iou.png", png.content, "image/png")}
    )
    assert submitted.status_code == 201, submitted.text
    assert "查询码" in submitted.text and "TS-" in submitted.text
    invalid = httpx.post(f"{clerk.base_url}/form", data={**form, "phone": "12"})
    assert invalid.status_code == 422 and "手机号码" in invalid.text and form["worker_name"] in invalid.text


def test_clue_import_reports_each_row_and_catches_duplicates(city: httpx.Client) -> None:
    seed = _seed()
    rows = [
        complaint(seed),
        complaint(seed + 1),
        complaint(seed, description="同一条线索再次导入，应识别为重复。"),
        complaint(seed + 2, phone="12"),
    ]
    # The third row is the first clue again (same worker, employer, project, period).
    rows[2] = {**rows[0]}
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\nnot json\n"
    response = city.post(
        "/v1/clues/import",
        files={"file": ("clues.jsonl", lines.encode(), "application/x-ndjson")},
        data={"source": "national-platform"},
    )
    assert response.status_code == 200, response.text
    result = response.json()
    assert [r["result"] for r in result["results"]] == ["filed", "filed", "duplicate", "invalid", "invalid"]
    assert result["results"][2]["complaint_id"] == result["results"][0]["complaint_id"]
    again = city.post("/v1/clues/import", files={"file": ("clues.jsonl", lines.encode(), "application/x-ndjson")})
    assert [r["result"] for r in again.json()["results"]][:3] == ["duplicate", "duplicate", "duplicate"]


def test_the_command_line_imports_clues_with_progress(intake: Stack, city: httpx.Client, tmp_path: Any) -> None:
    import csv
    from pathlib import Path

    from tests.support.operator_cli import anxin

    seed = _seed()
    url = intake.processes["intake-api"].url
    clues = Path(tmp_path) / "clues.jsonl"
    clues.write_text(
        "\n".join(json.dumps(complaint(seed + i), ensure_ascii=False) for i in range(5)) + "\n", encoding="utf-8"
    )
    result = anxin(intake, "clues", "import", str(clues), "--url", url, "--batch", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "filed=5" in result.stdout

    # A CSV whose descriptions run over several lines, in batches of two records: each description arrives
    # whole, and the invalid record is named by its number in the file.
    multi_line = "第一行：六月到九月在该项目做钢筋工，\n第二行：工资一直没有发放，\n第三行：包工头说等结算。"
    rows = [complaint(seed + 10 + i, description=multi_line) for i in range(4)] + [complaint(seed + 20, phone="12")]
    table = Path(tmp_path) / "clues.csv"
    with table.open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    result = anxin(intake, "clues", "import", str(table), "--url", url, "--batch", "2")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "filed=4" in result.stdout and "invalid=1" in result.stdout
    assert "row 5: invalid" in result.stdout
    # The same file sent whole: the four clues were filed as themselves (each now a duplicate).
    again = city.post("/v1/clues/import", files={"file": ("clues.csv", table.read_bytes(), "text/csv")})
    assert [r["result"] for r in again.json()["results"]] == ["duplicate"] * 4 + ["invalid"]


def test_personal_data_reads_are_scoped_masked_and_audited(
    intake: Stack, clerk: httpx.Client, city: httpx.Client, agency_token: Callable[[str], str]
) -> None:
    body = complaint(_seed())
    complaint_id = clerk.post("/v1/complaints", json=body).json()["complaint_id"]
    base = intake.processes["intake-api"].url

    def read(client_id: str, **headers: str) -> httpx.Response:
        return httpx.get(
            f"{base}/v1/complaints/{complaint_id}/complainant",
            headers={"Authorization": f"Bearer {agency_token(client_id)}", **headers},
        )

    inspector = read("inspector-130402", **{"Read-Reason": quote("回访核对电话")})
    assert inspector.status_code == 200 and inspector.json()["phone"] == body["phone"]
    masked = read("clerk-130402").json()
    assert masked["masked"] and masked["phone"] == body["phone"][:3] + "****" + body["phone"][-4:]
    assert body["id_number"] not in json.dumps(masked)
    assert read("inspector-130403").status_code == 404
    assert read("police").status_code == 403

    trail = city.get("/v1/audit", params={"subject": complaint_id}).json()["items"]
    actions = [(e["actor"], e["action"]) for e in trail]
    assert ("clerk-130402", "complaint.filed") in actions
    assert ("inspector-130402", "complainant.read") in actions and ("clerk-130402", "complainant.read") in actions
    # The reason given with a read is kept in its row; a read without one has none.
    details = {e["actor"]: e["detail"] for e in trail if e["action"] == "complainant.read"}
    assert details["inspector-130402"] == {"clear": True, "reason": "回访核对电话"}
    assert details["clerk-130402"] == {"clear": False}
    assert all(body["phone"] not in json.dumps(e) for e in trail)
    assert clerk.get("/v1/audit").status_code == 403
    with (
        psycopg.connect(intake.postgres.service_url("intake"), options="-c search_path=intake") as conn,
        pytest.raises(psycopg.errors.RaiseException),
    ):
        conn.execute("DELETE FROM audit_log WHERE subject = %s", (complaint_id,))
