"""Employer identity: complaints naming one employer once by credit code and once by name alone meet in one
case, learnt from complaints that gave both or linked by an inspector (intake's employer register)."""

from __future__ import annotations

from collections.abc import Callable

import psycopg

from tests.integration.cases.conftest import Agencies, complaint_body
from tests.support.agencies import agency_clients
from tests.support.factories import credit_code, seed


def test_a_name_alone_joins_the_case_of_the_credit_code_its_county_knows_for_it(agencies: Agencies) -> None:
    a = agencies
    s = seed()
    by_code = a.file(complaint_body(s))
    body = complaint_body(s, employer_credit_code="")
    # Another spelling of the same name (the legal form written out): the same normalised name.
    body["employer_name"] = body["employer_name"].replace("有限公司", "有限责任公司")
    by_name = a.file(body)
    first, second = a.in_ledger(by_code), a.in_ledger(by_name)
    assert second["case_id"] == first["case_id"] and second["process_case_id"] == first["process_case_id"]
    case = a.case_until(first["case_id"], lambda c: c["complaint_count"] == 2, "both complaints in one case")
    assert case["employer_credit_code"] == credit_code(s)
    # Another county does not know the name: there it stays its own employer.
    elsewhere = a.file(complaint_body(s, county="130403", employer_credit_code=""))
    assert a.in_ledger(elsewhere)["case_id"] != first["case_id"]


def test_an_inspector_links_a_name_to_a_credit_code_and_later_complaints_join_its_case(
    agencies: Agencies, agency_token: Callable[[str], str]
) -> None:
    a = agencies
    client = agency_clients(a.stack, agency_token)
    inspector, other, clerk = (
        client("intake-api", who) for who in ("inspector-130402", "inspector-130403", "clerk-130402")
    )
    s = seed()
    body = complaint_body(s, employer_credit_code="")
    name, code = body["employer_name"], credit_code(s)
    before = a.in_ledger(a.file(body))["case_id"]
    known = clerk.get("/v1/employers/identity", params={"name": name}).json()
    assert (known["basis"], known["credit_code"], known["learnt_credit_codes"]) == ("name", None, [])

    link = {"employer_name": name, "credit_code": code, "reason": "企业信用信息公示系统：同一登记主体"}
    created = inspector.post("/v1/employers/links", json=link)
    assert created.status_code == 201, created.text
    assert created.json()["employer_ref"] == f"E-{code}" and created.json()["name_ref"].startswith("E-N")
    again = inspector.post("/v1/employers/links", json=link)
    assert again.status_code == 200 and again.json() == created.json()
    moved = inspector.post("/v1/employers/links", json={**link, "credit_code": credit_code(s + 1)})
    assert moved.status_code == 409 and moved.headers["content-type"] == "application/problem+json"
    assert moved.json()["credit_code"] == code
    assert other.post("/v1/employers/links", json={**link, "county_code": "130402"}).status_code == 403
    assert clerk.post("/v1/employers/links", json=link).status_code == 403  # an inspector's action
    # Another check character: the code no longer checks (the same one would be the valid code again).
    wrong_check = code[:-1] + ("1" if code[-1] != "1" else "2")
    invalid = inspector.post("/v1/employers/links", json={**link, "credit_code": wrong_check})
    assert invalid.status_code == 422 and invalid.json()["errors"][0]["field"] == "credit_code"
    assert a.city_intake.post("/v1/employers/links", json=link).status_code == 422  # the city names the county
    assert clerk.get("/v1/employers/identity", params={"name": name}).json()["basis"] == "linked"

    later = a.in_ledger(a.file(complaint_body(s, employer_credit_code="")))["case_id"]
    with_code = a.in_ledger(a.file(complaint_body(s)))["case_id"]
    assert later == with_code != before
    with psycopg.connect(a.stack.postgres.service_url("intake")) as conn:
        published = conn.execute(
            "SELECT count(*) FROM intake.outbox WHERE event_type = 'employer.linked' AND message_key = %s",
            (created.json()["name_ref"],),
        ).fetchone()
        audited = conn.execute(
            "SELECT count(*) FROM intake.audit_log WHERE action = 'employer.linked' AND subject = %s",
            (created.json()["name_ref"],),
        ).fetchone()
    assert published == (1,) and audited == (1,)
