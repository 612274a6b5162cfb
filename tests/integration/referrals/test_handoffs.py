"""Department handoffs on the real stack: the case workflow hands a case off through the referrals API,
each department sees and answers only its own handoffs, and its answer flows back to the workflow."""

from __future__ import annotations

import base64
import hashlib

from services.contracts.lifecycle import CaseStage, ClosureReason, Status, VerificationOutcome
from tests.integration.referrals.conftest import (
    Agencies,
    case_status,
    compressed_config,
    events_of,
    start_case,
    verify,
)
from tests.support.agencies import wait_for


def handed_off_case(a: Agencies, department: str = "housing") -> tuple[dict, dict]:
    """A case the workflow has handed off to `department` (its handoff letter issued through the API)."""
    case = a.new_case()
    # Working days of 30 s: nothing on the ladder fires during these tests.
    start_case(a, case, compressed_config(30.0, response_days=10))
    verify(a, case["case_id"], VerificationOutcome.PROJECT_PAYMENT_DISPUTE, department=department)
    client = a.housing if department == "housing" else a.transport

    def handoff() -> dict | None:
        rows = client.get("/v1/handoffs", params={"case_id": case["case_id"]}).json()["items"]
        return rows[0] if rows else None

    return case, wait_for("the handoff in the department's inbox", handoff, timeout=60)


def test_a_department_cannot_read_or_answer_another_departments_handoffs(agencies: Agencies) -> None:
    a = agencies
    case, handoff = handed_off_case(a, "housing")
    hid = handoff["handoff_id"]
    assert handoff["department"] == "housing" and handoff["status"] == "sent" and handoff["due_date"]

    # Transport: not in its inbox, and every read or answer is 404 (the handoff's existence is not revealed).
    assert all(h["handoff_id"] != hid for h in a.transport.get("/v1/handoffs").json()["items"])
    assert a.transport.get(f"/v1/handoffs/{hid}").status_code == 404
    assert a.transport.post(f"/v1/handoffs/{hid}/acknowledgement").status_code == 404
    assert (
        a.transport.post(f"/v1/handoffs/{hid}/response", json={"outcome": "resolved", "summary": "已处理"}).status_code
        == 404
    )
    assert (
        a.transport.post(
            f"/v1/handoffs/{hid}/return", json={"reason": "not_competent", "explanation": "不归我们管"}
        ).status_code
        == 404
    )
    assert a.transport.get(f"/v1/letters/{handoff['letter_id']}/pdf").status_code == 404
    # The city office reads it but does not answer for the department; the police do not see it.
    assert a.city.get(f"/v1/handoffs/{hid}").status_code == 200
    assert a.city.post(f"/v1/handoffs/{hid}/acknowledgement").status_code == 403
    assert a.police.get(f"/v1/handoffs/{hid}").status_code == 404
    # Inspectors see their own county's handoffs only.
    assert a.inspector.get(f"/v1/handoffs/{hid}").status_code == 200
    assert a.other_inspector.get(f"/v1/handoffs/{hid}").status_code == 404
    assert a.transport.get(f"/v1/handoffs/{hid}").status_code == 404  # still nothing changed
    assert a.housing.get(f"/v1/handoffs/{hid}").json()["status"] == "sent"

    # Housing acknowledges (once), then responds with a file; the workflow takes the answer and closes.
    ack = a.housing.post(f"/v1/handoffs/{hid}/acknowledgement")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"
    assert a.housing.post(f"/v1/handoffs/{hid}/acknowledgement").status_code == 409
    scan = "办理结果：已督促建设单位支付工程款".encode()
    responded = a.housing.post(
        f"/v1/handoffs/{hid}/response",
        json={
            "outcome": "resolved",
            "summary": "已约谈建设单位，工程款已拨付至农民工工资专用账户",
            "files": [
                {
                    "name": "办理结果.pdf",
                    "media_type": "application/pdf",
                    "content_base64": base64.b64encode(scan).decode(),
                }
            ],
        },
    )
    assert responded.status_code == 200, responded.text
    body = responded.json()
    assert body["status"] == "responded" and body["outcome"] == "resolved"
    file = body["files"][0]
    assert file["sha256"] == hashlib.sha256(scan).hexdigest()
    download = a.city.get(f"/v1/handoffs/{hid}/files/{file['file_id']}")
    assert download.status_code == 200 and download.content == scan
    assert (
        a.housing.post(f"/v1/handoffs/{hid}/response", json={"outcome": "resolved", "summary": "再次答复"}).status_code
        == 409
    )

    status = wait_for(
        "the case closed on the department's answer",
        lambda: (s := case_status(a, case["case_id"])).status is not Status.OPEN and s,
    )
    assert status.stage is CaseStage.CLOSED and status.closure_reason is ClosureReason.HANDED_OFF
    assert any("工程款已拨付" in entry.text for entry in status.timeline)

    events = events_of(a, case["case_id"], lambda seen: "handoff.responded" in [e.type for e in seen])
    types = [e.type for e in events]
    assert (
        types.index("letter.issued")
        < types.index("handoff.sent")
        < types.index("handoff.acknowledged")
        < types.index("handoff.responded")
    )
    responded_event = next(e for e in events if e.type == "handoff.responded")
    assert responded_event.payload["outcome"] == "resolved" and responded_event.payload["files_count"] == 1
    assert "工程款" not in str(responded_event.payload)  # free text stays in the service


