"""The sanctions API: `create_app(settings)` builds it; routes live in `api.py`."""

from fastapi import FastAPI

from services.common.service import ServiceSettings, create_service_app
from services.sanctions.api import router
from services.sanctions.spec import SPEC


def create_app(settings: ServiceSettings) -> FastAPI:
    return create_service_app(SPEC, settings, [router])
