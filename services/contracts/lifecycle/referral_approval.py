"""The approval of a criminal referral (国务院令第310号 arts. 5 and 8): the case team's report, the bureau
head's decision, and where the case stands between them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, field_validator, model_validator

from services.contracts.lifecycle._model import _Model
from services.contracts.lifecycle.enums import SubjectiveElement
from services.contracts.lifecycle.messages import Evidence


class ReferralReport(_Model):
    """The case team's referral report (涉嫌犯罪案件移送报告): at least two officers, the facts, the subjective
    element with its evidence."""

    team: list[str] = Field(min_length=2, description="The officers of the case team (at least two).")
    facts: str = Field(min_length=10, max_length=4000, description="The facts of the suspected offence.")
    subjective_element: SubjectiveElement
    evidence: list[Evidence] = Field(min_length=1)
    submitted_by: str

    @field_validator("team")
    @classmethod
    def _two_officers(cls, team: list[str]) -> list[str]:
        if len(set(team)) < 2:
            raise ValueError("the case team needs at least two different officers (国务院令第310号 art. 5)")
        return team


class ReferralDecisionRecord(_Model):
    """The bureau head's decision on the report: approve the referral, or refuse it with the reason."""

    approved: bool
    decided_by: str
    reason: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _refusal_gives_reason(self) -> ReferralDecisionRecord:
        if not self.approved and not (self.reason and self.reason.strip()):
            raise ValueError("a refusal to refer gives its reason")
        return self


ReferralApprovalOutcome = Literal["awaiting_report", "awaiting_decision", "approved", "refused", "moot"]


class ReferralApproval(_Model):
    """Where a proposed criminal referral stands: proposed when the threshold was reached at refusal, then
    reported by the case team, then decided by the bureau head (or moot: the wages were paid first)."""

    proposed_at: datetime
    outcome: ReferralApprovalOutcome = "awaiting_report"
    report: ReferralReport | None = None
    reported_at: datetime | None = None
    decision: ReferralDecisionRecord | None = None
    decided_at: datetime | None = None


class ReferralWithdrawalProposal(_Model):
    """An inspector proposes to withdraw a standing criminal referral: the wages and the additional compensation
    are both paid before the police decided (法释〔2013〕3号 art. 6). The bureau head decides."""

    proposed_by: str
    reason: str = Field(min_length=2, max_length=2000)


class ReferralWithdrawalDecision(_Model):
    """The bureau head's decision on a proposed withdrawal: approve it, or refuse it with the reason."""

    approved: bool
    decided_by: str
    reason: str | None = Field(None, max_length=2000)

    @model_validator(mode="after")
    def _refusal_gives_reason(self) -> ReferralWithdrawalDecision:
        if not self.approved and not (self.reason and self.reason.strip()):
            raise ValueError("a refusal to withdraw gives its reason")
        return self


ReferralWithdrawalOutcome = Literal["pending", "approved", "refused"]


class ReferralWithdrawal(_Model):
    """A proposed withdrawal of the police referral and where it stands."""

    proposal: ReferralWithdrawalProposal
    proposed_at: datetime
    decision: ReferralWithdrawalDecision | None = None
    decided_at: datetime | None = None

    @property
    def outcome(self) -> ReferralWithdrawalOutcome:
        """Pending until the bureau head decides; then approved or refused."""
        if self.decision is None:
            return "pending"
        return "approved" if self.decision.approved else "refused"
