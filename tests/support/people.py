"""People's accounts on a test stack, made as an operator makes them (`anxin users add`), and their sign-in at
the token issuer through the console's client."""

from __future__ import annotations

import re
import uuid

import httpx

from deploy.secrets import development_clients
from deploy.stack import Stack
from tests.support.operator_cli import anxin


def users(stack: Stack, *args: str) -> str:
    """`anxin users ARGS` against the stack's issuer schema; its standard output (it must succeed)."""
    result = anxin(stack, "users", *args, env={"ANXIN_ISSUER_DATABASE_URL": stack.postgres.service_url("issuer")})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def add_person(stack: Stack, role: str, *scope: str, totp: bool = False) -> tuple[str, str, str | None]:
    """A new person (id, initial password, otpauth URI or None), made by the command."""
    person_id = f"p{uuid.uuid4().hex[:10]}"
    out = users(stack, "add", person_id, "--name", "王丽", "--role", role, *scope, *(["--totp"] if totp else []))
    password = re.search(r"initial password: (\S+)", out)
    uri = re.search(r"totp: (otpauth://\S+)", out)
    assert password, out
    return person_id, password.group(1), uri.group(1) if uri else None


def person_token_response(stack: Stack, person_id: str, password: str, **extra: str) -> httpx.Response:
    console = development_clients(stack.data_dir)["console"]
    return httpx.post(
        f"{stack.processes['issuer-api'].url}/oauth/token",
        auth=("console", console["client_secret"]),
        data={"grant_type": "password", "username": person_id, "password": password, **extra},
        timeout=30,
    )
