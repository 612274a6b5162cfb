"""What the `anxin` commands share: the console, the development stack's data dir, the operator's settings
and Temporal client, agency tokens, and each service's database."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from rich.console import Console

from operations.i18n import _
from services.common.settings import CommonSettings

console = Console()
# Spinners and progress: on standard error, so that standard output holds only the answer (the JSON
# document of a read command run with --json, for a script to parse).
status_console = Console(stderr=True)

JsonOption = Annotated[
    bool, typer.Option("--json", help=_("print one JSON document for scripts (shapes: operations/json_shapes.py)"))
]


def development_stack() -> Any:
    """The local stack the commands default to: `make run`'s, or `make run-cluster`'s while that one runs."""
    from deploy.launcher import default_data_dir, make_stack, running_profile

    profile = running_profile()
    return make_stack(profile, default_data_dir(profile))


def _development_data_dir() -> Path:
    # Only the path: building a stack here would write development secrets at every command's import.
    from deploy.launcher import default_data_dir, running_profile

    return default_data_dir(running_profile()).resolve()


# Where the development clients and keys are (an operator of a real installation sets the variables instead).
DATA_DIR: Path = _development_data_dir()


def token_endpoint(service_url: str, issuer_url: str | None = None) -> str:
    """The token issuer's `/oauth/token`: the one given (`--issuer-url`, ANXIN_TOKEN_ISSUER_URL), else the one the
    service names — asked without credentials, which go to the issuer only."""
    issuer_url = issuer_url or os.environ.get("ANXIN_TOKEN_ISSUER_URL")
    if issuer_url:
        return f"{issuer_url.rstrip('/')}/oauth/token"
    answer = httpx.post(f"{service_url}/oauth/token", data={"grant_type": "client_credentials"}, timeout=10)
    if answer.status_code == 421 and answer.json().get("token_endpoint"):
        return str(answer.json()["token_endpoint"])
    raise typer.BadParameter(
        _("{url} names no token issuer ({status}): give --issuer-url").format(
            url=service_url, status=answer.status_code
        )
    )


def agency_token(
    base_url: str, client_id: str | None, client_secret: str | None, default_client: str, issuer_url: str | None = None
) -> str:
    client_id = client_id or os.environ.get("ANXIN_CLIENT_ID")
    client_secret = client_secret or os.environ.get("ANXIN_CLIENT_SECRET")
    if not client_id or not client_secret:
        development = DATA_DIR / "development-clients.json"
        if not development.exists():
            raise typer.BadParameter(_("give --client-id and --client-secret (no development clients found)"))
        clients = {c["client_id"]: c for c in json.loads(development.read_text())}
        client_id = client_id or default_client
        client_secret = clients[client_id]["client_secret"]
    response = httpx.post(
        token_endpoint(base_url, issuer_url),
        data={"grant_type": "client_credentials"},
        auth=(client_id, client_secret),
        timeout=10,
    )
    if response.status_code != 200:
        raise typer.BadParameter(
            _("token refused: {reason}").format(reason=response.json().get("detail", response.text))
        )
    return str(response.json()["access_token"])


def operator_settings() -> CommonSettings:
    """Settings from the environment; on a development stack, its keys from the data dir (the payload keys
    of the data keys: the commands read workflows, never sealed columns or documents; and on the cluster
    profile's, the CA, client certificate and SCRAM credentials its engines ask for)."""
    from deploy.secrets import process_keys

    secrets_file = DATA_DIR / "development-secrets.json"
    if not (os.environ.get("ANXIN_DATA_KEYS") or os.environ.get("ANXIN_PAYLOAD_KEYS")) and secrets_file.exists():
        for key, value in process_keys("operator-cli", json.loads(secrets_file.read_text())).items():
            os.environ.setdefault(key, value)
        from deploy.certificates import development_transport_env

        for key, value in development_transport_env(DATA_DIR).items():
            os.environ.setdefault(key, value)
    return CommonSettings()


async def temporal_client(settings: CommonSettings) -> Any:
    from services.common.temporal import connect

    with status_console.status("connecting to Temporal…"):
        return await connect(settings)


def service_database_urls() -> dict[str, str]:
    """Each service's database, by service: DATABASE_URL when set, else the development stack's service roles."""
    from deploy.engines import SERVICES

    postgres = development_stack().postgres
    return {service: postgres.service_url(service) for service in SERVICES}
