"""What the blacklist workflow tells the sanctions service about itself: the listing's state, and each change.

One truth, as for complaints and cases (services/contracts/process_reports.py): the blacklist workflow is
the procedure; the sanctions service's listing record is what agencies read. Most changes follow a sanctions
activity that records them (notice, decision, publication, removal), but not all: a statement puts the
procedure under review, a correction may complete the payment, an early-removal application waits for its
decision. So the workflow reports its state (`ListingSnapshot`) every time it changes, as the activity
`sanctions.report_listing_state` (`ListingReport`, keyed `<workflow id>:report:<seq>`); the service writes
it over the listing record when its `seq` is the highest yet, with the event `listing.state_reported` in the
same transaction.

The models (`ListingSnapshot`, `ListingReport`) are in the sanctions workflows' contract
(services/contracts/sanctions_workflows.py), the event `ListingStateReported` in
services/contracts/sanctions_events.py; the rules both sides judge live here once: the snapshot of a `status`
query (`listing_snapshot_of`), the lines a change shows (`describe_listing_changes`) and when the record
disagrees with the workflow (`listing_disagreements`, for `anxin audit ledger`).
"""

from __future__ import annotations

from decimal import Decimal

from services.contracts.sanctions_workflows import ListingSnapshot, ListingStatus, listing_workflow_id


def listing_snapshot_of(status: ListingStatus) -> ListingSnapshot:
    """The snapshot of the workflow's `status` query: what its reports carry and what the audit compares."""
    return ListingSnapshot(
        workflow_id=listing_workflow_id(status.listing_id),
        stage=status.stage,
        amount_corrected=status.amount_corrected,
        paid_in_full_on=status.paid_in_full_on,
        defence_due_date=status.defence_due_date,
        statements=list(status.statements),
        decided_on=status.decided_on,
        not_listed_reason=status.not_listed_reason,
        expires_on=status.expires_on,
        early_removal_possible_from=status.early_removal_possible_from,
        pending_application=status.pending_application,
        removal_reason=status.removal_reason,
        removed_on=status.removed_on,
    )


_LINES = {
    "stage": "阶段",
    "amount_corrected": "已报告补发工资",
    "paid_in_full_on": "足额支付日期",
    "defence_due_date": "陈述申辩期限",
    "decided_on": "决定日期",
    "not_listed_reason": "不予列入理由",
    "expires_on": "期满日",
    "early_removal_possible_from": "可申请信用修复日期",
    "pending_application": "待决定的信用修复申请",
    "removal_reason": "移出理由",
    "removed_on": "移出日期",
}


def describe_listing_changes(before: ListingSnapshot | None, after: ListingSnapshot) -> list[str]:
    """What changed between two reports, one short Chinese line each."""
    changes: list[str] = []
    for name, label in _LINES.items():
        value = getattr(after, name)
        if before is None and value in (None, Decimal(0)):
            continue
        if before is None or getattr(before, name) != value:
            changes.append(f"{label}：{value if value is not None else '无'}")
    changes.extend(f"陈述申辩：{s}" for s in after.statements if before is None or s not in before.statements)
    return changes


# What `anxin audit ledger` compares: every field an agency reads from the listing record.
AUDITED_LISTING_FIELDS = (*_LINES, "statements")


def listing_disagreements(workflow: ListingSnapshot, record: ListingSnapshot) -> list[str]:
    """Where the listing record differs from the workflow's own state (empty when they agree)."""
    found = []
    for name in AUDITED_LISTING_FIELDS:
        expected, recorded = getattr(workflow, name), getattr(record, name)
        if expected != recorded:
            found.append(f"{name}: workflow {expected!s} ≠ record {recorded!s}")
    return found
