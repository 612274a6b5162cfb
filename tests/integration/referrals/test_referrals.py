"""Referrals on the real stack: the criminal referral package and the police's answer, which the case
workflow records; the procuratorate's early involvement as its own referral; the legal-aid green channel
and the arbitration fast track."""

from __future__ import annotations

import re

from services.contracts.lifecycle import (
    Evidence,
    EvidenceKind,
    PoliceDecision,
    ServiceMethod,
    ServiceRecord,
    Updates,
    VerificationOutcome,
    case_workflow_id,
)
from tests.integration.referrals.conftest import (
    Agencies,
    case_status,
    compressed_config,
    events_of,
    start_case,
    update_case,
    verify,
)
from tests.support.agencies import wait_for
from tests.support.pdfs import pdf_words
from tests.support.referral_approval import approve_referral


def referral_of(a: Agencies, client_name: str, case_id: str, timeout: float = 90) -> dict:
    client = getattr(a, client_name)

    def probe() -> dict | None:
        rows = client.get("/v1/referrals", params={"case_id": case_id}).json()["items"]
        return rows[0] if rows else None

    return wait_for(f"the {client_name} referral of {case_id}", probe, timeout)  # type: ignore[no-any-return]


def test_a_criminal_referral_records_the_polices_answer_and_the_workflow_takes_it(agencies: Agencies) -> None:
    a = agencies
    case = a.new_case(amount_owed="60000.00", workers_affected=12)
    case_id = case["case_id"]
    # Henan's threshold: 12 workers owed ¥60,000 is "数额较大"; the order gives one day to pay.
    start_case(a, case, compressed_config(1.0), amount="60000.00", workers=12, months=4)
    verify(a, case_id, VerificationOutcome.WAGE_ARREARS, confirmed_amount="60000.00", confirmed_workers=12)
    # The order to pay, issued by the cases service, reaches the referrals read model through Kafka.
    order_id = wait_for(
        "the order in the referrals read model",
        lambda: a.city.get("/v1/case-facts", params={"case_id": case_id}).json()["order_id"],
    )
    update_case(
        a,
        case_id,
        Updates.RECORD_SERVICE,
        ServiceRecord(
            method=ServiceMethod.IN_PERSON,
            served_by="inspector-130402",
            evidence=[Evidence(kind=EvidenceKind.RECEIPT, ref="ev-receipt-criminal")],
        ),
    )
    # At refusal the case team reports and the bureau head approves: only then does the referral go out.
    a.run(approve_referral(a.temporal().get_workflow_handle(case_workflow_id(case_id))))

    referral = referral_of(a, "police", case_id)
    rid = referral["referral_id"]
    assert referral["target"] == "police" and referral["status"] == "sent"
    assert referral["workers"] == 12 and referral["unpaid_amount"] == "60000.00"
    package = referral["package"]
    assert package["order"]["order_id"] == order_id and package["employer_name"] == case["employer_name"]
    assert package["evidence"] and "basis" in package and package["basis"]
    detail = a.police.get(f"/v1/referrals/{rid}").json()
    form = detail["letters"][0]
    assert form["kind"] == "criminal_referral" and re.fullmatch(r"邯人社移〔\d{4}〕\d+号", form["document_number"])
    pdf = a.police.get(f"/v1/letters/{form['letter_id']}/pdf").content
    text = pdf_words(pdf)
    for expected in (
        "涉嫌拒不支付劳动报酬犯罪案件移送书",
        form["document_number"],
        case["employer_name"],
        "60,000.00",
        order_id,
        "邯郸市公安局",
        "案件材料清单",
    ):
        assert expected in text, (expected, text)

    # Only the police answer it; others do not even see it.
    assert a.housing.get(f"/v1/referrals/{rid}").status_code == 404
    assert a.legal_aid.post(f"/v1/referrals/{rid}/decision", json={"decision": "accepted"}).status_code == 404
    assert a.city.post(f"/v1/referrals/{rid}/decision", json={"decision": "accepted"}).status_code == 403
    no_reasons = a.police.post(f"/v1/referrals/{rid}/decision", json={"decision": "declined"})
    assert no_reasons.status_code == 422

    opened = a.police.post(
        f"/v1/referrals/{rid}/decision", json={"decision": "accepted", "decision_ref": "邯公经立字〔2026〕12号"}
    )
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "accepted" and opened.json()["decided_by"] == "police"
    again = a.police.post(
        f"/v1/referrals/{rid}/decision", json={"decision": "declined", "decline_reason": "other", "reasons": "改变主意"}
    )
    assert again.status_code == 409

    # The workflow took the decision: a criminal case is open (payment now no longer withdraws the referral).
    status = case_status(a, case_id)
    assert status.police_decision is PoliceDecision.CASE_OPENED
    assert any("公安机关已立案" in e.text and "邯公经立字" in e.text for e in status.timeline)
    # Once accepted, the lifecycle can no longer withdraw it.
    withdrawal = a.lifecycle.post(
        f"/v1/referrals/{rid}/withdrawal",
        headers={"Idempotency-Key": "w-" + rid},
        json={"idempotency_key": "w-" + rid, "case_id": case_id, "referral_id": rid, "reason": "已足额支付"},
    )
    assert withdrawal.status_code == 409

    # Early involvement of the procuratorate: its own referral, naming the police referral, with its reply.
    early = referral_of(a, "procuratorate", case_id)
    assert early["target"] == "procuratorate" and early["related_referral_id"] == rid
    assert a.police.get(f"/v1/referrals/{early['referral_id']}").status_code == 404
    reply = a.procuratorate.post(
        f"/v1/referrals/{early['referral_id']}/decision",
        json={"decision": "accepted", "decision_ref": "邯检四函〔2026〕3号"},
    )
    assert reply.status_code == 200 and reply.json()["status"] == "accepted"

    events = events_of(a, case_id, lambda seen: sum(e.type == "referral.decided" for e in seen) >= 2)
    made = [e.payload["target"] for e in events if e.type == "referral.made"]
    decided = [(e.payload["target"], e.payload["decision"]) for e in events if e.type == "referral.decided"]
    assert made == ["police", "procuratorate"]
    assert decided == [("police", "accepted"), ("procuratorate", "accepted")]


