"""A write-off of an emergency-fund advance (`fund.advance_written_off`, services/contracts/guarantee_funds.py) as
the cases worker's consumers of the monitoring topic take it: the ledger records it on the case's payout (stage
`written_off`, nothing owed back, a timeline line with the basis); the `cases-payouts` consumer, which tells a
case's workflow what became of its payouts, leaves it alone — a known event, not one set aside as unknown."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from services.cases.payout_recorder import PayoutRecorder
from services.cases.projection import LedgerProjection
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope
from services.contracts.guarantee_funds import FundAdvanceWrittenOff, PayoutSource, WriteOffBasis

CASE = "C-2026-000001"


class Rows:
    def __init__(self, row: dict[str, Any] | None) -> None:
        self.row = row

    def fetchone(self) -> dict[str, Any] | None:
        return self.row


class LedgerConnection:
    """Answers every lookup with the case (the ledger knows it) and keeps what was written."""

    def __init__(self) -> None:
        self.written: list[tuple[str, tuple[Any, ...]]] = []

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> Rows:
        if sql.lstrip().startswith("SELECT"):
            return Rows({"case_id": CASE})
        self.written.append((sql, params))
        return Rows(None)


def written_off() -> EventEnvelope:
    event = FundAdvanceWrittenOff(
        payout_id="PO-0123456789ABCDEF",
        case_id=CASE,
        county="130403",
        project_id=None,
        source=PayoutSource.EMERGENCY_FUND,
        amount=Decimal("150000.00"),
        recovered=Decimal("50000.00"),
        basis=WriteOffBasis.ENFORCEMENT_TERMINATED,
        written_off_on=date(2027, 3, 1),
        written_off_by="city-office",
    )
    return EventEnvelope.wrap(event, subject=CASE, producer="monitoring", occurred_at=datetime.now(UTC))


def test_the_ledger_records_the_payout_written_off_with_nothing_owed_back() -> None:
    conn = LedgerConnection()
    LedgerProjection()(conn, written_off())
    [params] = [p for sql, p in conn.written if sql.startswith("UPDATE case_payouts")]
    assert params[:3] == (Decimal("0.00"), True, "written_off") and params[-1] == "PO-0123456789ABCDEF"
    [line] = [p for sql, p in conn.written if sql.startswith("INSERT INTO timeline")]
    summary = line[7]
    assert "核销" in summary and "150000.00" in summary and "终结执行" in summary


def test_the_case_payouts_consumer_leaves_a_write_off_to_the_ledger() -> None:
    recorder = PayoutRecorder(CommonSettings())
    assert recorder.handlers.payload_of(written_off()) is None
