"""A fast-track referral left unanswered past its same-day deadline climbs its ladder (the referrals
worker's follow-up workflow, on a compressed clock); the receiving body's answer stops it."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.integration.referrals.conftest import Agencies, events_of
from tests.support.agencies import wait_for
from tests.support.pdfs import pdf_words

WORKER = "referrals-worker"


@pytest.fixture
def compressed_worker(agencies: Agencies) -> Iterator[None]:
    """The referrals worker with one working day lasting 2 s; restored afterwards."""
    stack = agencies.stack
    spec = stack.spec(WORKER)
    spec.env["ANXIN_WORKING_DAY_SECONDS"] = "2"
    stack.stop_process(WORKER)
    stack.start_process(spec)
    stack.wait_process_ready(spec, timeout=60)
    try:
        yield
    finally:
        stack.stop_process(WORKER)
        normal = stack.spec(WORKER)
        stack.start_process(normal)
        stack.wait_process_ready(normal, timeout=60)


def test_an_unanswered_legal_aid_referral_is_followed_up_until_answered(
    agencies: Agencies, compressed_worker: None
) -> None:
    a = agencies
    case = a.new_case()
    case_id = case["case_id"]
    made = a.inspector.post(
        "/v1/fast-track-referrals",
        headers={"Idempotency-Key": f"fu-{case_id}"},
        json={"case_id": case_id, "target": "legal_aid", "basis": "农民工申请法律援助"},
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]

    def kinds() -> list[str]:
        return [x["kind"] for x in a.legal_aid.get(f"/v1/referrals/{rid}").json()["letters"]]

    # The same-day deadline passes unanswered: a reminder to the legal-aid centre.
    wait_for("the reminder", lambda: "reminder" in kinds(), timeout=60)
    letters = a.legal_aid.get(f"/v1/referrals/{rid}").json()["letters"]
    reminder = next(x for x in letters if x["kind"] == "reminder")
    pdf = a.legal_aid.get(f"/v1/letters/{reminder['letter_id']}/pdf").content
    text = pdf_words(pdf)
    for expected in (
        "催办函",
        "转介法律援助",
        letters[0]["document_number"],
        "邯郸市法律援助中心",
        case["employer_name"],
    ):
        assert expected in text, (expected, text)

    accepted = a.legal_aid.post(
        f"/v1/referrals/{rid}/decision", json={"decision": "accepted", "assigned_to": "LAW-13040-0042"}
    )
    assert accepted.status_code == 200, accepted.text
    # The supervision rung would have come 3 working days (6 s) after the reminder: it does not.
    time.sleep(10)
    assert kinds() == ["legal_aid_referral", "reminder"]

    events = events_of(a, case_id, lambda seen: any(e.type == "referral.decided" for e in seen))
    escalated = [e.payload for e in events if e.type == "referral.escalated"]
    assert [(p["kind"], p["target"]) for p in escalated] == [("reminder", "legal_aid")]
    decided = next(e.payload for e in events if e.type == "referral.decided")
    # Late is judged on the legal calendar (the end of today), which the compressed clock does not move.
    assert decided["assigned"] is True and decided["late"] is False


def test_a_police_referral_left_undecided_is_reminded_then_supervised_with_the_procuratorate_told(
    agencies: Agencies, compressed_worker: None
) -> None:
    """国务院令第310号 art. 8: the police decide within 3 days; unanswered, a reminder, then a supervision
    letter copied to the procuratorate (立案监督). (The police's answer goes to the case workflow, which this
    test does not run; an answer stopping the ladder is shown for legal aid above.)"""
    a = agencies
    case = a.new_case()
    case_id = case["case_id"]
    request = {
        "idempotency_key": f"police-{case_id}",
        "case_id": case_id,
        "county": case["county"],
        "employer_ref": case["employer_ref"],
        "target": "police",
        "unpaid_amount": "60000.00",
        "workers": 12,
        "basis": "达到数额较大标准；有能力支付而不支付；经本局负责人批准移送",
    }
    made = a.lifecycle.post("/v1/referrals", json=request, headers={"Idempotency-Key": request["idempotency_key"]})
    assert made.status_code == 201, made.text
    rid = made.json()["id"]

    def letters() -> list[dict]:
        return a.police.get(f"/v1/referrals/{rid}").json()["letters"]  # type: ignore[no-any-return]

    # 3 working days (6 s) unanswered: a reminder; 2 more (4 s): supervision, copied to the procuratorate.
    wait_for("the supervision letter", lambda: any(x["kind"] == "supervision" for x in letters()), timeout=90)
    assert [x["kind"] for x in letters()] == ["criminal_referral", "reminder", "supervision"]
    supervision = next(x for x in letters() if x["kind"] == "supervision")
    pdf = a.police.get(f"/v1/letters/{supervision['letter_id']}/pdf").content
    text = pdf_words(pdf)
    for expected in ("督办函", "邯郸市公安局", "作出立案或者不予立案的决定", "抄送", "邯郸市人民检察院"):
        assert expected in text, (expected, text)

    events = events_of(a, case_id, lambda seen: sum(e.type == "referral.escalated" for e in seen) >= 2)
    escalated = [(e.payload["kind"], e.payload["target"]) for e in events if e.type == "referral.escalated"]
    assert escalated == [("reminder", "police"), ("supervision", "police")]
