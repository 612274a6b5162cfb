"""`python -m services.sanctions api|relay`: run one of the sanctions service's processes."""

from services.common.service import main
from services.sanctions.app import create_app
from services.sanctions.spec import SPEC

if __name__ == "__main__":
    main(SPEC, create_app)
