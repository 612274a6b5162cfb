"""The cases API: `create_app(settings)` builds it; routes live in `api.py` (the lifecycle's requests, and what
the routers share), `ledger_api.py` (the ledger's reads), `report_api.py` (statistics, reports, the public
figures), `action_api.py` (the actions on complaints and cases), `decision_api.py` (the requests that wait on
a second person's decision, and the confirmations of dates and totals), `export_api.py` (the queue as a
workbook), `circular_api.py` (the quarterly circular per county)."""

from fastapi import FastAPI

from services.cases import (
    action_api,
    circular_api,
    decision_api,
    export_api,
    ledger_api,
    payout_api,
    report_api,
)
from services.cases.actions import Cases
from services.cases.api import router
from services.cases.spec import SPEC
from services.common.service import ServiceSettings, create_service_app


def create_app(settings: ServiceSettings) -> FastAPI:
    async def on_startup(app: FastAPI) -> None:
        app.state.cases = Cases(app.state.pool, app.state.temporal.require())

    return create_service_app(
        SPEC,
        settings,
        [
            export_api.router,
            circular_api.router,
            router,
            ledger_api.router,
            report_api.router,
            action_api.router,
            decision_api.router,
            payout_api.router,
        ],
        on_startup=on_startup,
    )
