"""The intake API: `create_app(settings)` builds it; routes live in `api.py`."""

from fastapi import FastAPI

from services.common.service import ServiceSettings, create_service_app
from services.intake.api import router
from services.intake.spec import SPEC


def create_app(settings: ServiceSettings) -> FastAPI:
    return create_service_app(SPEC, settings, [router])
