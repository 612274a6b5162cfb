"""`python -m services.referrals api|relay`: run one of the referrals service's processes."""

from services.common.service import main
from services.referrals.app import create_app
from services.referrals.spec import SPEC

if __name__ == "__main__":
    main(SPEC, create_app)
