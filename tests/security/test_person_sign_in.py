"""People sign in at the token issuer on the real stack: accounts made with `anxin users add`, a token only for
the right password (and code), none for a disabled account, and the audit rows of what the person's token did
name the person (`person:<id>`), not a shared client."""

from __future__ import annotations

import re
import uuid

import httpx
import psycopg
import pyotp
import pytest

from deploy.secrets import development_clients
from deploy.stack import Stack
from tests.support.operator_cli import anxin


@pytest.fixture(scope="module")
def apis(stack: Stack) -> Stack:
    stack.start_processes(["issuer-api", "cases-api"], timeout=180)
    return stack


def _users(stack: Stack, *args: str) -> str:
    result = anxin(stack, "users", *args, env={"ANXIN_ISSUER_DATABASE_URL": stack.postgres.service_url("issuer")})
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def _add(stack: Stack, role: str, *scope: str, totp: bool = False) -> tuple[str, str, str | None]:
    """A new person (id, initial password, otpauth URI or None), made by the command."""
    person_id = f"p{uuid.uuid4().hex[:10]}"
    out = _users(stack, "add", person_id, "--name", "王丽", "--role", role, *scope, *(["--totp"] if totp else []))
    password = re.search(r"initial password: (\S+)", out)
    uri = re.search(r"totp: (otpauth://\S+)", out)
    assert password, out
    return person_id, password.group(1), uri.group(1) if uri else None


def _sign_in(stack: Stack, person_id: str, password: str, **extra: str) -> httpx.Response:
    console = development_clients(stack.data_dir)["console"]
    return httpx.post(f"{stack.processes['issuer-api'].url}/oauth/token", auth=("console", console["client_secret"]),
                      data={"grant_type": "password", "username": person_id, "password": password, **extra},
                      timeout=30)


def test_a_person_made_by_the_command_signs_in_and_a_wrong_password_does_not(apis: Stack) -> None:
    person_id, password, _ = _add(apis, "county_inspector", "--county", "130403")
    signed_in = _sign_in(apis, person_id, password)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["role"] == "county_inspector"
    assert _sign_in(apis, person_id, password + "x").status_code == 401
    assert _sign_in(apis, f"{person_id}-nobody", password).status_code == 401
    # The person's token opens the services as an inspector of their county: the cases list answers.
    listed = httpx.get(f"{apis.processes['cases-api'].url}/v1/cases",
                       headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"}, timeout=30)
    assert listed.status_code == 200, listed.text


def test_a_disabled_account_gets_no_token(apis: Stack) -> None:
    person_id, password, _ = _add(apis, "county_inspector", "--county", "130402")
    assert _sign_in(apis, person_id, password).status_code == 200
    assert "disabled" in _users(apis, "disable", person_id)
    refused = _sign_in(apis, person_id, password)
    assert refused.status_code == 403 and "access_token" not in refused.text
    listed = [line for line in _users(apis, "list").splitlines() if line.startswith(person_id)]
    assert len(listed) == 1 and "DISABLED" in listed[0]


def test_an_enrolled_person_signs_in_with_the_code_of_the_printed_uri(apis: Stack) -> None:
    person_id, password, uri = _add(apis, "city_office", totp=True)
    assert uri is not None and uri.startswith("otpauth://totp/")
    assert _sign_in(apis, person_id, password).status_code == 401
    code = pyotp.parse_uri(uri).now()
    assert _sign_in(apis, person_id, password, totp=code).status_code == 200


def test_an_action_with_a_persons_token_is_audited_under_the_person(apis: Stack) -> None:
    person_id, password, _ = _add(apis, "city_office")
    token = _sign_in(apis, person_id, password).json()["access_token"]
    audit = f"{apis.processes['cases-api'].url}/v1/audit"
    # Reading the trail is itself an audited action: the second read finds the first, under the person.
    for _ in range(2):
        read = httpx.get(audit, params={"actor": f"person:{person_id}"},
                         headers={"Authorization": f"Bearer {token}"}, timeout=30)
        assert read.status_code == 200, read.text
    entries = read.json()["entries"]
    assert [(e["actor"], e["role"], e["action"]) for e in entries] == [
        (f"person:{person_id}", "city_office", "audit.read")]
    with psycopg.connect(apis.postgres.database_url("anxin")) as conn:
        rows = conn.execute("SELECT actor FROM cases.audit_log WHERE actor LIKE %s",
                            (f"%{person_id}%",)).fetchall()
    assert rows == [(f"person:{person_id}",), (f"person:{person_id}",)]


def test_the_command_refuses_a_role_no_person_holds(apis: Stack) -> None:
    result = anxin(apis, "users", "add", "robot", "--name", "机器", "--role", "lifecycle",
                   env={"ANXIN_ISSUER_DATABASE_URL": apis.postgres.service_url("issuer")})
    assert result.returncode == 1 and "no person holds" in result.stdout
