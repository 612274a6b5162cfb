"""Signing in (a person's token from the token issuer, kept server-side in a session) and signing out, here or
everywhere."""

from __future__ import annotations

import secrets
from typing import Annotated

import jwt
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.clients import SignInRefused, person_token
from services.console.sessions import Session
from services.console.web import (
    SESSION_COOKIE,
    SIGN_IN_COOKIE,
    NavItem,
    console_of,
    csrf_refused,
    current_session,
    is_secure,
    new_csrf,
    page,
    signed_in,
    to_sign_in,
)

router = APIRouter()
NAV: list[NavItem] = []

# Where a person lands after signing in: their own work (the queue for the counties' people).
LANDINGS = {
    "department": "/inbox",
    "police": "/inbox",
    "procuratorate": "/inbox",
    "arbitration": "/inbox",
    "legal_aid": "/inbox",
    "city_office": "/city",
    "intake_clerk": "/sites",
}


def landing(role: str) -> str:
    return LANDINGS.get(role, "/queue")


REFUSALS = {
    401: "账号、密码或动态口令不正确。",
    403: "该账号已停用，请联系管理员。",
    429: "尝试次数过多，请稍后再试。",
    503: "登录服务繁忙，请稍后再试。",
}


def _sign_in_page(
    request: Request, *, error: str | None = None, status_code: int = 200, person_id: str = ""
) -> HTMLResponse:
    csrf = new_csrf()
    response = page(
        request,
        "sign_in.html",
        {"csrf": csrf, "error": error, "person_id": person_id, "expired": request.query_params.get("expired") == "1"},
        status_code,
    )
    response.set_cookie(SIGN_IN_COOKIE, csrf, httponly=True, samesite="strict", secure=is_secure(request), path="/")
    return response


@router.get("/", include_in_schema=False)
async def home(request: Request) -> Response:
    session = await current_session(request)
    return RedirectResponse(landing(session.role) if session else "/sign-in", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_form(request: Request) -> Response:
    if session := await current_session(request):
        return RedirectResponse(landing(session.role), status_code=303)
    return _sign_in_page(request)


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    person_id: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=256)],
    csrf: Annotated[str, Form()] = "",
    totp: Annotated[str, Form(max_length=10)] = "",
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE)
    if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):
        return csrf_refused()
    console = console_of(request)
    settings = console.settings
    try:
        issued = await person_token(
            console.client,
            console.issuer_url,
            (settings.client_id, settings.client_secret),
            person_id.strip(),
            password,
            totp.strip() or None,
        )
    except SignInRefused as refused:
        message = REFUSALS.get(refused.status, "登录失败，请稍后再试。")
        return _sign_in_page(
            request,
            error=message,
            person_id=person_id,
            status_code=refused.status if refused.status in REFUSALS else 502,
        )
    # The issuer's answer, over the connection the console opened to it: its claims are read, not verified.
    claims = jwt.decode(issued.access_token, options={"verify_signature": False})
    session = await console.sessions.open(
        person_id.strip(),
        issued.role,
        claims.get("county"),
        claims.get("department"),
        issued.access_token,
        issued.expires_in,
    )
    response = RedirectResponse(landing(session.role), status_code=303)
    response.set_cookie(
        SESSION_COOKIE, session.session_id, httponly=True, samesite="strict", secure=is_secure(request), path="/"
    )
    response.delete_cookie(SIGN_IN_COOKIE, path="/")
    return response


@router.post("/sign-out")
async def sign_out(
    request: Request,
    session: Annotated[Session, Depends(signed_in)],
    csrf: Annotated[str, Form()] = "",
    everywhere: Annotated[str, Form()] = "",
) -> Response:
    if not session.csrf_matches(csrf):
        return csrf_refused()
    sessions = console_of(request).sessions
    if everywhere:
        await sessions.close_all(session.person_id)
    else:
        await sessions.close(session.session_id)
    return to_sign_in()
