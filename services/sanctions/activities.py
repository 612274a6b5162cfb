"""The blacklist workflow's activities: records, documents and events in the sanctions service's own schema.

`ListingActivities` is constructed with the sanctions pool, so only this service writes its tables. Every
activity is idempotent per listing and step: a retried activity finds its step done and answers with what
it recorded the first time (no second document, no second event).

It composes the procedure's documents (`listing_documents.py`: the prior notice, the decision) and the
listing's publication and removal (`listing_publication.py`) over what they share (`activity_base.py`), and
holds here the defence period's deadline, the workflow's reports of its state and the quarterly list's
activity (the drafting itself: `quarter_list.py`).
"""

from __future__ import annotations

from typing import Any

from temporalio import activity
from temporalio.exceptions import ApplicationError

from services.common.commands import request_hash
from services.contracts.lifecycle import Deadline, DeadlineRequest
from services.contracts.sanctions_events import ListingStateReported
from services.contracts.sanctions_workflows import ListingReport, QuarterListCommand, SanctionsActivities
from services.contracts.working_days import CalendarNotCovered, compute_deadline
from services.sanctions import domain, quarter_list, store
from services.sanctions.listing_documents import ListingDocuments
from services.sanctions.listing_publication import ListingPublication

CALENDAR_NOT_COVERED = "CalendarNotCovered"


class ListingActivities(ListingDocuments, ListingPublication):
    def all(self) -> list[Any]:
        return [
            self.compute_deadline,
            self.issue_prior_notice,
            self.record_decision,
            self.publish_listing,
            self.remove_listing,
            self.build_quarter_list,
            self.report_listing_state,
        ]

    @activity.defn(name=SanctionsActivities.COMPUTE_DEADLINE)
    async def compute_deadline(self, request: DeadlineRequest) -> Deadline:
        try:
            return compute_deadline(request)
        except CalendarNotCovered as err:
            raise ApplicationError(str(err), type=CALENDAR_NOT_COVERED, non_retryable=True) from err

    @activity.defn(name=SanctionsActivities.REPORT_LISTING_STATE)
    async def report_listing_state(self, report: ListingReport) -> None:
        """The workflow's state, written over the listing record when it is the newest report (one truth:
        services/contracts/listing_reports.py), with its event; a repeated key changes nothing."""
        async with self._pool.connection() as conn, conn.transaction():
            listing = await self._listing(conn, report.listing_id)
            if await store.find_request(conn, report.idempotency_key) is not None:
                return
            applied = await store.apply_report(
                conn, report.listing_id, report.seq, report.at, report.snapshot.model_dump(mode="json")
            )
            await store.insert_request(
                conn, report.idempotency_key, "listing_report", request_hash(report), report.listing_id
            )
            await store.emit(
                conn,
                listing["case_id"],
                ListingStateReported(
                    listing_id=report.listing_id,
                    case_id=listing["case_id"],
                    county=listing["county"],
                    seq=report.seq,
                    at=report.at,
                    applied=applied,
                    changes=report.changes,
                    snapshot=report.snapshot,
                ),
            )

    @activity.defn(name=SanctionsActivities.BUILD_QUARTER_LIST)
    async def build_quarter_list(self, command: QuarterListCommand) -> str:
        quarter = command.quarter or domain.previous_quarter(command.asked_on)
        return await quarter_list.build_quarter_list(self._pool, self._settings, quarter)
