"""The monitoring API: `create_app(settings)` builds it; routes live in `api.py` (the register, feeds and warnings)
and `payout_api.py` (the payouts and funds)."""

from datetime import UTC, date, datetime

from fastapi import FastAPI

from services.common.crypto import keyed_reference
from services.common.service import create_service_app
from services.contracts.legal_time import legal_date
from services.monitoring.api import router
from services.monitoring.commands import Register
from services.monitoring.feed_commands import Feeds
from services.monitoring.fund_commands import Payouts
from services.monitoring.payout_api import router as payout_router
from services.monitoring.settings import MonitoringSettings
from services.monitoring.spec import SPEC
from services.monitoring.warnings import Warnings


def create_app(settings: MonitoringSettings) -> FastAPI:
    def today() -> date:
        return legal_date(datetime.now(UTC))

    async def on_startup(app: FastAPI) -> None:
        app.state.register = Register(app.state.pool, today)
        # A feed's worker is known by the keyed reference intake gives a complainant's ID number ("person").
        key = settings.reference_key_bytes()
        app.state.feeds = Feeds(
            app.state.pool,
            app.state.register,
            lambda id_number: keyed_reference(id_number, key, prefix="person"),
            today,
            settings.pay_tolerance,
        )
        app.state.warnings = Warnings(app.state.pool, settings.check_rules(), settings.pay_tolerance)
        app.state.payouts = Payouts(app.state.pool, app.state.temporal.require, today)

    return create_service_app(SPEC, settings, [router, payout_router], on_startup=on_startup)
