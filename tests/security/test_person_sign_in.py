"""People sign in at the token issuer on the real stack: accounts made with `anxin users add`, a token only for
the right password (and code), none for a disabled account, and the audit rows of what the person's token did
name the person (`person:<id>`), not a shared client."""

from __future__ import annotations

import httpx
import psycopg
import pyotp
import pytest

from deploy.stack import Stack
from tests.support.operator_cli import anxin
from tests.support.people import add_person, person_token_response, users


@pytest.fixture(scope="module")
def apis(stack: Stack) -> Stack:
    stack.start_processes(["issuer-api", "cases-api"], timeout=180)
    return stack


def test_a_person_made_by_the_command_signs_in_and_a_wrong_password_does_not(apis: Stack) -> None:
    person_id, password, _ = add_person(apis, "county_inspector", "--county", "130403")
    signed_in = person_token_response(apis, person_id, password)
    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.json()["role"] == "county_inspector"
    assert person_token_response(apis, person_id, password + "x").status_code == 401
    assert person_token_response(apis, f"{person_id}-nobody", password).status_code == 401
    # The person's token opens the services as an inspector of their county: the cases list answers.
    listed = httpx.get(
        f"{apis.processes['cases-api'].url}/v1/cases",
        headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"},
        timeout=30,
    )
    assert listed.status_code == 200, listed.text


def test_a_disabled_account_gets_no_token(apis: Stack) -> None:
    person_id, password, _ = add_person(apis, "county_inspector", "--county", "130402")
    assert person_token_response(apis, person_id, password).status_code == 200
    assert "disabled" in users(apis, "disable", person_id)
    refused = person_token_response(apis, person_id, password)
    assert refused.status_code == 403 and "access_token" not in refused.text
    listed = [line for line in users(apis, "list").splitlines() if line.startswith(person_id)]
    assert len(listed) == 1 and "DISABLED" in listed[0]


def test_an_enrolled_person_signs_in_with_the_code_of_the_printed_uri(apis: Stack) -> None:
    person_id, password, uri = add_person(apis, "city_office", totp=True)
    assert uri is not None and uri.startswith("otpauth://totp/")
    assert person_token_response(apis, person_id, password).status_code == 401
    enrolled = pyotp.parse_uri(uri)
    assert isinstance(enrolled, pyotp.TOTP)
    code = enrolled.now()
    assert person_token_response(apis, person_id, password, totp=code).status_code == 200


def test_a_totp_secret_is_stored_sealed_and_one_enrolled_in_the_clear_before_still_signs_in(apis: Stack) -> None:
    person_id, password, uri = add_person(apis, "city_office", totp=True)
    assert uri is not None
    enrolled = pyotp.parse_uri(uri)
    assert isinstance(enrolled, pyotp.TOTP)
    with psycopg.connect(apis.postgres.database_url("anxin")) as conn:
        row = conn.execute(
            "SELECT totp_secret, totp_secret_sealed FROM issuer.people WHERE person_id = %s", (person_id,)
        ).fetchone()
        assert row is not None and row[0] is None and row[1] is not None
        assert enrolled.secret.encode() not in bytes(row[1])
        # A copy of the sealed secret in another person's row does not open there: it is bound to its person.
        other_id, other_password, _ = add_person(apis, "city_office", totp=True)
        conn.execute("UPDATE issuer.people SET totp_secret_sealed = %s WHERE person_id = %s", (row[1], other_id))
        conn.commit()
    assert person_token_response(apis, other_id, other_password, totp=enrolled.now()).status_code == 401
    # As a secret enrolled before sealing was stored: in the clear column, still read.
    with psycopg.connect(apis.postgres.database_url("anxin")) as conn:
        conn.execute(
            "UPDATE issuer.people SET totp_secret = %s, totp_secret_sealed = NULL WHERE person_id = %s",
            (enrolled.secret, person_id),
        )
    assert person_token_response(apis, person_id, password, totp=enrolled.now()).status_code == 200
    assert person_token_response(apis, person_id, password, totp="000000").status_code == 401
    listed = [line for line in users(apis, "list").splitlines() if line.startswith(person_id)]
    assert len(listed) == 1 and "totp" in listed[0] and enrolled.secret not in users(apis, "list")


def test_an_action_with_a_persons_token_is_audited_under_the_person(apis: Stack) -> None:
    person_id, password, _ = add_person(apis, "city_office")
    token = person_token_response(apis, person_id, password).json()["access_token"]
    audit = f"{apis.processes['cases-api'].url}/v1/audit"
    # Reading the trail is itself an audited action: the second read finds the first, under the person.
    for _ in range(2):
        read = httpx.get(
            audit, params={"actor": f"person:{person_id}"}, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert read.status_code == 200, read.text
    entries = read.json()["items"]
    assert [(e["actor"], e["role"], e["action"]) for e in entries] == [
        (f"person:{person_id}", "city_office", "audit.read")
    ]
    with psycopg.connect(apis.postgres.database_url("anxin")) as conn:
        rows = conn.execute("SELECT actor FROM cases.audit_log WHERE actor LIKE %s", (f"%{person_id}%",)).fetchall()
    assert rows == [(f"person:{person_id}",), (f"person:{person_id}",)]


def test_the_command_refuses_a_role_no_person_holds(apis: Stack) -> None:
    result = anxin(
        apis,
        "users",
        "add",
        "robot",
        "--name",
        "机器",
        "--role",
        "lifecycle",
        env={"ANXIN_ISSUER_DATABASE_URL": apis.postgres.service_url("issuer")},
    )
    assert result.returncode == 1 and "no person holds" in result.stdout
