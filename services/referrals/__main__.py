"""`python -m services.referrals api|relay|worker`: run one of the referrals service's processes."""

from services.common.service import main
from services.referrals.app import create_app
from services.referrals.settings import ReferralsSettings
from services.referrals.spec import SPEC
from services.referrals.worker import build_worker

if __name__ == "__main__":
    main(SPEC, create_app, ReferralsSettings, build_worker)
