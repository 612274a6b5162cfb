"""The console's calls: the token issuer (a person's token, over the console's own client credentials) and the
services' APIs (with the person's token). Answers the pages need are returned; anything else is raised: a
refusal with the service's problem details, so a form shows the API's own validation messages."""

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


class Refused(Exception):
    """The service refused the action (4xx but 401 and 404): its RFC 9457 problem details, for the form."""

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        super().__init__(problem.get("detail") or problem.get("title") or f"HTTP {status}")
        self.status = status
        self.problem = problem

    @property
    def message(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or f"HTTP {self.status}")

    @property
    def field_errors(self) -> dict[str, str]:
        """The problem's messages per form field. The services write `errors` as [{"field", "message"}] (nested
        fields dotted: `evidence.0.ref` belongs to the form's `evidence` field); FastAPI's own validation
        errors as [{"loc": [...], "msg"}]; a mapping {"field": "message"} is taken as it is."""
        errors = self.problem.get("errors")
        if isinstance(errors, dict):
            return {str(k): str(v) for k, v in errors.items()}
        fields: dict[str, str] = {}
        for error in errors if isinstance(errors, list) else []:
            if not isinstance(error, dict):
                continue
            name = error.get("field") or error.get("loc") or ""
            if isinstance(name, list):
                name = ".".join(str(part) for part in name if part != "body")
            top = str(name).split(".")[0]
            message = str(error.get("message") or error.get("msg") or error.get("detail") or "")
            if message:
                fields[top] = f"{fields[top]}；{message}" if top in fields else message
        return fields


async def person_token(
    http: httpx.AsyncClient, issuer_url: str, client: tuple[str, str], person_id: str, password: str, totp: str | None
) -> IssuedToken:
    form = {"grant_type": "password", "username": person_id, "password": password}
    if totp:
        form["totp"] = totp
    response = await http.post(f"{issuer_url.rstrip('/')}/oauth/token", data=form, auth=client)
    if response.status_code != 200:
        raise SignInRefused(response.status_code, response.headers.get("retry-after"))
    body = response.json()
    return IssuedToken(body["access_token"], int(body["expires_in"]), body["role"])


def _answer(response: httpx.Response) -> Any:
    if response.status_code == 404:
        raise NotFound(str(response.request.url))
    if response.status_code == 401:
        raise TokenExpired(str(response.request.url))
    if 400 <= response.status_code < 500:
        try:
            problem = response.json()
        except ValueError:
            problem = {}
        raise Refused(response.status_code, problem if isinstance(problem, dict) else {})
    response.raise_for_status()
    return response.json() if response.content else None


async def service_get(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    params: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    return _answer(await http.get(url, params=params, headers={**(headers or {}), "Authorization": f"Bearer {token}"}))


async def service_send(
    http: httpx.AsyncClient,
    method: str,
    url: str,
    token: str,
    *,
    json: Any = None,
    data: dict[str, str] | None = None,
    files: Any = None,
    idempotency_key: str | None = None,
) -> Any:
    """An action on a service with the person's token; `idempotency_key` (the form's, made when the form was
    rendered) makes a resubmitted form the same action, as the services' actions promise."""
    headers = {"Authorization": f"Bearer {token}"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    return _answer(await http.request(method, url, json=json, data=data, files=files, headers=headers))
