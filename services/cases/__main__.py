"""`python -m services.cases api|relay|worker`: run one of the cases service's processes."""

from services.cases.app import create_app
from services.cases.settings import CasesSettings
from services.cases.spec import SPEC
from services.cases.worker import build_worker
from services.common.service import main

if __name__ == "__main__":
    main(SPEC, create_app, CasesSettings, build_worker)
