"""`python -m services.intake api|relay`: run one of the intake service's processes."""

from services.common.service import main
from services.intake.app import create_app
from services.intake.settings import IntakeSettings
from services.intake.spec import SPEC
from services.intake.worker import build_worker

if __name__ == "__main__":
    main(SPEC, create_app, IntakeSettings, build_worker)
