"""`python -m services.monitoring api|relay|worker`: run one of the monitoring service's processes."""

from services.common.service import main
from services.monitoring.app import create_app
from services.monitoring.settings import MonitoringSettings
from services.monitoring.spec import SPEC
from services.monitoring.worker import build_worker

if __name__ == "__main__":
    main(SPEC, create_app, MonitoringSettings, build_worker)
