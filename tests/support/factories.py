"""Test data for the integration suites: seeds, credit codes and complaint bodies — never a real party's.

Each suite describes its complaints once (`ComplaintTemplate`: its employers' and projects' names, period,
story, phone prefix and credit-code series) so that its cases, employers and workers stay apart from other
suites' in a shared stack, and files as many as it needs with `template.body(seed())`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from stdnum.cn import uscc

from services.common.crypto import keyed_reference
from services.contracts.intake_events import ComplaintSubmitted
from tests.support.identities import sample_id_number

# Only for made-up complainants: a keyed reference needs a key, none of a stack's is needed.
SAMPLE_REFERENCE_KEY = b"anxin-sample-complainants"


def seed() -> int:
    """A fresh number for names, codes and identities, so runs and tests do not meet each other's data."""
    return uuid.uuid4().int % 10**7


def credit_code(n: int, series: str = "MA") -> str:
    """A well-formed unified social credit code (Handan, enterprise) in `series`, numbered by `n`."""
    body = f"91130400{series}{n % 10**7:07d}"
    return body + uscc.calc_check_digit(body)


def complaint_submitted(
    complaint_id: str,
    *,
    employer: str,
    project: str,
    submitted_at: datetime,
    county: str = "130402",
    period: tuple[date, date] = (date(2026, 6, 1), date(2026, 9, 30)),
    amount_owed: Decimal = Decimal("18600.00"),
    workers: int = 3,
) -> ComplaintSubmitted:
    """`complaint.submitted` as intake publishes it, from a made-up complainant (keyed references only)."""
    return ComplaintSubmitted(
        complaint_id=complaint_id,
        channel="qr_form",
        site_id=None,
        county_code=county,
        project_name=project,
        employer_name=employer,
        employer_name_key=employer,
        employer_credit_code=None,
        period_start=period[0],
        period_end=period[1],
        amount_owed=amount_owed,
        workers_affected=workers,
        confidential=False,
        stale_for_rejection=False,
        person_ref=keyed_reference(complaint_id, SAMPLE_REFERENCE_KEY, prefix="person"),
        phone_ref=keyed_reference(complaint_id, SAMPLE_REFERENCE_KEY, prefix="phone"),
        phone_masked="139****0000",
        evidence_count=0,
        submitted_at=submitted_at,
    )


@dataclass(frozen=True)
class ComplaintTemplate:
    """How one suite's complaints look; the employer and project names end with the employer's seed."""

    employer_name: str
    project_name: str
    period: tuple[str, str]
    description: str
    phone_prefix: str = "139"
    credit_series: str = "MA"
    amount_owed: str = "12000.00"
    workers_affected: int = 2

    def body(self, employer_seed: int, county: str = "130402", **overrides: Any) -> dict[str, Any]:
        """A complaint against the employer `employer_seed`, by a new worker; `overrides` replace fields."""
        n = seed()
        body = {
            "worker_name": "测试工人",
            "id_number": sample_id_number(n),
            "phone": f"{self.phone_prefix}{n % 100000000:08d}",
            "employer_name": f"{self.employer_name}{employer_seed}",
            "employer_credit_code": credit_code(employer_seed, self.credit_series),
            "project_name": f"{self.project_name}{employer_seed}",
            "county_code": county,
            "period_start": self.period[0],
            "period_end": self.period[1],
            "amount_owed": self.amount_owed,
            "workers_affected": self.workers_affected,
            "description": self.description,
        }
        body.update(overrides)
        return body
