"""The case page's letters, referrals and listings on the real stack: a case the process handed off to a
department shows its 交办函, which opens through the console as a PDF (inline, kept by no cache) while another
county's inspector gets the not-found page for the same address; a legal-aid fast-track referral made through
the case page's form appears among the case's referrals (a basis too short first shows the API's own message);
the blacklist procedure the lifecycle starts shows with its stage and its 事先告知书 opening as a PDF; a case
verified as wage arrears lists its 限期改正指令书, which opens through the console with the amount it orders paid;
and in Chromium, axe-core finds no serious violation on the richer page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator

import httpx
import psycopg
import pytest
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

from deploy.stack import Stack
from tests.integration.cases.conftest import Agencies, complaint_body
from tests.integration.console.conftest import _console_process
from tests.support.agencies import agency_clients, wait_for
from tests.support.axe import serious_violations
from tests.support.browser import DESK, chromium
from tests.support.console_agencies import hidden_fields, signed_in_person
from tests.support.factories import seed
from tests.support.pdfs import pdf_words
from tests.support.people import add_person

COUNTY = "130402"
OTHER_COUNTY = "130403"


@pytest.fixture(scope="module")
def handed_off_case(stack: Stack, console: str, agencies: Agencies) -> str:
    """A case accepted and verified as a project payment dispute for housing: its process hands it off, and the
    referrals service issues the 交办函. The sanctions service answers the page's listings part."""
    stack.start_processes(
        [
            "referrals-api",
            "referrals-relay",
            "referrals-worker",
            "sanctions-api",
            "sanctions-relay",
            "sanctions-worker",
        ],
        timeout=150,
    )

    def directory_heard() -> bool:
        with psycopg.connect(stack.postgres.service_url("cases")) as conn:
            row = conn.execute("SELECT count(*) FROM cases.department_directory WHERE takes_handoffs").fetchone()
        return row is not None and row[0] > 0

    wait_for("the department directory in the cases service", directory_heard, timeout=90)
    _, case_id = agencies.accepted_case(complaint_body(seed(), county=COUNTY))
    verified = agencies.act(
        agencies.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "project_payment_dispute", "department": "housing"},
    )
    assert verified.status_code == 200, verified.text
    return case_id


@pytest.fixture(scope="module")
def console(stack: Stack, agencies: Agencies) -> Iterator[str]:
    """The console, its sessions kept ten minutes idle: these tests read pages between waits for the processes
    (an order issued, a letter sent) that a loaded machine stretches past the other console tests' short idle
    timeout, which would sign the inspector out meanwhile. The idle timeout has tests of its own."""
    stack.start_processes(["issuer-api"], timeout=120)
    with _console_process(stack, "console", idle_seconds=600) as url:
        yield url


@pytest.fixture(scope="module")
def inspector(stack: Stack, console: str) -> Iterator[httpx.Client]:
    with signed_in_person(stack, console, "county_inspector", "--county", COUNTY) as browser:
        yield browser


def _letter_link(inspector: httpx.Client, case_id: str) -> str | None:
    page = inspector.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.text
    found = re.search(r'<a href="(/cases/' + re.escape(case_id) + r'/letters/[^"]+\.pdf)">交办函 ', page.text)
    return found.group(1) if found else None


def test_the_handoff_letter_opens_as_a_pdf_and_another_county_gets_the_not_found_page(
    stack: Stack, console: str, handed_off_case: str, inspector: httpx.Client
) -> None:
    case_id = handed_off_case
    link = wait_for("the 交办函 on the case page", lambda: _letter_link(inspector, case_id), timeout=120)
    page = inspector.get(f"/cases/{case_id}")
    assert "函件与文书" in page.text and "转介与移送" in page.text and "未启动失信名单程序" in page.text, page.text

    pdf = inspector.get(link)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline")
    assert pdf.headers["cache-control"] == "no-store"
    assert pdf.content.startswith(b"%PDF")

    # A letter is opened under its own case only: the same letter under another case is the not-found page.
    letter_id = link.rsplit("/", 1)[1].removesuffix(".pdf")
    missing = inspector.get(f"/cases/{case_id}/letters/L-NO-SUCH-LETTER.pdf")
    assert missing.status_code == 404 and "未找到" in missing.text
    elsewhere = inspector.get(f"/cases/C-NO-SUCH-CASE/letters/{letter_id}.pdf")
    assert elsewhere.status_code == 404 and elsewhere.text == missing.text

    with signed_in_person(stack, console, "county_inspector", "--county", OTHER_COUNTY) as other:
        theirs = other.get(link)
        nothing = other.get(f"/cases/{case_id}/letters/L-NO-SUCH-LETTER.pdf")
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.text == nothing.text and b"%PDF" not in theirs.content
        assert other.get(f"/cases/{case_id}/documents/D-NO-SUCH-DOCUMENT.pdf").text == nothing.text


