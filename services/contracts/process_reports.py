"""What a lifecycle workflow tells the ledger about itself: the process state, and each change of it.

One truth: the workflow is the process; the cases service's ledger is what agencies read. The two meet
here. A workflow reports its state (`ProcessSnapshot`) to the cases service every time that state
changes — whoever caused the change: an inspector's action, a timer firing, a deadline computed, a
department's answer, an operator's retry. The report is an idempotent command (`ProcessReport`, keyed by
`<workflow id>:report:<seq>`) that the cases service records with its `process.reported` event in one
transaction (`services/contracts/cases_events.py`: `ProcessReported`); the ledger's projection applies the
snapshot of the highest `seq` it has seen.

The rules that both sides judge live here once: what a snapshot holds (`snapshot_of`), what `overdue`
means (`is_overdue`), how two states differ (`describe_changes`, for the timeline) and when the ledger
disagrees with the workflow (`disagreements`, for `anxin audit ledger`).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from services.contracts.lifecycle import CaseStatus, ComplaintStatus, Deadline, ParkedStep, Status


class _Payload(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DeadlineView(_Payload):
    name: str
    due_at: datetime
    due_date: date | None = None
    outcome: str = "pending"
    provisional: bool = False
    calendar_note: str | None = Field(None, description="Why a provisional date is provisional.")


class ProcessSnapshot(_Payload):
    """A process (complaint or case workflow) as it stands: what the ledger keeps current from it."""

    workflow_id: str
    stage: str
    status: str
    overdue: bool = False
    classification: str | None = None
    outcome: str | None = Field(None, description="Cases: the verification outcome (核实结论).")
    next_deadline: datetime | None = None
    deadlines: list[DeadlineView] = Field(default_factory=list)
    amount_owed: Decimal | None = None
    amount_paid: Decimal | None = None
    workers: int | None = None
    closure_reason: str | None = None
    referrals: dict[str, str] = Field(default_factory=dict)
    blacklist_procedure_id: str | None = None
    extension_approved: bool | None = None
    letters: dict[str, str] = Field(default_factory=dict)
    order_id: str | None = None
    investigation_overdue: bool | None = None
    case_stage: str | None = Field(None, description="Complaints: the stage of the case they joined.")
    satisfaction: str | None = Field(None, description="Complaints: the call-back's result.")
    # Added after reports were first stored: a default, so every `process.reported` event already kept
    # (which has no such field) still reads, as a process with nothing parked.
    parked: ParkedStep | None = Field(
        None, description="A step its service refused for good, waiting for an operator's retry (`anxin case retry`)."
    )
    # What waits for a person's decision (the console's approvals and case forms), added later the same way.
    referral_approval: str | None = Field(
        None,
        description="Cases: where a proposed criminal referral stands (awaiting_report, awaiting_decision, "
        "approved, refused, moot; None: none proposed).",
    )
    referral_withdrawal: str | None = Field(
        None, description="Cases: a proposed withdrawal of the police referral: pending, approved or refused."
    )
    unconfirmed_members: list[str] = Field(
        default_factory=list,
        description="Cases: complaints that joined after verification, whose totals the "
        "inspector has not confirmed yet (`POST /v1/cases/{id}/figures`).",
    )


class StateReport(_Payload):
    """What every report of a workflow's state carries beside its snapshot (processes here, listings in
    services/contracts/sanctions_workflows.py)."""

    idempotency_key: str = Field(description="`<workflow id>:report:<seq>`: one record per report.")
    seq: int = Field(ge=1, description="Increases with each report of one workflow, across continue-as-new.")
    at: datetime = Field(description="The legal instant of the latest change (the workflow's legal clock).")
    changes: list[str] = Field(default_factory=list, description="What changed since the last report.")


class ProcessReport(StateReport):
    """The lifecycle's command to the cases service: record this state of a process (`POST /v1/process-reports`)."""

    workflow_id: str = Field(description="`complaint:<id>` or `case:<id>`.")
    snapshot: ProcessSnapshot


def is_overdue(status: Status, missed_deadline: bool, investigation_overdue: bool = False) -> bool:
    """Overdue (超期): the process still owes a step whose legal time limit has passed.

    An open process is overdue when it missed a deadline it waits on (acceptance, a department's answer)
    or its investigation limit. A closed complaint owes only its call-back, so only a late call-back
    makes it overdue; a completed process owes nothing. The workflows, their search attributes and the
    ledger all use this one definition.
    """
    if status is Status.COMPLETED:
        return False
    if status is Status.CLOSED:
        return missed_deadline
    return missed_deadline or investigation_overdue


def ledger_status(status: str) -> str:
    """The ledger keeps two statuses of a process: open, or closed (a workflow's `closed` and `completed`)."""
    return "open" if status == Status.OPEN.value else "closed"


def deadline_views(deadlines: dict[str, Deadline]) -> list[DeadlineView]:
    return [
        DeadlineView(
            name=name,
            due_at=d.due_at,
            due_date=d.due_date,
            outcome=d.outcome,
            provisional=d.provisional,
            calendar_note=d.calendar_note if d.provisional else None,
        )
        for name, d in sorted(deadlines.items(), key=lambda kv: (kv[1].due_at, kv[0]))
    ]


