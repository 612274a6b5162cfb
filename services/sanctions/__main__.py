"""`python -m services.sanctions api|relay|worker`: run one of the sanctions service's processes."""

from services.common.service import main
from services.sanctions.app import create_app
from services.sanctions.settings import SanctionsSettings
from services.sanctions.spec import SPEC
from services.sanctions.worker import build_worker

if __name__ == "__main__":
    main(SPEC, create_app, SanctionsSettings, build_worker)
