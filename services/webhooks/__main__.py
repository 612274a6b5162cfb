"""`python -m services.webhooks api|dispatcher`: run one of the webhooks service's processes."""

from services.common.service import main
from services.webhooks.app import create_app
from services.webhooks.dispatcher import build_dispatcher
from services.webhooks.settings import WebhooksSettings
from services.webhooks.spec import SPEC

if __name__ == "__main__":
    main(SPEC, create_app, WebhooksSettings, build_dispatcher)
