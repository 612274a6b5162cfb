"""The contract module, the threshold rule, the service clients and the worker's assembly."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment

from services.contracts.case_payouts import CasePayoutMessages
from services.contracts.lifecycle import (
    ACTIVITY_OWNERS,
    SEARCH_ATTRIBUTES,
    AcceptanceDecision,
    AcceptanceDecisionKind,
    ActivityNames,
    ActivityQueues,
    AgencyNotice,
    CaseMember,
    ComplaintInput,
    ComplaintStatus,
    CriminalThreshold,
    LetterKind,
    LetterRequest,
    LifecycleConfig,
    Notification,
    Office,
    Queries,
    ReferralKind,
    ReferralRequest,
    Signals,
    TaskQueues,
    Updates,
    case_workflow_id,
    complaint_workflow_id,
)
from workflows.clients import (
    HttpCommandClient,
    HttpReferralsApi,
    HttpSanctionsApi,
    JournalServices,
    LocalSmsSink,
)
from workflows.rules import assess_criminal_threshold

from .harness import Harness

# --- ids and configuration --------------------------------------------------------------------------------


def test_workflow_ids_come_from_business_ids() -> None:
    assert complaint_workflow_id("TS-2026-000123") == "complaint:TS-2026-000123"
    assert case_workflow_id("AJ-130402-0042") == "case:AJ-130402-0042"


@pytest.mark.parametrize("bad", ["13800138000", "130402199001011234", "has space", "", "a:b"])
def test_ids_that_could_leak_personal_data_or_break_ids_are_refused(bad: str) -> None:
    with pytest.raises(ValueError):
        complaint_workflow_id(bad)


def test_complainant_is_named_by_a_keyed_reference_only() -> None:
    with pytest.raises(ValueError, match="keyed reference"):
        ComplaintInput(
            complaint_id="TS-1",
            case_id="AJ-1",
            county="130402",
            employer_ref="E",
            project_ref="P",
            complainant_ref="13800138000",
            received_at="2026-01-05T09:00:00+08:00",
            amount_owed=Decimal(1),
            config=LifecycleConfig(province="henan"),
        )


def test_defaults_match_the_domain_rules() -> None:
    config = LifecycleConfig(province="henan")
    assert config.acceptance.decision_working_days == 5
    assert config.acceptance.violation_limit_years == 2
    assert config.investigation.limit_working_days == 60
    assert config.investigation.extension_working_days == 30
    assert config.order.pay_days == 7
    assert Decimal("0.5") <= config.order.additional_compensation_rate <= Decimal(1)
    assert [r.kind for r in config.handoff.ladder] == [
        LetterKind.REMINDER,
        LetterKind.SUPERVISION,
        LetterKind.WARNING_LETTER,
        LetterKind.ACCOUNTABILITY_RECOMMENDATION,
        LetterKind.ACCOUNTABILITY_TRANSFER,
    ]
    figures = {
        name: (t.per_worker_amount, t.aggregate_amount, t.min_workers, t.min_months_owed)
        for name, t in config.criminal_thresholds.items()
    }
    assert figures == {
        "henan": (8000, 40000, 10, 3),
        "hunan": (6000, 40000, 10, 3),
        "guizhou": (10000, 50000, 10, 3),
        "liaoning": (10000, 50000, 10, 3),
    }


def test_a_province_without_a_threshold_fails_fast() -> None:
    with pytest.raises(ValueError, match="hebei"):
        LifecycleConfig(province="hebei")
    config = LifecycleConfig(
        province="hebei",
        criminal_thresholds={
            "hebei": CriminalThreshold(per_worker_amount=Decimal(5000), aggregate_amount=Decimal(30000))
        },
    )
    assert config.threshold.per_worker_amount == 5000


def test_compensation_rate_stays_within_the_legal_range() -> None:
    with pytest.raises(ValueError):
        LifecycleConfig.model_validate({"province": "henan", "order": {"additional_compensation_rate": "1.5"}})
    with pytest.raises(ValueError):
        LifecycleConfig.model_validate({"province": "henan", "order": {"additional_compensation_rate": "0.2"}})


def test_ladder_rungs_are_distinct_letters() -> None:
    with pytest.raises(ValueError, match="once"):
        LifecycleConfig.model_validate(
            {
                "province": "henan",
                "handoff": {"ladder": [{"kind": "reminder", "wait_working_days": 1}] * 2},
            }
        )


def test_activities_route_to_their_owners_queue_when_configured() -> None:
    routing = ActivityQueues(referrals=TaskQueues.REFERRALS)
    assert routing.for_activity(ActivityNames.ISSUE_LETTER) == TaskQueues.REFERRALS
    assert routing.for_activity(ActivityNames.ISSUE_ORDER_TO_PAY) is None  # the workflow's own queue
    assert routing.for_activity(ActivityNames.COMPUTE_DEADLINE) is None


def test_each_declared_activity_is_implemented_under_its_name_with_its_types() -> None:
    """Workflows call the declarations (services/contracts/lifecycle/activities.py); the lifecycle worker
    registers one implementation of each under the same stable name, taking and returning the same types."""
    from temporalio.activity import _Definition

    from services.contracts.lifecycle import activities as declared
    from workflows.activities import (
        CalendarActivities,
        CaseLinkActivities,
        NotificationActivities,
        ServiceActivities,
    )

    def definitions(members: Any) -> dict[str, tuple[Any, Any]]:
        found = (_Definition.from_callable(member) for member in members if callable(member))
        return {d.name: (d.arg_types, d.ret_type) for d in found if d is not None and d.name is not None}

    declarations = definitions(vars(declared).values())
    classes = (CalendarActivities, CaseLinkActivities, NotificationActivities, ServiceActivities)
    implementations = definitions(member for cls in classes for member in vars(cls).values())
    stable_names = {v for k, v in vars(ActivityNames).items() if not k.startswith("_")}
    assert set(declarations) == stable_names == set(ACTIVITY_OWNERS)
    assert implementations == declarations


def test_each_workflow_answers_its_messages_by_name() -> None:
    """The signals both workflows answer alike are defined once, on their base class, and still registered."""
    from temporalio.workflow import _Definition

    from workflows.case import CaseWorkflow
    from workflows.complaint import ComplaintWorkflow

    shared = {Signals.CALENDAR_UPDATED, Signals.RETRY_REFUSED_STEP, Signals.REPORT_STATE}
    case, complaint = (_Definition.must_from_class(cls) for cls in (CaseWorkflow, ComplaintWorkflow))
    assert set(case.signals) == shared | {
        Signals.COMPLAINT_JOINED,
        Signals.COMPLAINT_LEFT,
        Signals.MASS_INCIDENT_REPORTED,
    }
    assert set(complaint.signals) == shared | {Signals.CASE_PROGRESS}
    assert set(case.updates) == {
        Updates.RECORD_VERIFICATION,
        Updates.RECORD_SERVICE,
        Updates.RECORD_PAYMENT,
        Updates.RECORD_HANDOFF_RESPONSE,
        Updates.RECORD_HANDOFF_RETURN,
        Updates.APPROVE_EXTENSION,
        Updates.RECORD_POLICE_DECISION,
        Updates.CLOSE_CASE,
        Updates.SUBMIT_REFERRAL_REPORT,
        Updates.DECIDE_REFERRAL,
        Updates.CONFIRM_DEADLINE,
        Updates.CONFIRM_FIGURES,
        Updates.MERGE_INTO,
        Updates.PROPOSE_REFERRAL_WITHDRAWAL,
        Updates.DECIDE_REFERRAL_WITHDRAWAL,
        CasePayoutMessages.DECIDE_PAYOUT,
        CasePayoutMessages.RECORD_PAYOUT_OUTCOME,
    }
    assert set(complaint.updates) == {
        Updates.DECIDE_ACCEPTANCE,
        Updates.SUPPLEMENT_INFORMATION,
        Updates.WITHDRAW_COMPLAINT,
        Updates.RECORD_CALLBACK,
        Updates.CONFIRM_DEADLINE,
    }
    assert set(case.queries) == {Queries.STATUS, CasePayoutMessages.PAYOUTS}
    assert set(complaint.queries) == {Queries.STATUS}
    assert all(u.validator is not None for d in (case, complaint) for u in d.updates.values())


def test_search_attributes_are_declared_for_the_dev_server() -> None:
    assert dict(SEARCH_ATTRIBUTES) == {
        "AnxinCaseId": "Keyword",
        "AnxinComplaintId": "Keyword",
        "AnxinCounty": "Keyword",
        "AnxinStage": "Keyword",
        "AnxinStatus": "Keyword",
        "AnxinNextDeadline": "Datetime",
        "AnxinClassification": "Keyword",
        "AnxinOverdue": "Bool",
    }


# --- the criminal threshold ---------------------------------------------------------------------------------

HENAN = LifecycleConfig(province="henan").threshold


def member(amount: int, workers: int = 1, months: int = 3) -> CaseMember:
    return CaseMember(
        complaint_id=f"TS-{amount}-{workers}",
        amount_owed=Decimal(amount),
        workers_affected=workers,
        months_owed=months,
        accepted_at="2026-01-05T09:00:00+08:00",
    )


def assess(members: list[CaseMember], paid: int = 0) -> bool:
    owed = sum((m.amount_owed for m in members), Decimal(0))
    workers = sum(m.workers_affected for m in members)
    return assess_criminal_threshold(
        members, HENAN, amount_owed=owed, amount_paid=Decimal(paid), workers=workers
    ).reached


def test_threshold_per_worker_and_aggregate() -> None:
    assert assess([member(8000)])
    assert not assess([member(7999)])
    assert not assess([member(8000, months=2)])  # fewer than three months owed
    assert assess([member(4000, workers=10, months=1)] * 1 + [member(0, workers=1, months=0)]) is False
    assert assess([member(40000, workers=10, months=1)])
    assert not assess([member(40000, workers=9, months=1)])
    # Summed over the case: two complaints together reach the aggregate figure.
    assert assess([member(20000, workers=5, months=1), member(20000, workers=5, months=1)])
    # Payments count against it.
    assert not assess([member(40000, workers=10, months=1)], paid=1)


# --- service clients ------------------------------------------------------------------------------------------


def _letter() -> LetterRequest:
    return LetterRequest(
        idempotency_key="case:AJ-1:letter:warning_letter",
        case_id="AJ-1",
        county="130402",
        department="county-housing-bureau",
        kind=LetterKind.WARNING_LETTER,
    )


async def test_http_client_sends_the_idempotency_key_and_reads_the_record() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"id": "LETTER-9"})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        api = HttpReferralsApi(HttpCommandClient(http, "http://referrals.test/"))
        ref = await api.issue_letter(_letter())
    assert ref.id == "LETTER-9"
    assert seen[0].url == "http://referrals.test/v1/letters"
    assert seen[0].headers["Idempotency-Key"] == "case:AJ-1:letter:warning_letter"
    assert json.loads(seen[0].content)["kind"] == "warning_letter"


async def test_http_client_treats_a_repeated_key_as_done_and_a_refusal_as_final() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/v1/referrals":
            return httpx.Response(409, json={"id": "REF-1"})
        if request.url.path == "/v1/blacklist-procedures":
            return httpx.Response(422, json={"detail": "employer unknown"})
        return httpx.Response(503)

    referral = ReferralRequest(
        idempotency_key="k",
        case_id="AJ-1",
        county="130402",
        employer_ref="E",
        target=ReferralKind.POLICE,
        unpaid_amount=Decimal(1),
        workers=1,
        basis="b",
    )
    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = HttpCommandClient(http, "http://svc.test")
        assert (await HttpReferralsApi(client).make_referral(referral)).id == "REF-1"
        from services.contracts.lifecycle import SanctionKind, SanctionRequest

        sanction = SanctionRequest(
            idempotency_key="s", case_id="AJ-1", county="c", employer_ref="E",
            kind=SanctionKind.BLACKLIST_PROCEDURE, amount=Decimal(1), basis="b",
        )  # fmt: skip
        with pytest.raises(ApplicationError) as refused:
            await HttpSanctionsApi(client).start_blacklist_procedure(sanction)
        assert refused.value.non_retryable and refused.value.type == "ServiceRefused"
        with pytest.raises(httpx.HTTPStatusError):  # 5xx: retried by the activity's policy
            await HttpSanctionsApi(client).mark_for_publication(sanction)


async def test_local_sms_sink_writes_each_message_once_without_numbers(tmp_path: Path) -> None:
    sink = LocalSmsSink(tmp_path / "sms.jsonl")
    message = Notification(
        idempotency_key="complaint:TS-1:notify:accepted",
        complaint_id="TS-1",
        recipient_ref="ref_5f1c0b2e",
        template="complaint.accepted",
    )
    await sink.send(message)
    await sink.send(message)
    await LocalSmsSink(tmp_path / "sms.jsonl").send(message)  # a restarted worker remembers too
    lines = (tmp_path / "sms.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["recipient_ref"] == "ref_5f1c0b2e"


async def test_journal_answers_a_repeated_key_with_the_same_record(tmp_path: Path) -> None:
    journal = JournalServices(tmp_path / "commands.jsonl")
    first = await journal.issue_letter(_letter())
    again = await JournalServices(tmp_path / "commands.jsonl").issue_letter(_letter())
    assert first == again
    await journal.notify_agency(
        AgencyNotice(idempotency_key="n", subject="case:AJ-1", county="c", office=Office.INSPECTOR, kind="k", text="t")
    )
    assert len((tmp_path / "commands.jsonl").read_text(encoding="utf-8").splitlines()) == 2


async def test_production_worker_runs_a_complaint_with_local_stand_ins(
    workflow_env: WorkflowEnvironment, tmp_path: Path
) -> None:
    """`build_worker` wires the real activities: journal services and the local SMS sink under the data dir."""
    from workflows.worker import LifecycleSettings, build_worker

    settings = LifecycleSettings(ANXIN_DATA_DIR=tmp_path, ANXIN_LIFECYCLE_SERVICES="journal")
    queue = f"lifecycle-worker-{uuid.uuid4().hex[:8]}"
    h = Harness(env=workflow_env, queue=queue)
    async with build_worker(workflow_env.client, settings, task_queue=queue):
        try:
            complaint = await h.start_complaint()
            await h.update(
                complaint,
                Updates.DECIDE_ACCEPTANCE,
                AcceptanceDecision(decision=AcceptanceDecisionKind.FORWARD, decided_by="i", forward_to="130403"),
                ComplaintStatus,
            )
            await h.eventually(lambda: _closed(h, complaint))
        finally:
            await h.close_all()
    journal = (tmp_path / "lifecycle" / "service-commands.jsonl").read_text(encoding="utf-8")
    assert '"command": "forward_complaint"' in journal
    sms = (tmp_path / "lifecycle" / "sms-outbox.jsonl").read_text(encoding="utf-8")
    assert "complaint.forwarded" in sms and "ref_5f1c0b2e" in sms


async def _closed(h: Harness, handle: Any) -> bool:
    return (await h.complaint_status(handle)).closure_reason is not None
