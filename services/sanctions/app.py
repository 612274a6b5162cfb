"""The sanctions API: `create_app(settings)` builds it; routes live in `api.py` (the lifecycle's requests) and
the routers by resource it lists in `api.ROUTERS` (`listings_api.py`, `registers_api.py`, `public_api.py`,
`interviews_api.py`)."""

from __future__ import annotations

from fastapi import FastAPI

from services.common.data_keys import KeyPurpose
from services.common.lifecycle_config import live_calendar
from services.common.service import ServiceSettings, create_service_app
from services.sanctions.api import ROUTERS
from services.sanctions.commands import Sanctions
from services.sanctions.interview_commands import Interviews
from services.sanctions.settings import SanctionsSettings
from services.sanctions.spec import SPEC


def create_app(settings: ServiceSettings) -> FastAPI:
    sanctions_settings = settings if isinstance(settings, SanctionsSettings) else SanctionsSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.sanctions = Sanctions(
            app.state.pool,
            app.state.temporal.require(),
            sanctions_settings,
            sanctions_settings.cipher(KeyPurpose.SANCTIONS),
            live_calendar(sanctions_settings),
            sanctions_settings.reference_key_bytes(),
        )
        app.state.interviews = Interviews(app.state.pool, sanctions_settings)

    return create_service_app(SPEC, sanctions_settings, ROUTERS, on_startup=on_startup)
