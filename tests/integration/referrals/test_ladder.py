"""The overdue-handoff ladder on the real stack and a compressed clock: a handoff never answered climbs
every rung in order — reminder, supervision, warning letter, accountability recommendation, transfer forms —
each a record, a numbered letter and an event, each produced once, also when the lifecycle worker is
killed mid-ladder."""

from __future__ import annotations

import time

from services.contracts.lifecycle import VerificationOutcome
from tests.integration.referrals.conftest import (
    Agencies,
    case_status,
    compressed_config,
    events_of,
    start_case,
    verify,
)
from tests.support.agencies import wait_for
from tests.support.pdfs import pdf_words

RUNGS = ["reminder", "supervision", "warning_letter", "accountability_recommendation", "accountability_transfer"]


def test_an_unanswered_handoff_climbs_every_rung_once_even_when_the_worker_dies(agencies: Agencies) -> None:
    a = agencies
    case = a.new_case()
    case_id = case["case_id"]
    # One working day lasts 2 s. Housing's own terms from the directory apply (not the workflow's 2 and 1 days):
    # 10 days to answer, then the rungs' 3, 5, 5, 5 and 10 days.
    start_case(a, case, compressed_config(2.0, response_days=2, rung_days=1))
    verify(a, case_id, VerificationOutcome.QUANTITY_DISPUTE, department="housing")

    def letters() -> list[dict]:
        return a.city.get("/v1/letters", params={"case_id": case_id}).json()["items"]

    def kinds() -> list[str]:
        return [letter["kind"] for letter in letters()]

    wait_for("the supervision letter", lambda: "supervision" in kinds(), timeout=90)
    # A crash mid-ladder: the next rungs' timers fire while no worker runs.
    a.stack.kill_process("lifecycle-worker")
    time.sleep(5)
    assert "accountability_transfer" not in kinds()
    a.stack.start_process(a.stack.spec("lifecycle-worker"))
    a.stack.wait_process_ready(a.stack.processes["lifecycle-worker"], timeout=60)

    wait_for("every rung", lambda: "accountability_transfer" in kinds(), timeout=150)
    time.sleep(3)  # anything issued twice would show up now
    issued = letters()
    issued_kinds = [letter["kind"] for letter in issued]
    # The last rung issues both transfer forms (问题移交单 and 问责移交单) together.
    assert issued_kinds[:5] == ["handoff", *RUNGS[:-1]], issued_kinds
    assert sorted(issued_kinds[5:]) == ["accountability_transfer", "issue_transfer"], issued_kinds
    assert len({letter["document_number"] for letter in issued}) == len(issued)
    handoff_id = issued[0]["handoff_id"]
    assert all(letter["handoff_id"] == handoff_id for letter in issued)

    # The workflow holds the same letters, one per rung, in the order issued.
    status = case_status(a, case_id)
    assert list(status.letters) == ["handoff", *RUNGS]
    by_kind = {letter["kind"]: letter for letter in issued}
    assert all(status.letters[kind] == by_kind[kind]["letter_id"] for kind in status.letters)
    handoff = a.housing.get(f"/v1/handoffs/{handoff_id}").json()
    assert handoff["ladder_level"] == "accountability_transfer" and handoff["status"] == "sent"

    # The warning letter quotes the handoff letter and the rungs before it, and is copied to the superior.
    warning = a.housing.get(f"/v1/letters/{by_kind['warning_letter']['letter_id']}/pdf").content
    text = pdf_words(warning)
    for expected in (
        "警示函",
        by_kind["handoff"]["document_number"],
        by_kind["reminder"]["document_number"],
        by_kind["supervision"]["document_number"],
        "邯郸市人民政府督查室",
        case["employer_name"],
    ):
        assert expected in text, (expected, text)

    events = events_of(a, case_id, lambda seen: sum(e.type == "handoff.escalated" for e in seen) >= 5)
    escalations = [e.payload["kind"] for e in events if e.type == "handoff.escalated"]
    assert escalations == RUNGS
    assert sum(e.type == "letter.issued" for e in events) == len(issued)
