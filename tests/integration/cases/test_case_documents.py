"""The case's documents on the real stack: a case verified as wage arrears gets its order to pay from the
process; the case lists it (and the compensation decision and notice the lifecycle records for it) and each
reads as a PDF with the figures its request holds and nothing of the worker; another county's inspector gets the
same 404 as for a document that does not exist."""

from __future__ import annotations

import uuid

import psycopg

from services.cases.record_store import CASE_DOCUMENTS
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.factories import seed
from tests.support.pdfs import pdf_words


def test_the_order_to_pay_is_listed_and_reads_as_a_pdf_within_the_case_scope(agencies: Agencies) -> None:
    a = agencies
    body = complaint_body(seed(), amount_owed="18000.00", workers_affected=3)
    _, case_id = a.accepted_case(body)
    verified = a.act(
        a.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "wage_arrears", "confirmed_amount": "18000.00", "confirmed_workers": 3},
    )
    assert verified.status_code == 200, verified.text
    case = a.case_until(
        case_id,
        lambda c: bool(c["processes"]) and bool(c["processes"][0]["order_id"]),
        "the order to pay issued",
        timeout=90,
    )
    order_id = case["processes"][0]["order_id"]
    process_case_id = case["processes"][0]["process_case_id"]

    listed = a.inspector.get(f"/v1/cases/{case_id}/documents")
    assert listed.status_code == 200, listed.text
    documents = {d["document_id"]: d for d in listed.json()["documents"]}
    order = documents[order_id]
    assert order["kind"] == "order" and order["title"] == "限期改正指令书"
    assert order["pdf_url"] == f"/v1/documents/{order_id}.pdf" and order["created_at"]

    pdf = a.inspector.get(order["pdf_url"])
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.content.startswith(b"%PDF")
    text = pdf_words(pdf.content)
    assert "限期改正指令书" in text and "18000.00" in text and order_id in text
    assert body["employer_name"] in text and "劳动合同法》第八十五条" in text
    for personal in (body["worker_name"], body["id_number"], body["phone"]):
        assert personal not in text

    # Another county: the case, its list and its document are the same 404 as what does not exist.
    missing = a.other_inspector.get("/v1/documents/ORDER-20260101-NOSUCHDOC.pdf")
    theirs = a.other_inspector.get(order["pdf_url"])
    assert missing.status_code == theirs.status_code == 404
    assert theirs.json()["title"] == missing.json()["title"] and b"%PDF" not in theirs.content
    assert a.other_inspector.get(f"/v1/cases/{case_id}/documents").status_code == 404
    assert a.city.get(order["pdf_url"]).status_code == 200
    assert a.anonymous.get(order["pdf_url"]).status_code == 401

    # The compensation decision and a notice the lifecycle records for the same process are the case's too.
    tag = uuid.uuid4().hex[:8]
    key = f"case:{process_case_id}:{tag}:compensation"
    decided = a.lifecycle.post(
        "/v1/compensation-decisions",
        headers={"Idempotency-Key": key},
        json={
            "idempotency_key": key,
            "case_id": process_case_id,
            "county": "130402",
            "employer_ref": case["employer_ref"],
            "unpaid_amount": "18000.00",
            "rate": "0.5",
        },
    )
    assert decided.status_code == 201, decided.text
    key = f"case:{process_case_id}:{tag}:notice"
    noticed = a.lifecycle.post(
        "/v1/notices",
        headers={"Idempotency-Key": key},
        json={
            "idempotency_key": key,
            "subject": f"case:{process_case_id}",
            "county": "130402",
            "office": "inspector",
            "kind": "refusal.review",
            "text": f"案件 {process_case_id}：请复核是否移送",
        },
    )
    assert noticed.status_code == 201, noticed.text

    listed = a.inspector.get(f"/v1/cases/{case_id}/documents").json()["documents"]
    kinds = {d["document_id"]: (d["kind"], d["title"]) for d in listed}
    assert kinds[decided.json()["id"]] == ("compensation_decision", "加付赔偿金决定书")
    assert kinds[noticed.json()["id"]] == ("notice", "工作通知（致承办劳动保障监察员）")
    ids = [d["document_id"] for d in listed]
    assert ids.index(order_id) < ids.index(decided.json()["id"]) < ids.index(noticed.json()["id"])  # oldest first

    decision = pdf_words(a.inspector.get(f"/v1/documents/{decided.json()['id']}.pdf").content)
    assert "加付赔偿金决定书" in decision and "9000.00" in decision and "50%" in decision
    notice = pdf_words(a.inspector.get(f"/v1/documents/{noticed.json()['id']}.pdf").content)
    assert "请复核是否移送" in notice
    assert a.other_inspector.get(f"/v1/documents/{noticed.json()['id']}.pdf").status_code == 404


def test_a_case_documents_are_found_by_their_indexes(agencies: Agencies) -> None:
    """The list's two halves match the partial indexes of migration 0010 (with sequential scans ruled out, the
    plan names both), so a case page reads its own documents, not every process report of every case."""
    with psycopg.connect(agencies.stack.postgres.service_url("cases")) as conn:
        conn.execute("SET search_path TO cases")
        conn.execute("SET enable_seqscan = off")
        plan = "\n".join(row[0] for row in conn.execute("EXPLAIN " + CASE_DOCUMENTS, {"case": "C-NO-SUCH-CASE"}))
    assert "documents_case_workflow" in plan and "documents_notice_subject" in plan, plan
