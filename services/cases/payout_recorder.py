"""The cases worker's inbox consumer of the monitoring service's payout events (`cases-payouts`, on
`Topics.MONITORING`): what became of a payout a case asked for — the city office's approval or refusal, the
bank's payment — is recorded on the case's workflow (its Update `record_payout_outcome`, once per payout and
outcome: the update id is `<payout id>:<outcome>` and the workflow changes nothing when told again), then
reported to the ledger by `case.payout_outcome_recorded`, written in the inbox transaction.

A case whose workflow has ended (closed while its payout went on) or that did not ask for the payout has it
recorded in the ledger only (`on_process` false). A payout of no case workflow at all is not the cases
service's: it is left out. Any other failure of Temporal fails the event, which the inbox retries.
"""

from __future__ import annotations

import logging
from typing import Any

from temporalio.client import WorkflowUpdateFailedError
from temporalio.service import RPCError, RPCStatusCode

from services.common.event_handlers import EventHandlers
from services.common.outbox import add_event
from services.common.settings import CommonSettings
from services.common.workflow_starter import WorkflowStarter
from services.contracts.case_payout_events import PayoutOutcomeRecorded
from services.contracts.case_payouts import CasePayoutMessages, PayoutOutcome, PayoutOutcomeKind
from services.contracts.events import EventEnvelope
from services.contracts.guarantee_funds import PayoutApproved, PayoutPaid, PayoutRefused
from services.contracts.lifecycle import case_workflow_id

log = logging.getLogger(__name__)

CONSUMER_NAME = "cases-payouts"


class PayoutRecorder(WorkflowStarter):
    """Inbox handler: each payout's approval, refusal and payment recorded on its case."""

    def __init__(self, settings: CommonSettings) -> None:
        super().__init__(settings)
        self.handlers = EventHandlers(
            {PayoutApproved: self._outcome, PayoutRefused: self._outcome, PayoutPaid: self._outcome},
            consumer=CONSUMER_NAME,
        )

    def _outcome(self, conn: Any, event: EventEnvelope, told: PayoutApproved | PayoutRefused | PayoutPaid) -> None:
        match told:
            case PayoutPaid():
                outcome = PayoutOutcome(
                    payout_id=told.payout_id,
                    outcome=PayoutOutcomeKind.PAID,
                    amount=told.amount,
                    workers_paid=told.workers_paid,
                    paid_on=told.paid_on,
                )
            case PayoutApproved():
                outcome = PayoutOutcome(
                    payout_id=told.payout_id,
                    outcome=PayoutOutcomeKind.APPROVED,
                    amount=told.amount,
                    workers_paid=told.workers_paid,
                )
            case PayoutRefused():
                outcome = PayoutOutcome(payout_id=told.payout_id, outcome=PayoutOutcomeKind.REFUSED, amount=told.amount)
        on_process = self.run(self._record(case_workflow_id(told.case_id), outcome))
        if on_process is None:
            return
        recorded = PayoutOutcomeRecorded(
            case_id=told.case_id,
            payout_id=told.payout_id,
            outcome=outcome.outcome.value,
            source=told.source.value,
            amount=outcome.amount,
            workers_paid=outcome.workers_paid,
            paid_on=outcome.paid_on,
            on_process=on_process,
        )
        add_event(
            conn,
            recorded.TOPIC,
            EventEnvelope.wrap(recorded, subject=told.case_id, producer="cases", occurred_at=event.occurred_at),
        )

    async def _record(self, workflow_id: str, outcome: PayoutOutcome) -> bool | None:
        """True: the case's workflow recorded it; False: the case's workflow has ended or did not ask for this
        payout; None: there is no such case workflow."""
        client = await self.client()
        handle = client.get_workflow_handle(workflow_id)
        try:
            await handle.execute_update(
                CasePayoutMessages.RECORD_PAYOUT_OUTCOME, outcome, id=f"{outcome.payout_id}:{outcome.outcome.value}"
            )
            return True
        except WorkflowUpdateFailedError as exc:
            log.warning(
                "payout outcome not recorded on the case",
                extra={"workflow_id": workflow_id, "payout_id": outcome.payout_id, "reason": str(exc.cause)[:300]},
            )
            return False
        except RPCError as exc:
            if exc.status is not RPCStatusCode.NOT_FOUND:
                raise
        try:
            await handle.describe()
        except RPCError as exc:
            if exc.status is RPCStatusCode.NOT_FOUND:
                return None
            raise
        return False  # the case's workflow has ended
