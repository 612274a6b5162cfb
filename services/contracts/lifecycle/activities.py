"""The lifecycle's activities as typed declarations: each one's name, argument and result, stated once.

Workflows call an activity through its declaration (`workflow.execute_activity(issue_order_to_pay, request,
...)`): the SDK takes the name from the definition, and mypy checks the argument and the result. The bodies
never run; whoever hosts an activity registers an implementation under the same name, with `implements`
(the lifecycle worker's are in `workflows/activities.py`), which mypy checks against the declaration too.

Not re-exported from `services.contracts.lifecycle` (the reports' model imports that package): import the
declarations from this module. Pure, like the rest of the contract.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temporalio import activity

from services.contracts.lifecycle.activity_messages import (
    AgencyNotice,
    CompensationRequest,
    DepartmentTerms,
    DepartmentTermsRequest,
    DocumentRef,
    ForwardRequest,
    LetterRequest,
    Notification,
    OrderToPayRequest,
    ReferralRequest,
    ReferralSupplementRequest,
    SanctionRequest,
    WithdrawReferralRequest,
)
from services.contracts.lifecycle.deadlines import Deadline, DeadlineRequest
from services.contracts.lifecycle.messages import JoinCaseRequest
from services.contracts.lifecycle.names import ActivityNames
from services.contracts.process_reports import ProcessReport

A = TypeVar("A")
R = TypeVar("R")
S = TypeVar("S")


def activity_name(declared: Callable[..., Any]) -> str:
    """The name an activity is registered and scheduled under, read from its definition as the SDK reads it
    when it schedules the activity."""
    name = activity._Definition.must_from_callable(declared).name
    if name is None:
        raise TypeError(f"{declared!r} is a dynamic activity: it has no name")
    return name


def implements(
    declared: Callable[[A], Awaitable[R]],
) -> Callable[[Callable[[S, A], Awaitable[R]]], Callable[[S, A], Awaitable[R]]]:
    """Register a method of an activity class as the implementation of `declared`: under its name, and, for
    mypy, with its argument and result types."""
    return activity.defn(name=activity_name(declared))


# --- the lifecycle worker's own ----------------------------------------------------------------------------


@activity.defn(name=ActivityNames.COMPUTE_DEADLINE)
async def compute_deadline(request: DeadlineRequest) -> Deadline:
    """Run as a local activity on the workflow's own worker."""
    raise NotImplementedError


@activity.defn(name=ActivityNames.JOIN_CASE)
async def join_case(request: JoinCaseRequest) -> None:
    raise NotImplementedError


@activity.defn(name=ActivityNames.NOTIFY_COMPLAINANT)
async def notify_complainant(message: Notification) -> None:
    raise NotImplementedError


# --- the cases service ----------------------------------------------------------------------------------------


@activity.defn(name=ActivityNames.NOTIFY_AGENCY)
async def notify_agency(notice: AgencyNotice) -> None:
    raise NotImplementedError


@activity.defn(name=ActivityNames.REPORT_PROCESS)
async def report_process(report: ProcessReport) -> None:
    raise NotImplementedError


@activity.defn(name=ActivityNames.FORWARD_COMPLAINT)
async def forward_complaint(request: ForwardRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.ISSUE_ORDER_TO_PAY)
async def issue_order_to_pay(request: OrderToPayRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.DECIDE_ADDITIONAL_COMPENSATION)
async def decide_additional_compensation(request: CompensationRequest) -> DocumentRef:
    raise NotImplementedError


# --- the referrals service ------------------------------------------------------------------------------------


@activity.defn(name=ActivityNames.ISSUE_LETTER)
async def issue_letter(request: LetterRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.MAKE_REFERRAL)
async def make_referral(request: ReferralRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.WITHDRAW_REFERRAL)
async def withdraw_referral(request: WithdrawReferralRequest) -> None:
    raise NotImplementedError


@activity.defn(name=ActivityNames.SEND_REFERRAL_SUPPLEMENT)
async def send_referral_supplement(request: ReferralSupplementRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.DEPARTMENT_TERMS)
async def department_terms(request: DepartmentTermsRequest) -> DepartmentTerms:
    """Reads only: the department's response days and ladder from the directory (`found=False` if unknown)."""
    raise NotImplementedError


# --- the sanctions service ------------------------------------------------------------------------------------


@activity.defn(name=ActivityNames.START_BLACKLIST_PROCEDURE)
async def start_blacklist_procedure(request: SanctionRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.MARK_FOR_PUBLICATION)
async def mark_for_publication(request: SanctionRequest) -> DocumentRef:
    raise NotImplementedError


@activity.defn(name=ActivityNames.REPORT_CORRECTION)
async def report_correction(request: SanctionRequest) -> DocumentRef:
    raise NotImplementedError
