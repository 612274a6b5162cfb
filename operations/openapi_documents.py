"""The OpenAPI documents of the services agencies call, written from the apps themselves (`make openapi`).

    python -m operations.openapi_documents           writes docs/openapi/<service>.json
    python -m operations.openapi_documents --check   writes nothing; exits 1 naming the files that differ

Each document is what the running service serves at `/openapi.json`: the app is built by its own
`create_app`, with settings that need no engine (a throwaway token key set and data keys, the usual data
directory `.data/`, where nothing is written unless a span is) and without its lifespan, so nothing connects to PostgreSQL, Kafka or Temporal. None of those
settings reaches the document. Keys sorted, no timestamps: a file changes exactly when an API does. The
generated clients (`make clients`, docs/api.md "Clients") are built from these files.
"""

from __future__ import annotations

import base64
import importlib
import json
from pathlib import Path
from typing import Any

from operations.generated_files import GeneratedFiles
from services.common.service import ServiceSettings
from services.common.token_keys import new_signing_jwk, public_jwk

ROOT = Path(__file__).resolve().parents[1]
OPENAPI_DIR = Path("docs/openapi")
# The services whose APIs agencies call (the token issuer and the console are not among them: the issuer's
# one endpoint is the OAuth token request every client library already makes, the console serves pages).
SERVICES = ("intake", "cases", "referrals", "sanctions", "monitoring", "webhooks")
# Each service's settings class, where it has its own (its app reads fields the common one lacks).
SETTINGS_CLASSES = {
    "intake": "services.intake.settings.IntakeSettings",
    "referrals": "services.referrals.settings.ReferralsSettings",
    "sanctions": "services.sanctions.settings.SanctionsSettings",
    "webhooks": "services.webhooks.settings.WebhooksSettings",
}


def _offline_settings(service: str) -> ServiceSettings:
    """Settings that let `create_app` build the app: the keys it checks at build time, made up on the spot."""
    module_name, _, class_name = SETTINGS_CLASSES.get(service, "services.common.service.ServiceSettings").rpartition(
        "."
    )
    settings_class: type[ServiceSettings] = getattr(importlib.import_module(module_name), class_name)
    data_key = base64.b64encode(bytes(32)).decode()
    values = {
        "ANXIN_TOKEN_JWKS": json.dumps({"keys": [public_jwk(new_signing_jwk(kid="openapi"))]}),
        # The default, whatever the environment says: the process's tracing (one per process) may write there.
        "ANXIN_DATA_DIR": str(ROOT / ".data"),
        "ANXIN_INTAKE_KEYS": json.dumps({"openapi": data_key}),
        "ANXIN_INTAKE_KEY_ID": "openapi",
        "ANXIN_REFERENCE_KEY": data_key,
    }
    return settings_class(**values)  # type: ignore[arg-type]


def document(service: str) -> dict[str, Any]:
    """The OpenAPI document `service`'s API serves."""
    create_app = importlib.import_module(f"services.{service}.app").create_app
    return create_app(_offline_settings(service)).openapi()  # type: ignore[no-any-return]


def render(openapi: dict[str, Any]) -> str:
    return json.dumps(openapi, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def expected_files() -> dict[Path, str]:
    """Every document (paths relative to the repository) with its content."""
    return {OPENAPI_DIR / f"{service}.json": render(document(service)) for service in SERVICES}


FILES = GeneratedFiles(
    expected_files, OPENAPI_DIR, "*.json", "no service has it", "make openapi` and commit `docs/openapi/"
)
differences, write = FILES.differences, FILES.write


def main(argv: list[str] | None = None) -> int:
    return FILES.main(
        argv,
        __doc__.splitlines()[0] if __doc__ else None,
        lambda written: f"wrote {len(written)} OpenAPI documents in {OPENAPI_DIR}/",
    )


if __name__ == "__main__":
    raise SystemExit(main())
