"""The console's calls: the token issuer (a person's token, over the console's own client credentials) and the
cases API (with the person's token). Answers the pages need are returned; anything else is raised."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class SignInRefused(Exception):
    status: int
    retry_after: str | None = None


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int
    role: str


class NotFound(Exception):
    """The service answered 404: a record that does not exist, or one outside the person's scope (the same)."""


class TokenExpired(Exception):
    """The service refused the person's token (expired, or a key rotated away): they must sign in again."""


async def person_token(http: httpx.AsyncClient, issuer_url: str, client: tuple[str, str], person_id: str,
                       password: str, totp: str | None) -> IssuedToken:
    form = {"grant_type": "password", "username": person_id, "password": password}
    if totp:
        form["totp"] = totp
    response = await http.post(f"{issuer_url.rstrip('/')}/oauth/token", data=form, auth=client)
    if response.status_code != 200:
        raise SignInRefused(response.status_code, response.headers.get("retry-after"))
    body = response.json()
    return IssuedToken(body["access_token"], int(body["expires_in"]), body["role"])


async def service_get(http: httpx.AsyncClient, url: str, token: str, params: dict[str, str] | None = None) -> Any:
    response = await http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    if response.status_code == 404:
        raise NotFound(url)
    if response.status_code == 401:
        raise TokenExpired(url)
    response.raise_for_status()
    return response.json()