def test_a_returned_handoff_goes_back_to_the_workflow(agencies: Agencies) -> None:
    a = agencies
    case, handoff = handed_off_case(a, "transport")
    hid = handoff["handoff_id"]
    assert a.housing.get(f"/v1/handoffs/{hid}").status_code == 404
    bad = a.transport.post(f"/v1/handoffs/{hid}/return", json={"reason": "nonsense", "explanation": "x"})
    assert bad.status_code == 422
    returned = a.transport.post(
        f"/v1/handoffs/{hid}/return",
        json={"reason": "not_competent", "explanation": "该项目为市政工程，归住建部门监管"},
    )
    assert returned.status_code == 200, returned.text
    assert returned.json()["status"] == "returned" and returned.json()["return_reason"] == "not_competent"
    assert a.transport.post(f"/v1/handoffs/{hid}/acknowledgement").status_code == 409
    # The case is not closed: it goes back to verification, for the inspector to decide anew.
    status = wait_for(
        "the workflow heard the return",
        lambda: (s := case_status(a, case["case_id"])).stage is CaseStage.VERIFICATION and s,
    )
    assert status.status is Status.OPEN and status.outcome is None
    assert any("退回交办" in entry.text and "市政工程" in entry.text for entry in status.timeline)
    assert "handoff@1" in status.letters and "handoff" not in status.letters

    # Verified anew and handed to housing: a new handoff with its own letter, answered, and the case closes.
    verify(a, case["case_id"], VerificationOutcome.PROJECT_PAYMENT_DISPUTE, department="housing")
    second = wait_for(
        "the new handoff in housing's inbox",
        lambda: next(iter(a.housing.get("/v1/handoffs", params={"case_id": case["case_id"]}).json()["items"]), None),
        timeout=60,
    )
    assert second["handoff_id"] != hid and second["letter_id"] != handoff["letter_id"]
    assert a.transport.get(f"/v1/handoffs/{hid}").json()["status"] == "returned"
    answered = a.housing.post(
        f"/v1/handoffs/{second['handoff_id']}/response", json={"outcome": "resolved", "summary": "已督促拨付"}
    )
    assert answered.status_code == 200, answered.text
    status = wait_for(
        "the case closed on housing's answer",
        lambda: (s := case_status(a, case["case_id"])).status is not Status.OPEN and s,
    )
    assert status.closure_reason is ClosureReason.HANDED_OFF
    assert status.letters["handoff"] == second["letter_id"]
