"""The intake API: `create_app(settings)` builds it; routes live in `api.py` (complaints, evidence, clues),
`site_api.py` (project sites and their posters), `page_routes.py` (the worker's pages) and `employer_api.py`
(the employer register)."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from services.common.data_keys import KeyPurpose
from services.common.service import create_service_app
from services.intake import api, domain, employer_api, page_routes, site_api
from services.intake.employers import EmployerRegister
from services.intake.evidence import LocalEvidenceStore
from services.intake.settings import IntakeSettings
from services.intake.spec import SPEC
from services.intake.submissions import Intake

STATIC_DIR = domain.__file__.rsplit("/", 1)[0] + "/static"


def create_app(settings: IntakeSettings) -> FastAPI:
    # Fail at start-up, not at the first complaint, when keys are missing.
    cipher = settings.cipher(KeyPurpose.INTAKE)
    reference_key = settings.reference_key_bytes()

    async def on_startup(app: FastAPI) -> None:
        app.state.intake = Intake(
            pool=app.state.pool,
            cipher=cipher,
            reference_key=reference_key,
            counties=dict(domain.DEFAULT_COUNTIES),
            complaints_per_ip_per_hour=settings.complaints_per_ip_per_hour,
            complaints_per_phone_per_day=settings.complaints_per_phone_per_day,
            wrong_codes_per_ip_per_hour=settings.wrong_codes_per_ip_per_hour,
            wrong_codes_per_complaint_per_hour=settings.wrong_codes_per_complaint_per_hour,
            evidence_store=app.state.evidence,
            evidence_bytes_per_ip_per_hour=settings.evidence_bytes_per_ip_per_hour,
        )
        app.state.employers = EmployerRegister(app.state.pool)

    app = create_service_app(
        SPEC, settings, [api.router, site_api.router, page_routes.router, employer_api.router], on_startup=on_startup
    )
    app.state.evidence = LocalEvidenceStore(
        settings.evidence_path, max_bytes=settings.evidence_max_bytes, cipher=cipher
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
