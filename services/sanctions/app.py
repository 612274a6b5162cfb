"""The sanctions API: `create_app(settings)` builds it; routes live in `api.py`."""

from __future__ import annotations

import logging

from fastapi import FastAPI

from services.common.lifecycle_config import load_lifecycle_config
from services.common.service import ServiceSettings, create_service_app
from services.contracts.lifecycle import CalendarConfig
from services.sanctions.api import router
from services.sanctions.commands import Sanctions
from services.sanctions.settings import SanctionsSettings
from services.sanctions.spec import SPEC

log = logging.getLogger(__name__)


def calendar_config(settings: ServiceSettings) -> CalendarConfig:
    """The bureau's official calendar entries (the lifecycle configuration file), for working-day periods."""
    try:
        return load_lifecycle_config(settings).calendar
    except (OSError, ValueError) as exc:
        log.warning("lifecycle configuration unreadable; the calendar package alone applies",
                    extra={"error": str(exc)[:300]})
        return CalendarConfig()


def create_app(settings: ServiceSettings) -> FastAPI:
    sanctions_settings = settings if isinstance(settings, SanctionsSettings) else SanctionsSettings()

    async def on_startup(app: FastAPI) -> None:
        app.state.sanctions = Sanctions(
            app.state.pool, app.state.temporal.require(), sanctions_settings, sanctions_settings.cipher(),
            calendar_config(sanctions_settings), sanctions_settings.reference_key_bytes(),
        )

    return create_service_app(SPEC, sanctions_settings, [router], on_startup=on_startup)
