"""Stand-ins for the sanctions worker's activities, registered under the same names: each records the
command it received, so tests see exactly what the workflow asked the service to do. The workflow's reports
of its own state are kept apart (`reports`), in the order they arrived."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from temporalio import activity

from services.contracts.lifecycle import Deadline, DeadlineRequest
from services.contracts.sanctions_workflows import (
    DecisionCommand,
    DocumentInfo,
    ListingReport,
    NoticeCommand,
    PublishCommand,
    RemovalCommand,
    SanctionsActivities,
)
from services.contracts.working_days import compute_deadline


@dataclass
class FakeListingActivities:
    calls: list[tuple[str, Any]] = field(default_factory=list)
    reports: list[ListingReport] = field(default_factory=list)
    # While set and not yet released, reports wait before they arrive (a report on its way).
    reports_held: asyncio.Event | None = None
    reports_waiting: int = 0

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def command(self, name: str) -> Any:
        return next(command for called, command in self.calls if called == name)

    @activity.defn(name=SanctionsActivities.COMPUTE_DEADLINE)
    async def compute_deadline(self, request: DeadlineRequest) -> Deadline:
        self.calls.append(("deadline", request))
        return compute_deadline(request)

    @activity.defn(name=SanctionsActivities.ISSUE_PRIOR_NOTICE)
    async def issue_prior_notice(self, command: NoticeCommand) -> DocumentInfo:
        self.calls.append(("notice", command))
        return DocumentInfo(document_id=f"DOC-N-{command.listing_id}", document_number="告〔2026〕1号")

    @activity.defn(name=SanctionsActivities.RECORD_DECISION)
    async def record_decision(self, command: DecisionCommand) -> DocumentInfo:
        self.calls.append(("decision", command))
        return DocumentInfo(document_id=f"DOC-D-{command.listing_id}", document_number="决〔2026〕1号")

    @activity.defn(name=SanctionsActivities.PUBLISH_LISTING)
    async def publish_listing(self, command: PublishCommand) -> DocumentInfo:
        self.calls.append(("publish", command))
        return DocumentInfo(document_id=f"PUB-{command.listing_id}", document_number="")

    @activity.defn(name=SanctionsActivities.REMOVE_LISTING)
    async def remove_listing(self, command: RemovalCommand) -> DocumentInfo:
        self.calls.append(("remove", command))
        return DocumentInfo(document_id=f"RM-{command.listing_id}", document_number="")

    @activity.defn(name=SanctionsActivities.REPORT_LISTING_STATE)
    async def report_listing_state(self, report: ListingReport) -> None:
        if self.reports_held is not None and not self.reports_held.is_set():
            self.reports_waiting += 1
            await self.reports_held.wait()
        self.reports.append(report)

    def all(self) -> list[Any]:
        return [
            self.compute_deadline,
            self.issue_prior_notice,
            self.record_decision,
            self.publish_listing,
            self.remove_listing,
            self.report_listing_state,
        ]
