"""What every page of the console shares: the templates, the signed-in person's session (a dependency that
sends anyone else to the sign-in page), rendering, the CSRF refusal, and the navigation each page module
contributes for the roles it serves."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from services.console import texts
from services.console.sessions import Session

if TYPE_CHECKING:
    from services.console.app import Console

HERE = Path(__file__).parent
SESSION_COOKIE = "anxin_console"
# The sign-in form's CSRF token, before there is a session (double submit: cookie and field must match).
SIGN_IN_COOKIE = "anxin_console_sign_in"
# The header a page's own periodic refresh sends (htmx's `hx-headers` on the polling element): such a request
# is no sign of the person, so it does not keep their session from ending when idle.
POLL_HEADER = "Anxin-Poll"

templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["stage_names"] = texts.STAGES
templates.env.globals["channel_names"] = texts.CHANNELS


@dataclass(frozen=True)
class NavItem:
    """A link in the header, for the roles it serves (empty: every signed-in person)."""

    href: str
    label: str
    roles: frozenset[str] = frozenset()

    def for_role(self, role: str) -> bool:
        return not self.roles or role in self.roles


class SignInNeeded(Exception):
    """No live session: the page answers with the sign-in page (`expired` when a session cookie was sent)."""

    def __init__(self, expired: bool) -> None:
        super().__init__("sign-in needed")
        self.expired = expired


def console_of(request: Request) -> Console:
    console: Console = request.app.state.console
    return console


def is_poll(request: Request) -> bool:
    """A page refreshing itself (htmx's polling, which sends `HX-Request` and the poll header), not the person."""
    return request.headers.get("HX-Request") == "true" and POLL_HEADER in request.headers


async def current_session(request: Request) -> Session | None:
    return await console_of(request).sessions.get(request.cookies.get(SESSION_COOKIE), touch=not is_poll(request))


async def signed_in(request: Request) -> Session:
    """The page's dependency: the signed-in person's session, or `SignInNeeded`. A poll reads it without
    counting as activity, so an open page that refreshes itself does not keep an idle session alive."""
    session = await current_session(request)
    if session is None:
        raise SignInNeeded(expired=SESSION_COOKIE in request.cookies)
    request.state.session = session
    return session


def to_sign_in(expired: bool = False) -> RedirectResponse:
    response = RedirectResponse("/sign-in" + ("?expired=1" if expired else ""), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def is_secure(request: Request) -> bool:
    return request.url.scheme == "https"


def page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    session = context.get("session")
    nav = [item for item in request.app.state.nav if session is not None and item.for_role(session.role)]
    return templates.TemplateResponse(request, name, {"nav": nav, **context}, status_code=status_code)


def csrf_refused() -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html><meta charset=utf-8><title>请求无效</title><p>表单已失效，请返回后刷新页面重试。",
        status_code=403,
    )


def new_csrf() -> str:
    return secrets.token_urlsafe(32)
