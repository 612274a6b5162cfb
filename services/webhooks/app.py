"""The webhooks API: `create_app(settings)` builds it; routes live in `api.py`."""

from fastapi import FastAPI

from services.common.service import create_service_app
from services.webhooks.api import router
from services.webhooks.commands import Subscriptions
from services.webhooks.settings import WebhooksSettings
from services.webhooks.spec import SPEC


def create_app(settings: WebhooksSettings) -> FastAPI:
    async def on_startup(app: FastAPI) -> None:
        app.state.subscriptions = Subscriptions(app.state.pool, settings)

    return create_service_app(SPEC, settings, [router], on_startup=on_startup)
