"""The cases API: `create_app(settings)` builds it; routes live in `api.py`."""

from fastapi import FastAPI

from services.cases.api import router
from services.cases.spec import SPEC
from services.common.service import ServiceSettings, create_service_app


def create_app(settings: ServiceSettings) -> FastAPI:
    return create_service_app(SPEC, settings, [router])
