"""The referrals API: `create_app(settings)` builds it; routes live in `api.py` (the lifecycle's requests, letters,
case facts, departments), `handoff_api.py` (the departments' handoffs), `referral_api.py` (referrals and their
answers) and `project_letter_api.py` (the letters of the ladder against projects)."""

from fastapi import FastAPI

from services.common.cjk_font import cjk_font
from services.common.lifecycle_config import live_calendar
from services.common.service import ServiceSettings, create_service_app
from services.referrals import handoff_api, project_letter_api, referral_api
from services.referrals.api import router
from services.referrals.commands import Referrals
from services.referrals.departments import load_departments
from services.referrals.settings import ReferralsSettings
from services.referrals.spec import SPEC


def create_app(settings: ServiceSettings) -> FastAPI:
    referrals_settings = settings if isinstance(settings, ReferralsSettings) else ReferralsSettings()
    # Read once and checked before serving: a wrong departments file or a missing font stops the process.
    departments = load_departments(referrals_settings.departments_file)
    font = cjk_font(referrals_settings.cjk_font)
    calendar = live_calendar(settings)

    async def on_startup(app: FastAPI) -> None:
        app.state.referrals = Referrals(app.state.pool, app.state.temporal.require(), departments, font, calendar)
        await app.state.referrals.publish_directory()

    app = create_service_app(
        SPEC,
        settings,
        [router, handoff_api.router, referral_api.router, project_letter_api.router],
        on_startup=on_startup,
    )
    app.state.departments = departments
    return app
