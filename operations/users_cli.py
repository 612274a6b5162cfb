"""`anxin users`: the people who sign in through the console — their accounts at the token issuer
(services/issuer/accounts.py), in its schema.

    ANXIN_ISSUER_DATABASE_URL   the issuer's database role (else the development stack's `issuer` role)
    ANXIN_ISSUER_KEYS, ANXIN_ISSUER_KEY_ID
                                the issuer's key ring, which `add --totp` seals the secret with (else the
                                development stack's, from its data dir)
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Annotated, Any

import typer

from operations.cli_support import console
from operations.i18n import _, command

users_app = typer.Typer(help=_("People's accounts for the console (at the token issuer)."), no_args_is_help=True)


def _connect() -> Any:
    import psycopg

    from services.common.service import prepare_named_schema
    from services.issuer.accounts import SCHEMA
    from services.issuer.app import MIGRATIONS

    url = os.environ.get("ANXIN_ISSUER_DATABASE_URL")
    if not url:
        from operations.cli_support import development_stack

        url = development_stack().postgres.service_url(SCHEMA)
    # As the issuer does at start: the schema brought up to date, or a refusal naming `anxin migrate`.
    prepare_named_schema(
        SCHEMA, MIGRATIONS, url, migrate_on_start=os.environ.get("ANXIN_MIGRATE_ON_START", "true").lower() != "false"
    )
    return psycopg.connect(url, options=f"-c search_path={SCHEMA}")


def _issuer_cipher() -> Any:
    """The issuer's key ring (`KeyPurpose.ISSUER`): from the environment, else the development stack's."""
    import json

    from operations.cli_support import DATA_DIR
    from services.common.crypto import FieldCipher
    from services.common.data_keys import KeyPurpose

    purpose = KeyPurpose.ISSUER
    keys, key_id = os.environ.get(purpose.keys_env), os.environ.get(purpose.key_id_env)
    secrets_file = DATA_DIR / "development-secrets.json"
    if not (keys and key_id) and secrets_file.exists():
        development = json.loads(secrets_file.read_text())
        keys, key_id = development.get(purpose.keys_env), development.get(purpose.key_id_env)
    if not (keys and key_id):
        console.print(
            _(
                "[red]refused:[/] set {keys} and {key_id} (the issuer's key ring): the TOTP secret is stored sealed"
            ).format(keys=purpose.keys_env, key_id=purpose.key_id_env)
        )
        raise typer.Exit(1)
    return FieldCipher.from_config(keys, key_id)


def _role(value: str) -> Any:
    from services.common.auth import Role

    try:
        return Role(value)
    except ValueError:
        raise typer.BadParameter(_("one of {roles}").format(roles=", ".join(r.value for r in Role))) from None


@command(users_app, "add")
def users_add(
    person_id: Annotated[str, typer.Argument(help=_("the id the person signs in with, e.g. wang.li"))],
    name: Annotated[str, typer.Option("--name", help=_("full name, as shown in the console"))],
    role: Annotated[str, typer.Option("--role", help=_("county_inspector, city_office, department, police …"))],
    county: Annotated[
        str | None, typer.Option("--county", help=_("six-digit county code, for a county's people"))
    ] = None,
    department: Annotated[str | None, typer.Option("--department", help=_("department id, for a department's"))] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help=_("read the password from standard input"))
    ] = False,
    totp: Annotated[
        bool, typer.Option("--totp", help=_("enrol a TOTP second factor; prints its otpauth:// URI"))
    ] = False,
) -> None:
    """Make a person's account. Without --password-stdin an initial password is made and printed once: hand it
    over in person. With --totp the otpauth:// URI for the person's authenticator app is printed once too."""
    from services.common.passwords import totp_uri
    from services.issuer.accounts import AccountError, NewAccount, add_account

    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if len(password) < 12:
            console.print(_("[red]refused:[/] a password is at least 12 characters"))
            raise typer.Exit(1)
        made = False
    else:
        password, made = secrets.token_urlsafe(12), True
    account = NewAccount(person_id, name, _role(role), county, department)
    cipher = _issuer_cipher() if totp else None
    try:
        account.checked()
        with _connect() as conn:
            secret = add_account(conn, account, password, totp=totp, cipher=cipher)
    except AccountError as exc:
        console.print(_("[red]refused:[/] {reason}").format(reason=exc))
        raise typer.Exit(1) from None
    console.print(
        _("account {person_id} made ({role})").format(person_id=person_id, role=account.role.value), highlight=False
    )
    if made:
        # Plain print: the one place the password is shown; rich would style it.
        print(_("initial password: {password}").format(password=password))
    if secret is not None:
        print(f"totp: {totp_uri(secret, person_id)}")


@command(users_app, "disable")
def users_disable(person_id: Annotated[str, typer.Argument(help=_("the person's id"))]) -> None:
    """Disable an account: its next sign-in gets no token (tokens already issued run out within their TTL)."""
    from services.issuer.accounts import disable_account

    with _connect() as conn:
        found = disable_account(conn, person_id)
    if not found:
        console.print(_("[red]no account {person_id}[/]").format(person_id=person_id))
        raise typer.Exit(1)
    console.print(_("account {person_id} disabled").format(person_id=person_id), highlight=False)


@command(users_app, "list")
def users_list() -> None:
    """Every account: id, name, role, scope, second factor, disabled. Never a hash or a secret."""
    from services.issuer.accounts import list_accounts

    with _connect() as conn:
        accounts = list_accounts(conn)
    for a in accounts:
        scope = a.county or a.department or _("city")
        flags = " ".join(f for f, on in (("totp", a.totp_secret is not None), (_("DISABLED"), a.disabled)) if on)
        console.print(
            f"{a.person_id:<24} {a.full_name:<12} {a.role.value:<18} {scope:<10} {flags}".rstrip(), highlight=False
        )
    if not accounts:
        console.print(_("no accounts yet: anxin users add ID --name … --role … (--county …)"))
