"""`anxin case show` on a case that went through everything at once, on the real stack and a compressed
clock: a complaint accepted, the case handed off to housing as a project payment dispute, housing returns
it, the inspector verifies wage arrears, the order to pay is served and its deadline passes unpaid, and the
police are referred the case. The operator's command (the real CLI, as a subprocess) must tell it in order."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import httpx

from deploy.stack import Stack
from services.contracts.lifecycle import (
    Evidence,
    EvidenceKind,
    ServiceMethod,
    ServiceRecord,
    Updates,
    VerificationOutcome,
    VerificationResult,
    case_workflow_id,
)
from tests.integration.test_lifecycle_refusal import _until, compressed_case
from tests.support.referral_approval import approve_referral


async def test_case_show_tells_a_handoff_its_return_and_a_refusal_in_order(
    stack: Stack, agency_token: Callable[[str], str]
) -> None:
    started = time.monotonic()
    client, case_id, complaint_id = await compressed_case(stack, agency_token, "邯郸市全程测试建筑有限公司", "S")
    case = client.get_workflow_handle(case_workflow_id(case_id))

    # Verified as a project payment dispute: handed off to housing, which returns it as not its own.
    await case.execute_update(
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.PROJECT_PAYMENT_DISPUTE, verified_by="inspector-130402", department="housing"
        ),
    )
    housing = httpx.Client(
        base_url=stack.processes["referrals-api"].url,
        timeout=30,
        headers={"Authorization": f"Bearer {agency_token('dept-housing')}"},
    )
    deadline = time.monotonic() + 60
    while not (handoffs := housing.get("/v1/handoffs", params={"case_id": case_id}).json()["items"]):
        assert time.monotonic() < deadline, "the handoff never reached housing"
        await asyncio.sleep(0.4)
    returned = housing.post(
        f"/v1/handoffs/{handoffs[0]['handoff_id']}/return",
        json={"reason": "not_competent", "explanation": "欠薪问题，不属于工程款纠纷"},
    )
    assert returned.status_code == 200, returned.text
    await _until(
        client,
        case_workflow_id(case_id),
        lambda s: s["stage"] == "verification" and "handoff@1" in s["letters"],
        60,
        "the return",
    )

    # Verified anew as wage arrears: the order to pay, served by posting, its deadline passes unpaid.
    await case.execute_update(
        Updates.RECORD_VERIFICATION,
        VerificationResult(
            outcome=VerificationOutcome.WAGE_ARREARS,
            verified_by="inspector-130402",
            confirmed_amount=Decimal("96000"),
            confirmed_workers=12,
        ),
    )
    await _until(
        client, case_workflow_id(case_id), lambda s: s["stage"] == "service" and s["order_id"], 60, "the order to pay"
    )
    await case.execute_update(
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.POSTING,
            served_by="inspector-130402",
            evidence=[Evidence(kind=EvidenceKind.PHOTO, ref="p")],
        ),
    )
    await approve_referral(client.get_workflow_handle(case_workflow_id(case_id)))
    await _until(client, case_workflow_id(case_id), lambda s: "police" in s["referrals"], 120, "the police referral")

    anxin = Path(sys.executable).parent / "anxin"
    result = subprocess.run(
        [str(anxin), "case", "show", case_id],
        env={
            "ANXIN_DATA_DIR": str(stack.data_dir),
            "TEMPORAL_ADDRESS": stack.temporal.address,
            "KAFKA_BOOTSTRAP_SERVERS": stack.kafka.bootstrap_servers,
            "PATH": "/usr/bin:/bin",
            "COLUMNS": "400",
            "HOME": os.environ.get("HOME", "/tmp"),
        },
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    chapters = [
        ("the complaint", f"收到投诉 {complaint_id}"),
        ("its acceptance", "已受理（承办人 inspector-130402）"),
        ("the handoff and its letter", "向 housing 发出交办函（LTR-"),
        ("the return", "housing 退回交办"),
        ("the order to pay", "下达限期改正指令书（ORDER-"),
        ("the refusal", "未支付（拒不支付）"),
        ("the referral report", "提交涉嫌犯罪案件移送报告"),
        ("the head's approval", "批准移送公安机关"),
        ("the police referral", "移送公安机关（REF-"),
        ("what it waits for now", "waiting for: deadline investigation.limit"),
    ]
    found = []
    for what, marker in chapters:
        at = next((n for n, line in enumerate(lines) if marker in line), None)
        assert at is not None, f"{what} is missing from the story:\n{result.stdout}"
        found.append((at, what))
    assert [what for _, what in sorted(found)] == [what for what, _ in chapters], result.stdout
    # The events on Kafka are in it too: the complaint's case opened, the letter issued and the handoff returned.
    for event in (
        "case.opened (from cases)",
        "letter.issued (from referrals)",
        "handoff.returned (from referrals)",
        "referral.made (from referrals)",
    ):
        assert event in result.stdout
    assert time.monotonic() - started < 120
