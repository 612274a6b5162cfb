"""The monitoring API: `create_app(settings)` builds it; routes live in `api.py`."""

from datetime import UTC, datetime

from fastapi import FastAPI

from services.common.service import ServiceSettings, create_service_app
from services.contracts.legal_time import legal_date
from services.monitoring.api import router
from services.monitoring.commands import Register
from services.monitoring.spec import SPEC


def create_app(settings: ServiceSettings) -> FastAPI:
    async def on_startup(app: FastAPI) -> None:
        app.state.register = Register(app.state.pool, lambda: legal_date(datetime.now(UTC)))

    return create_service_app(SPEC, settings, [router], on_startup=on_startup)
