"""Pure rules the case workflow applies: the criminal threshold, judged on the whole case.

No I/O; imported by workflow code.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from services.contracts.lifecycle import CaseMember, CriminalThreshold, ThresholdAssessment

_CENT = Decimal("0.01")


def assess_criminal_threshold(
    members: Iterable[CaseMember],
    threshold: CriminalThreshold,
    *,
    amount_owed: Decimal,
    amount_paid: Decimal,
    workers: int,
) -> ThresholdAssessment:
    """Whether the unpaid part of a case reaches the province's "数额较大" figure.

    Aggregate test: at least `min_workers` workers and an outstanding total of at least `aggregate_amount`.
    Per-worker test: some complaint whose workers were owed at least `min_months_owed` months and whose
    per-worker outstanding amount reaches `per_worker_amount`. A complaint filed for several workers counts
    its amount shared equally among them; payments reduce every complaint in proportion, since the case
    does not know to whom the employer paid what.
    """
    outstanding = max(amount_owed - amount_paid, Decimal(0))
    members = list(members)
    reasons: list[str] = []
    if workers >= threshold.min_workers and outstanding >= threshold.aggregate_amount:
        reasons.append(
            f"{workers} 名劳动者，未付合计 {outstanding} 元，达到 {threshold.min_workers} 人以上、"
            f"{threshold.aggregate_amount} 元的标准"
        )
    member_total = sum((m.amount_owed for m in members), Decimal(0))
    unpaid_share = (outstanding / member_total) if member_total > 0 else Decimal(0)
    for member in members:
        if member.months_owed < threshold.min_months_owed:
            continue
        per_worker = (member.amount_owed * unpaid_share / member.workers_affected).quantize(
            _CENT, rounding=ROUND_HALF_UP
        )
        if per_worker >= threshold.per_worker_amount:
            reasons.append(
                f"投诉 {member.complaint_id}：每人未付 {per_worker} 元、拖欠 {member.months_owed} 个月，"
                f"达到 {threshold.per_worker_amount} 元、{threshold.min_months_owed} 个月的标准"
            )
            break
    if reasons:
        basis = "；".join(reasons)
    else:
        basis = (
            f"未达到数额较大标准（{workers} 名劳动者，未付合计 {outstanding} 元；标准：每人 "
            f"{threshold.per_worker_amount} 元且 {threshold.min_months_owed} 个月以上，或 "
            f"{threshold.min_workers} 人以上合计 {threshold.aggregate_amount} 元）"
        )
    return ThresholdAssessment(reached=bool(reasons), basis=basis, outstanding=outstanding, workers=workers)