def test_a_fast_track_referral_made_through_the_form_appears_among_the_case_referrals(
    stack: Stack, console: str, handed_off_case: str, inspector: httpx.Client
) -> None:
    case_id = handed_off_case
    action = f"/cases/{case_id}/fast-track-referrals"
    page = inspector.get(f"/cases/{case_id}")
    assert "快速转介" in page.text, page.text
    form = hidden_fields(page, action)

    # The referrals API's own validation: a basis of one character, its message next to the field.
    too_short = inspector.post(action, data={**form, "target": "legal_aid", "basis": "欠"})
    assert too_short.status_code == 422, too_short.text
    assert 'class="field-error" id="fast-track-basis-error"' in too_short.text
    assert 'aria-invalid="true"' in too_short.text and "欠</textarea>" in too_short.text

    # Without the form's CSRF token nothing is sent.
    forged = inspector.post(action, data={"key": form["key"], "target": "legal_aid", "basis": "工人申请法律援助"})
    assert forged.status_code == 403

    basis = "农民工申请法律援助，绿色通道当日指派"

    def referred() -> bool:
        # The referrals service learns of the case from the cases' events; until then the form says so.
        sent = inspector.post(action, data={**form, "target": "legal_aid", "basis": basis})
        assert sent.status_code in (303, 409), sent.text
        return sent.status_code == 303 and sent.headers["location"] == f"/cases/{case_id}?done=fast_track"

    wait_for("the fast-track referral through the case page", referred, timeout=90)
    page = inspector.get(f"/cases/{case_id}?done=fast_track")
    assert "已转介" in page.text
    referrals = re.search(r'<table class="referrals">(.*?)</table>', page.text, re.S)
    assert referrals, page.text
    assert "法律援助中心" in referrals.group(1) and "待决定" in referrals.group(1)
    assert referrals.group(1).count("<tr>") == 2  # the header and the one referral: the form acted once
    # The same form sent again (its key unchanged) is the same referral, not a second one.
    again = inspector.post(action, data={**form, "target": "legal_aid", "basis": basis})
    assert again.status_code == 303
    table = re.search(r'<table class="referrals">(.*?)</table>', inspector.get(f"/cases/{case_id}").text, re.S)
    assert table and table.group(1).count("<tr>") == 2
    # Its letter is among the case's letters, and opens as a PDF as well.
    letter = re.search(r'href="(/cases/' + re.escape(case_id) + r'/letters/[^"]+\.pdf)">法律援助转介函', page.text)
    assert letter, page.text
    assert inspector.get(letter.group(1)).content.startswith(b"%PDF")