def snapshot_of(workflow_id: str, status: CaseStatus | ComplaintStatus) -> ProcessSnapshot:
    """The snapshot of a workflow's `status` query: what its reports carry and what the audit compares."""
    closure = status.closure_reason.value if status.closure_reason else None
    if isinstance(status, CaseStatus):
        return ProcessSnapshot(
            workflow_id=workflow_id,
            stage=status.stage.value,
            status=status.status.value,
            overdue=status.overdue,
            classification=status.classification.value if status.classification else None,
            outcome=status.outcome.value if status.outcome else None,
            next_deadline=status.next_deadline,
            deadlines=deadline_views(status.deadlines),
            amount_owed=status.amount_owed,
            amount_paid=status.amount_paid,
            workers=status.workers,
            closure_reason=closure,
            referrals=dict(status.referrals),
            blacklist_procedure_id=status.blacklist_procedure_id,
            extension_approved=status.extension_approved,
            letters=dict(status.letters),
            order_id=status.order_id,
            investigation_overdue=status.investigation_overdue,
            parked=status.parked,
            referral_approval=status.referral_approval.outcome if status.referral_approval else None,
            referral_withdrawal=status.referral_withdrawal.outcome if status.referral_withdrawal else None,
            unconfirmed_members=list(status.unconfirmed_members),
        )
    return ProcessSnapshot(
        workflow_id=workflow_id,
        stage=status.stage.value,
        status=status.status.value,
        overdue=status.overdue,
        next_deadline=status.next_deadline,
        deadlines=deadline_views(status.deadlines),
        closure_reason=closure,
        case_stage=status.case_stage.value if status.case_stage else None,
        satisfaction=status.satisfaction.value if status.satisfaction else None,
        parked=status.parked,
    )


_OUTCOME_TEXT = {"met": "已按期完成", "expired": "已到期", "superseded": "已不再适用", "pending": "计算"}


def describe_changes(before: ProcessSnapshot | None, after: ProcessSnapshot) -> list[str]:
    """What changed between two reports, one short Chinese line each (the ledger's timeline shows them)."""
    changes: list[str] = []
    if before is None or before.stage != after.stage:
        changes.append(f"阶段：{after.stage}")
    if before is not None and before.status != after.status:
        changes.append(f"状态：{after.status}" + (f"（{after.closure_reason}）" if after.closure_reason else ""))
    old = {d.name: d for d in before.deadlines} if before else {}
    for d in after.deadlines:
        was = old.get(d.name)
        due = f"{d.due_date or d.due_at.date()}" + ("（暂定）" if d.provisional else "")
        if was is None:
            changes.append(
                f"期限「{d.name}」：{due}"
                if d.outcome == "pending"
                else f"期限「{d.name}」{_OUTCOME_TEXT.get(d.outcome, d.outcome)}"
            )
        elif was.outcome != d.outcome:
            changes.append(f"期限「{d.name}」{_OUTCOME_TEXT.get(d.outcome, d.outcome)}")
        elif (was.due_at, was.provisional) != (d.due_at, d.provisional):
            changes.append(f"期限「{d.name}」重新计算：{due}")
    if (before.overdue if before else False) != after.overdue:
        changes.append("超期" if after.overdue else "不再超期")
    for label, old_map, new_map in (
        ("文书", before.letters if before else {}, after.letters),
        ("移送", before.referrals if before else {}, after.referrals),
    ):
        changes.extend(f"{label}：{kind} {ref}" for kind, ref in new_map.items() if old_map.get(kind) != ref)
    was_parked = before.parked if before else None
    if after.parked is not None and (was_parked is None or was_parked.text() != after.parked.text()):
        changes.append(f"暂停：{after.parked.step} 被服务拒绝（{after.parked.message}），待运维处理后重试")
    elif after.parked is None and was_parked is not None:
        changes.append(f"恢复：重试 {was_parked.step}")
    if after.satisfaction is not None and (before is None or before.satisfaction != after.satisfaction):
        changes.append(f"回访：{after.satisfaction}")
    return changes


# The fields `anxin audit ledger` compares: what an agency reads from the ledger about a process.
AUDITED_FIELDS = (
    "stage",
    "status",
    "overdue",
    "closure_reason",
    "classification",
    "outcome",
    "amount_owed",
    "amount_paid",
    "workers",
    "extension_approved",
    "satisfaction",
    "parked",
    "referral_approval",
    "referral_withdrawal",
    "unconfirmed_members",
)


def disagreements(workflow: ProcessSnapshot, ledger: ProcessSnapshot) -> list[str]:
    """Where the ledger's view of a process differs from the workflow's own state (empty when they agree).

    Fields the ledger does not keep for this kind of process (None on the ledger side) are not compared.
    """
    found: list[str] = []
    workflow = workflow.model_copy(update={"status": ledger_status(workflow.status)})
    for name in AUDITED_FIELDS:
        expected, recorded = getattr(workflow, name), getattr(ledger, name)
        if name == "parked":
            # The step and the service's reason are what an agency reads; the instant is the timeline's.
            expected, recorded = (p.text() if p is not None else None for p in (expected, recorded))
        if recorded is None and name in (
            "classification",
            "outcome",
            "amount_owed",
            "amount_paid",
            "workers",
            "extension_approved",
            "satisfaction",
        ):
            continue
        if expected != recorded:
            found.append(f"{name}: workflow {expected!s} ≠ ledger {recorded!s}")
    ours = {d.name: d for d in workflow.deadlines}
    theirs = {d.name: d for d in ledger.deadlines}
    for name in sorted(set(ours) | set(theirs)):
        a, b = ours.get(name), theirs.get(name)
        if a is None or b is None:
            found.append(f"deadline {name}: {'missing in the ledger' if b is None else 'not in the workflow'}")
        elif (a.due_at, a.outcome, a.provisional) != (b.due_at, b.outcome, b.provisional):
            found.append(
                f"deadline {name}: workflow {a.due_at.isoformat()} {a.outcome}"
                f"{' provisional' if a.provisional else ''} ≠ ledger {b.due_at.isoformat()} {b.outcome}"
                f"{' provisional' if b.provisional else ''}"
            )
    return found
