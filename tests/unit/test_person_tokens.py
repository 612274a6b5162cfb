"""People's tokens (grant_type=password, for the console): Argon2id passwords, TOTP, the console's client,
disabled accounts and failure limits, through the token route with accounts held in memory."""

from __future__ import annotations

import httpx
import pyotp
import pytest
from fastapi import FastAPI

from services.common import passwords
from services.common.auth import ClientRegistry, RegisteredClient, Role, hash_secret
from services.common.people import PersonAccount
from services.common.problems import install_problem_handlers
from services.common.token_endpoint import TokenEndpoint, TokenEndpointLimits, token_router
from services.common.token_keys import TokenIssuer, TokenVerifier, new_signing_jwk
from services.issuer.accounts import AccountError, NewAccount

TOTP_SECRET = pyotp.random_base32()


class Accounts:
    def __init__(self, *accounts: PersonAccount) -> None:
        self.by_id = {a.person_id: a for a in accounts}
        self.asked: list[str] = []

    async def find(self, person_id: str) -> PersonAccount | None:
        self.asked.append(person_id)
        return self.by_id.get(person_id)


def _person(person_id: str, password: str, **extra: object) -> PersonAccount:
    values: dict[str, object] = {"role": Role.county_inspector, "county": "130403", **extra}
    return PersonAccount(person_id, "王丽", password_hash=passwords.hash_password(password), **values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def accounts() -> Accounts:
    return Accounts(
        _person("wang.li", "correct horse"),
        _person("zhao.min", "battery staple", disabled=True),
        _person("li.na", "second factor", totp_secret=TOTP_SECRET),
    )


@pytest.fixture
def issuer() -> TokenIssuer:
    return TokenIssuer(new_signing_jwk(), ttl_seconds=600)


def _app(issuer: TokenIssuer, accounts: Accounts | None, limits: TokenEndpointLimits | None = None) -> FastAPI:
    registry = ClientRegistry(
        [
            RegisteredClient("console", hash_secret("console-secret"), Role.console),
            RegisteredClient("police", hash_secret("pw"), Role.police),
        ]
    )
    verifier = TokenVerifier({"keys": [issuer.public_jwk]}, ["cases"])
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(
        token_router(TokenEndpoint(verifier, issuer, registry, limits or TokenEndpointLimits(), accounts=accounts))
    )
    return app


def _http(app: FastAPI, address: str = "203.0.113.7") -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(address, 40000)), base_url="http://issuer.test"
    )


def _sign_in(
    username: str, password: str, *, client: tuple[str, str] = ("console", "console-secret"), **extra: str
) -> dict[str, str]:
    return {
        "grant_type": "password",
        "client_id": client[0],
        "client_secret": client[1],
        "username": username,
        "password": password,
        **extra,
    }


async def test_a_person_signed_in_through_the_console_gets_a_token_naming_them(
    issuer: TokenIssuer, accounts: Accounts
) -> None:
    async with _http(_app(issuer, accounts)) as http:
        response = await http.post("/oauth/token", data=_sign_in("wang.li", "correct horse", audience="cases"))
    assert response.status_code == 200, response.text
    principal = TokenVerifier({"keys": [issuer.public_jwk]}, ["cases"]).verify(response.json()["access_token"])
    assert (principal.client_id, principal.person_id) == ("person:wang.li", "wang.li")
    assert (principal.role, principal.county) == (Role.county_inspector, "130403")
    assert response.json()["role"] == "county_inspector"


async def test_wrong_password_unknown_account_and_disabled_account_get_no_token(
    issuer: TokenIssuer, accounts: Accounts
) -> None:
    async with _http(_app(issuer, accounts)) as http:
        wrong = await http.post("/oauth/token", data=_sign_in("wang.li", "correct horse!"))
        unknown = await http.post("/oauth/token", data=_sign_in("nobody", "correct horse"))
        disabled = await http.post("/oauth/token", data=_sign_in("zhao.min", "battery staple"))
        disabled_guess = await http.post("/oauth/token", data=_sign_in("zhao.min", "guess"))
    # Unknown and wrong read the same; a disabled account is told so only once its password passed.
    assert (wrong.status_code, unknown.status_code) == (401, 401)
    assert wrong.json()["detail"] == unknown.json()["detail"]
    assert disabled.status_code == 403 and disabled.json()["type"].endswith("account-disabled")
    assert disabled_guess.status_code == 401
    assert "access_token" not in disabled.text


