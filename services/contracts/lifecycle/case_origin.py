"""What opened a case, when it was not a complaint: an early warning of the monitoring service (预警), and the
rules by which a case that no complainant filed is verified.

A complaint case opens with its first accepted complaint. An early-warning case opens on a project's warning,
before any complaint and perhaps without one (docs/cases.md, "Early-warning cases"): the cases service starts
its workflow with the origin in its input (`CaseInput.origin`; None for every complaint case, so histories
recorded before it replay unchanged). Complaints filed later about the project join it as members, as they
join any case.

Verifying such a case while no complaint has joined it (`verification_refusal`): there is no complainant to
withdraw, to find unfounded or to send to arbitration, and no claim to sum, so confirmed arrears need the
inspector's own figures; `no_arrears_found` is its outcome when the inspection finds none, and the reason it
closes with (not `unfounded`: nobody complained). Once complaints have joined, it is verified like any case
(and their outcomes apply, not `no_arrears_found`).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.enums import VerificationOutcome


class CaseKind(StrEnum):
    """What a ledger case is (the ledger's `kind`)."""

    COMPLAINT = "complaint"  # opened by a complaint: every case before early warnings
    EARLY_WARNING = "early_warning"  # 预警案件: opened on a project's early warning, complaints may join it


class CaseOrigin(_Model):
    """An early-warning case's origin, in its workflow input: the project and the warnings it was opened on."""

    kind: CaseKind = CaseKind.EARLY_WARNING
    project_id: str = Field(description="The monitoring register's project id (`PRJ-…`).")
    warning_ids: list[str] = Field(min_length=1, description="The warnings (`WRN-…`) the case was opened on.")
    opened_at: datetime = Field(description="When the cases service opened it: the investigation limit counts from it.")


# Outcomes that speak of a complainant, which a case no complaint has joined does not have.
NEEDS_A_COMPLAINANT = frozenset(
    {VerificationOutcome.UNFOUNDED, VerificationOutcome.WITHDRAWN, VerificationOutcome.LABOUR_DISPUTE}
)


def verification_refusal(
    origin: CaseOrigin | None,
    has_members: bool,
    outcome: VerificationOutcome,
    confirmed_amount: Decimal | None,
    confirmed_workers: int | None,
) -> str | None:
    """Why a verification outcome does not fit the case (in Chinese and English), or None when it does."""
    if outcome is VerificationOutcome.NO_ARREARS_FOUND:
        if origin is None:
            return "「未发现欠薪」是预警案件的核查结论，投诉案件请按投诉核实结论办理 (no_arrears_found is an early-warning case's outcome)"
        if has_members:
            return (
                "已有投诉并入本案，请按投诉核实结论办理（如投诉不成立） (complaints joined the case: "
                "record their outcome, e.g. unfounded)"
            )
        return None
    if origin is None or has_members:
        return None
    if outcome in NEEDS_A_COMPLAINANT:
        return (
            f"预警案件尚无投诉人，不能以「{outcome.value}」结论办理；未发现欠薪请选 no_arrears_found"
            f" (no complainant in this early-warning case: {outcome.value} does not apply)"
        )
    if outcome is VerificationOutcome.WAGE_ARREARS and (confirmed_amount is None or confirmed_workers is None):
        return (
            "预警案件没有投诉金额可汇总，确属欠薪须核定欠薪金额和人数"
            " (no complaint's claim to sum: confirmed arrears need confirmed_amount and confirmed_workers)"
        )
    return None
