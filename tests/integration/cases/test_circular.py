"""The quarterly circular per county on the real stack: projects registered in the monitoring service reach the
cases service through Kafka, and the circular counts them beside the quarter's case figures; as JSON, and as the
official paper; another county's inspector cannot read it, the city office can."""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from pypdf import PdfReader

from deploy.stack import Stack
from services.cases import domain, periods
from services.cases.report_figures import FIGURES
from tests.integration.cases.conftest import Agencies
from tests.support.agencies import agency_clients, wait_for

COUNTY = "130402"
OWNER, CONTRACTOR = "91130400MA07ABCD12", "91130403MA0A00001N"


def _project(code: str, **changes: Any) -> dict[str, Any]:
    return {
        "code": code,
        "county": COUNTY,
        "name": f"邯山区项目 {code}",
        "owner": {"name": "邯郸市某房地产开发有限公司", "credit_code": OWNER},
        "general_contractor": {"name": "河北某建设集团有限公司", "credit_code": CONTRACTOR},
        "contract_value": "8000000.00",
        "start_date": "2025-01-01",
        "planned_end_date": "2030-12-31",
        "department": "housing",
        **changes,
    }


def test_the_circular_counts_the_quarters_cases_and_the_countys_projects(
    stack: Stack, agency_token: Callable[[str], str], agencies: Agencies
) -> None:
    stack.start_processes(["monitoring-api", "monitoring-relay"], timeout=150)
    monitoring = agency_clients(stack, agency_token)("monitoring-api", "inspector-130402")
    quarter = periods.period_containing("quarterly", domain.legal_date(datetime.now(UTC))).label
    before = agencies.inspector.get(f"/v1/circulars/{quarter}")
    assert before.status_code == 200, before.text
    counted = before.json()["projects"]

    run = uuid.uuid4().hex[:8].upper()
    covered = _project(
        f"HD-{run}-1",
        wage_account={"bank": "中国银行邯郸分行", "opened_on": "2024-12-20"},
        deposit={"amount": "160000.00", "form": "cash", "status": "lodged"},
    )
    for body in (covered, _project(f"HD-{run}-2")):
        assert monitoring.post("/v1/projects", json=body).status_code == 201

    def grown() -> dict[str, Any] | None:
        answer = agencies.inspector.get(f"/v1/circulars/{quarter}").json()
        return answer if answer["projects"]["projects"] == counted["projects"] + 2 else None

    answer = wait_for("the projects in the circular", grown, timeout=60)
    assert answer["county"] == COUNTY and answer["quarter"] == quarter
    assert answer["projects"]["with_wage_account"] == counted["with_wage_account"] + 1
    assert answer["projects"]["with_deposit"] == counted["with_deposit"] + 1
    assert set(answer["cases"]) == set(FIGURES)

    pdf = agencies.city.get(f"/v1/circulars/{quarter}/{COUNTY}.pdf")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert len(PdfReader(io.BytesIO(pdf.content)).pages) >= 1
    assert agencies.other_inspector.get(f"/v1/circulars/{quarter}/{COUNTY}.pdf").status_code == 404
    assert agencies.other_inspector.get(f"/v1/circulars/{quarter}", params={"county": COUNTY}).status_code == 404
    assert agencies.city.get(f"/v1/circulars/{quarter}").status_code == 422  # the city office names the county
    assert agencies.inspector.get("/v1/circulars/2026-Q5").status_code == 422