async def test_an_unknown_account_costs_one_argon2_like_a_known_one(
    issuer: TokenIssuer, accounts: Accounts, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    real = passwords.verify_password

    def counting(password: str, stored: str) -> bool:
        checked.append(stored)
        return real(password, stored)

    monkeypatch.setattr(passwords, "verify_password", counting)
    async with _http(_app(issuer, accounts)) as http:
        await http.post("/oauth/token", data=_sign_in("nobody", "x"))
        await http.post("/oauth/token", data=_sign_in("wang.li", "x"))
    assert len(checked) == 2 and all(stored.startswith("$argon2id$") for stored in checked)
    assert checked[0] != accounts.by_id["wang.li"].password_hash


async def test_an_enrolled_person_needs_the_current_code(issuer: TokenIssuer, accounts: Accounts) -> None:
    async with _http(_app(issuer, accounts)) as http:
        without = await http.post("/oauth/token", data=_sign_in("li.na", "second factor"))
        wrong = await http.post("/oauth/token", data=_sign_in("li.na", "second factor", totp="000000"))
        right = await http.post(
            "/oauth/token", data=_sign_in("li.na", "second factor", totp=pyotp.TOTP(TOTP_SECRET).now())
        )
    assert (without.status_code, right.status_code) == (401, 200)
    # 000000 could be the current code once in a million runs; then this one says nothing.
    assert wrong.status_code == 401 or pyotp.TOTP(TOTP_SECRET).verify("000000", valid_window=1)


async def test_only_the_console_signs_people_in_and_it_gets_no_token_of_its_own(
    issuer: TokenIssuer, accounts: Accounts
) -> None:
    async with _http(_app(issuer, accounts)) as http:
        by_police = await http.post("/oauth/token", data=_sign_in("wang.li", "correct horse", client=("police", "pw")))
        console_itself = await http.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "client_id": "console", "client_secret": "console-secret"},
        )
        wrong_console = await http.post(
            "/oauth/token", data=_sign_in("wang.li", "correct horse", client=("console", "wrong"))
        )
    assert by_police.status_code == 400 and by_police.json()["type"].endswith("unauthorized-client")
    assert console_itself.status_code == 400 and "access_token" not in console_itself.text
    assert wrong_console.status_code == 401


async def test_an_issuer_without_accounts_signs_no_one_in(issuer: TokenIssuer) -> None:
    async with _http(_app(issuer, None)) as http:
        response = await http.post("/oauth/token", data=_sign_in("wang.li", "correct horse"))
    assert response.status_code == 400


async def test_guesses_at_one_account_are_limited_across_addresses(issuer: TokenIssuer, accounts: Accounts) -> None:
    app = _app(issuer, accounts, TokenEndpointLimits(failures_per_address=50, failures_per_client=3))
    for i in range(3):
        async with _http(app, f"192.0.2.{i}") as http:
            assert (await http.post("/oauth/token", data=_sign_in("wang.li", f"guess {i}"))).status_code == 401
    async with _http(app, "192.0.2.200") as http:
        limited = await http.post("/oauth/token", data=_sign_in("wang.li", "correct horse"))
        other = await http.post("/oauth/token", data=_sign_in("li.na", "wrong"))
    assert limited.status_code == 429 and "account" in limited.json()["detail"]
    assert other.status_code == 401


def test_password_hashes_are_argon2id_and_salted() -> None:
    first, second = passwords.hash_password("same"), passwords.hash_password("same")
    assert first.startswith("$argon2id$") and first != second
    assert passwords.verify_password("same", first) and not passwords.verify_password("other", first)
    assert not passwords.verify_password("same", "scrypt$not$argon2")


def test_an_account_is_checked_before_it_is_made() -> None:
    assert NewAccount("wang.li", "王丽", Role.county_inspector, "130403").checked()
    for refused, why in [
        (NewAccount("Wang Li", "王丽", Role.county_inspector, "130403"), "the id"),
        (NewAccount("wang.li", "王丽", Role.county_inspector), "--county"),
        (NewAccount("wang.li", "王丽", Role.lifecycle), "no person holds"),
        (NewAccount("wang.li", "王丽", Role.console), "no person holds"),
        (NewAccount("wang.li", "王丽", Role.department), "--department"),
        (NewAccount("wang.li", "王丽", Role.county_inspector, "13040"), "six-digit"),
    ]:
        with pytest.raises(AccountError, match=why):
            refused.checked()


def test_no_registered_client_may_take_a_persons_id() -> None:
    with pytest.raises(ValueError, match="person:"):
        ClientRegistry([RegisteredClient("person:wang.li", hash_secret("x"), Role.city_office)])