def test_the_case_blacklist_procedure_shows_with_its_stage_and_its_prior_notice_opens_as_a_pdf(
    stack: Stack,
    console: str,
    agencies: Agencies,
    handed_off_case: str,
    inspector: httpx.Client,
    agency_token: Callable[[str], str],
) -> None:
    case_id = handed_off_case
    employer_ref = agencies.inspector.get(f"/v1/cases/{case_id}").json()["employer_ref"]
    key = f"case:{case_id}:{uuid.uuid4().hex[:8]}:sanction:blacklist_procedure"
    with agency_clients(stack, agency_token)("sanctions-api", "lifecycle-worker") as lifecycle:
        proposed = lifecycle.post(
            "/v1/blacklist-procedures",
            headers={"Idempotency-Key": key},
            json={
                "idempotency_key": key,
                "case_id": case_id,
                "county": COUNTY,
                "employer_ref": employer_ref,
                "kind": "blacklist_procedure",
                "amount": "60000.00",
                "basis": "拖欠工资引发群体性事件",
                "ground": "mass_incident",
            },
        )
    assert proposed.status_code == 201, proposed.text
    listing_id = proposed.json()["id"]

    def noticed() -> str | None:
        # The prior notice issued, the defence period running: the listing's row and its document's link.
        page = inspector.get(f"/cases/{case_id}").text
        listings = re.search(r'<table class="listings">(.*?)</table>', page, re.S)
        link = re.search(r'href="(/cases/' + re.escape(case_id) + r'/documents/[^"]+\.pdf)">失信名单事先告知书', page)
        if listings and listing_id in listings.group(1) and "陈述申辩期" in listings.group(1) and link:
            assert "引发群体性或极端事件" in listings.group(1)
            return link.group(1)
        return None

    link = wait_for("the listing and its prior notice on the case page", noticed, timeout=120)
    pdf = inspector.get(link)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), pdf.text
    assert pdf.headers["content-disposition"].startswith("inline") and pdf.headers["cache-control"] == "no-store"
    with signed_in_person(stack, console, "county_inspector", "--county", OTHER_COUNTY) as other:
        theirs = other.get(link)
        nothing = other.get(f"/cases/{case_id}/documents/DOC-NO-SUCH-DOCUMENT.pdf")
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.text == nothing.text and b"%PDF" not in theirs.content


def test_the_order_to_pay_opens_through_the_console_as_a_pdf(
    stack: Stack, console: str, agencies: Agencies, inspector: httpx.Client
) -> None:
    _, case_id = agencies.accepted_case(
        complaint_body(seed(), county=COUNTY, amount_owed="27000.00", workers_affected=4)
    )
    verified = agencies.act(
        agencies.inspector,
        f"/v1/cases/{case_id}/verification",
        {"outcome": "wage_arrears", "confirmed_amount": "27000.00", "confirmed_workers": 4},
    )
    assert verified.status_code == 200, verified.text
    order_id = agencies.case_until(
        case_id, lambda c: bool(c["processes"]) and bool(c["processes"][0]["order_id"]), "the order to pay", timeout=90
    )["processes"][0]["order_id"]

    page = inspector.get(f"/cases/{case_id}")
    assert page.status_code == 200, page.text
    link = f"/cases/{case_id}/case-documents/{order_id}.pdf"
    assert f'<a href="{link}">限期改正指令书 {order_id}（PDF）</a>' in page.text, page.text

    pdf = inspector.get(link)
    assert pdf.status_code == 200, pdf.text
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["content-disposition"].startswith("inline") and pdf.headers["cache-control"] == "no-store"
    text = pdf_words(pdf.content)
    assert "限期改正指令书" in text and "27000.00" in text
    # Opened under its own case only: under another case it is the not-found page.
    elsewhere = inspector.get(f"/cases/C-NO-SUCH-CASE/case-documents/{order_id}.pdf")
    assert elsewhere.status_code == 404 and "未找到" in elsewhere.text

    with signed_in_person(stack, console, "county_inspector", "--county", OTHER_COUNTY) as other:
        theirs = other.get(link)
        nothing = other.get(f"/cases/{case_id}/case-documents/ORDER-20260101-NOSUCHDOC.pdf")
        assert theirs.status_code == nothing.status_code == 404
        assert theirs.text == nothing.text and b"%PDF" not in theirs.content


def test_axe_finds_no_serious_violation_on_the_case_page_with_its_letters_and_referrals(
    stack: Stack, console: str, handed_off_case: str, inspector: httpx.Client
) -> None:
    case_id = handed_off_case
    wait_for("the 交办函 on the case page", lambda: _letter_link(inspector, case_id), timeout=120)
    person_id, password, _ = add_person(stack, "county_inspector", "--county", COUNTY)
    with chromium(DESK) as browser:
        browser.set_page_load_timeout(60)
        browser.get(f"{console}/sign-in")
        browser.find_element("id", "person_id").send_keys(person_id)
        browser.find_element("id", "password").send_keys(password)
        browser.find_element("css selector", "form button[type=submit]").click()
        WebDriverWait(browser, 30).until(expected_conditions.url_contains("/queue"))
        browser.get(f"{console}/cases/{case_id}")
        assert "函件与文书" in browser.page_source and "交办函" in browser.page_source
        assert "法律援助中心" in browser.page_source and "陈述申辩期" in browser.page_source
        assert serious_violations(browser) == []