def test_fast_tracks_legal_aid_same_day_and_arbitration(agencies: Agencies) -> None:
    a = agencies
    case = a.new_case()
    case_id = case["case_id"]
    body = {"case_id": case_id, "target": "legal_aid", "basis": "农民工申请法律援助，追索劳动报酬"}
    made = a.inspector.post("/v1/fast-track-referrals", json=body, headers={"Idempotency-Key": f"la-{case_id}"})
    assert made.status_code == 201, made.text
    repeat = a.inspector.post("/v1/fast-track-referrals", json=body, headers={"Idempotency-Key": f"la-{case_id}"})
    assert repeat.status_code == 200 and repeat.json() == made.json()
    assert (
        a.other_inspector.post(
            "/v1/fast-track-referrals", json=body, headers={"Idempotency-Key": f"la2-{case_id}"}
        ).status_code
        == 404
    )
    assert (
        a.inspector.post(
            "/v1/fast-track-referrals", json={**body, "target": "police"}, headers={"Idempotency-Key": f"lp-{case_id}"}
        ).status_code
        == 422
    )
    rid = made.json()["id"]
    referral = a.legal_aid.get(f"/v1/referrals/{rid}").json()
    # Green channel: due by the end of the (working) day it was made.
    assert referral["due_date"] is not None and referral["due_at"].startswith(referral["due_date"][:4])
    assert referral["letters"][0]["kind"] == "legal_aid_referral"
    unassigned = a.legal_aid.post(f"/v1/referrals/{rid}/decision", json={"decision": "accepted"})
    assert unassigned.status_code == 409 and "指派" in unassigned.json()["detail"]
    accepted = a.legal_aid.post(
        f"/v1/referrals/{rid}/decision", json={"decision": "accepted", "assigned_to": "LAW-13040-0021"}
    )
    assert accepted.status_code == 200 and accepted.json()["assigned_to"] == "LAW-13040-0021"

    # A labour dispute: the case workflow refers it to arbitration's fast track through POST /v1/referrals.
    other = a.new_case()
    start_case(a, other, compressed_config(30.0))
    verify(a, other["case_id"], VerificationOutcome.LABOUR_DISPUTE)
    arbitration = referral_of(a, "arbitration", other["case_id"], timeout=60)
    assert arbitration["target"] == "arbitration" and arbitration["created_by"] == "lifecycle"
    answered = a.arbitration.post(
        f"/v1/referrals/{arbitration['referral_id']}/decision",
        json={"decision": "accepted", "decision_ref": "邯劳人仲速字〔2026〕7号"},
    )
    assert answered.status_code == 200
    assert case_status(a, other["case_id"]).referrals["arbitration"] == arbitration["referral_id"]


def test_wages_paid_after_a_criminal_referral_reach_the_police_as_a_supplementary_notice(agencies: Agencies) -> None:
    a = agencies
    case = a.new_case()
    case_id = case["case_id"]
    made = a.lifecycle.post(
        "/v1/referrals",
        headers={"Idempotency-Key": f"sp-{case_id}"},
        json={
            "idempotency_key": f"sp-{case_id}",
            "case_id": case_id,
            "county": case["county"],
            "employer_ref": case["employer_ref"],
            "target": "police",
            "unpaid_amount": "60000.00",
            "workers": 12,
            "basis": "达到数额较大标准；以逃匿方式逃避支付；经本局负责人批准移送",
        },
    )
    assert made.status_code == 201, made.text
    rid = made.json()["id"]
    body = {
        "idempotency_key": f"case:{case_id}:referral.supplement",
        "case_id": case_id,
        "referral_id": rid,
        "amount_paid": "60000.00",
        "payment_ids": ["pay-1"],
        "evidence": [{"kind": "bank_record", "ref": "b-1"}],
    }
    headers = {"Idempotency-Key": body["idempotency_key"]}
    first = a.lifecycle.post(f"/v1/referrals/{rid}/supplements", json=body, headers=headers)
    assert first.status_code == 201, first.text
    again = a.lifecycle.post(f"/v1/referrals/{rid}/supplements", json=body, headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert a.police.post(f"/v1/referrals/{rid}/supplements", json=body, headers=headers).status_code == 403

    letters = a.police.get(f"/v1/referrals/{rid}").json()["letters"]
    notice = next(x for x in letters if x["kind"] == "supplementary_notice")
    assert notice["letter_id"] == first.json()["id"] and notice["document_number"].startswith("邯人社补")
    pdf = a.police.get(f"/v1/letters/{notice['letter_id']}/pdf").content
    text = pdf_words(pdf)
    for expected in ("补充材料函", "60,000.00", "pay-1", "加付赔偿金决定仍应履行", "邯郸市公安局"):
        assert expected in text, (expected, text)
    events = events_of(a, case_id, lambda seen: any(e.type == "referral.supplemented" for e in seen))
    supplemented = next(e.payload for e in events if e.type == "referral.supplemented")
    assert supplemented["referral_id"] == rid and supplemented["letter_id"] == notice["letter_id"]
