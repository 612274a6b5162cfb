"""The console's app: settings, routes and `main` (see the package's docstring for what it is)."""

from __future__ import annotations

import argparse
import logging
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import httpx
import jwt
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from pydantic import Field

from services.common.health import health_router
from services.common.logs import configure_logging
from services.common.middleware import install_edge
from services.common.runner import serve
from services.common.settings import CommonSettings
from services.console import texts
from services.console.clients import NotFound, SignInRefused, TokenExpired, person_token, service_get
from services.console.sessions import Session, SessionStore
from services.contracts.lifecycle.configuration import CalendarConfig
from services.contracts.working_days import WorkingCalendar

PROCESS_NAME = "console"
DEFAULT_PORT = 8006
HERE = Path(__file__).parent
SESSION_COOKIE = "anxin_console"
# The sign-in form's CSRF token, before there is a session (double submit: cookie and field must match).
SIGN_IN_COOKIE = "anxin_console_sign_in"

log = logging.getLogger(__name__)


class ConsoleSettings(CommonSettings):
    http_host: str = Field("127.0.0.1", alias="ANXIN_HTTP_HOST")
    http_port: int = Field(DEFAULT_PORT, alias="ANXIN_HTTP_PORT")
    max_request_bytes: int = Field(64 * 1024, alias="ANXIN_MAX_REQUEST_BYTES", ge=1024)
    cases_url: str = Field("http://127.0.0.1:8002", alias="ANXIN_CASES_URL")
    # The console's own registered client (role `console`): it may only ask for a signed-in person's token.
    client_id: str = Field("console", alias="ANXIN_CONSOLE_CLIENT_ID")
    client_secret: str = Field("", alias="ANXIN_CONSOLE_CLIENT_SECRET", repr=False)
    # A session ends after this long without a request (or when the person's token expires, if sooner).
    idle_seconds: int = Field(30 * 60, alias="ANXIN_CONSOLE_IDLE_SECONDS", ge=1)


def _first(urls: str) -> str:
    # The cluster profile lists replicas (`a,b`); the console asks the first.
    return urls.split(",")[0].strip()


class Console:
    """What the routes share: settings, sessions, the HTTP client, the calendar of the countdowns."""

    def __init__(self, settings: ConsoleSettings) -> None:
        if not settings.token_issuer_url or not settings.client_secret:
            raise SystemExit("ANXIN_TOKEN_ISSUER_URL and ANXIN_CONSOLE_CLIENT_SECRET must be set: the console "
                             "signs people in through the token issuer, as its own client")
        self.settings = settings
        self.issuer_url = _first(settings.token_issuer_url)
        self.cases_url = _first(settings.cases_url).rstrip("/")
        self.sessions = SessionStore(settings.idle_seconds)
        self.calendar = WorkingCalendar(CalendarConfig())
        self.http: httpx.AsyncClient | None = None

    @property
    def client(self) -> httpx.AsyncClient:
        assert self.http is not None
        return self.http


templates = Jinja2Templates(directory=HERE / "templates")
templates.env.globals["stage_names"] = texts.STAGES


def _session(request: Request) -> Session | None:
    console: Console = request.app.state.console
    return console.sessions.get(request.cookies.get(SESSION_COOKIE))


def _to_sign_in(expired: bool = False) -> RedirectResponse:
    response = RedirectResponse("/sign-in" + ("?expired=1" if expired else ""), status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _sign_in_page(request: Request, *, error: str | None = None, status_code: int = 200,
                  person_id: str = "") -> HTMLResponse:
    csrf = secrets.token_urlsafe(32)
    response = _page(request, "sign_in.html", {"csrf": csrf, "error": error, "person_id": person_id,
                                               "expired": request.query_params.get("expired") == "1"},
                     status_code)
    response.set_cookie(SIGN_IN_COOKIE, csrf, httponly=True, samesite="strict", secure=_secure(request), path="/")
    return response


REFUSALS = {401: "账号、密码或动态口令不正确。", 403: "该账号已停用，请联系管理员。",
            429: "尝试次数过多，请稍后再试。", 503: "登录服务繁忙，请稍后再试。"}


def _csrf_refused() -> HTMLResponse:
    return HTMLResponse("<!doctype html><meta charset=utf-8><title>请求无效</title><p>表单已失效，请返回后刷新页面重试。",
                        status_code=403)


def _deadline_list(raw: Any) -> list[dict[str, Any]]:
    if isinstance(raw, dict):
        raw = list(raw.values())
    return [d for d in raw or [] if isinstance(d, dict)]


def create_app(settings: ConsoleSettings, *, transport: httpx.AsyncBaseTransport | None = None) -> FastAPI:
    """The console; `transport` stands in for the network in the unit tests."""
    console = Console(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=15, transport=transport) as http:
            console.http = http
            yield

    app = FastAPI(title="安薪 · 工作台", version="1", lifespan=lifespan, docs_url=None, redoc_url=None,
                  openapi_url=None)
    install_edge(app, PROCESS_NAME, settings.data_dir, max_request_bytes=settings.max_request_bytes)
    app.state.settings = settings
    app.state.console = console
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(health_router(PROCESS_NAME, {}))

    @app.get("/", include_in_schema=False)
    async def home(request: Request) -> Response:
        return RedirectResponse("/queue" if _session(request) else "/sign-in", status_code=303)

    @app.get("/sign-in", response_class=HTMLResponse)
    async def sign_in_form(request: Request) -> Response:
        if _session(request):
            return RedirectResponse("/queue", status_code=303)
        return _sign_in_page(request)

    @app.post("/sign-in", response_class=HTMLResponse)
    async def sign_in(request: Request, person_id: Annotated[str, Form(max_length=64)],
                      password: Annotated[str, Form(max_length=256)], csrf: Annotated[str, Form()] = "",
                      totp: Annotated[str, Form(max_length=10)] = "") -> Response:
        expected = request.cookies.get(SIGN_IN_COOKIE)
        if not expected or not secrets.compare_digest(expected.encode(), csrf.encode()):
            return _csrf_refused()
        try:
            issued = await person_token(console.client, console.issuer_url,
                                        (settings.client_id, settings.client_secret), person_id.strip(), password,
                                        totp.strip() or None)
        except SignInRefused as refused:
            message = REFUSALS.get(refused.status, "登录失败，请稍后再试。")
            return _sign_in_page(request, error=message, status_code=refused.status if refused.status in REFUSALS
                                 else 502, person_id=person_id)
        # The issuer's answer, over the connection the console opened to it: its claims are read, not verified.
        claims = jwt.decode(issued.access_token, options={"verify_signature": False})
        session = console.sessions.open(person_id.strip(), issued.role, claims.get("county"), claims.get("department"),
                                        issued.access_token, issued.expires_in)
        response = RedirectResponse("/queue", status_code=303)
        response.set_cookie(SESSION_COOKIE, session.session_id, httponly=True, samesite="strict",
                            secure=_secure(request), path="/")
        response.delete_cookie(SIGN_IN_COOKIE, path="/")
        return response

    @app.post("/sign-out")
    async def sign_out(request: Request, csrf: Annotated[str, Form()] = "",
                       everywhere: Annotated[str, Form()] = "") -> Response:
        session = _session(request)
        if session is None:
            return _to_sign_in()
        if not session.csrf_matches(csrf):
            return _csrf_refused()
        if everywhere:
            console.sessions.close_all(session.person_id)
        else:
            console.sessions.close(session.session_id)
        return _to_sign_in()

    @app.get("/queue", response_class=HTMLResponse)
    async def queue(request: Request, stage: str = "", cursor: str = "") -> Response:
        session = _session(request)
        if session is None:
            return _to_sign_in(expired=SESSION_COOKIE in request.cookies)
        params = {"status": "open", "sort": "next_deadline", "limit": "50"}
        if stage in texts.STAGES:
            params["stage"] = stage
        if cursor:
            params["cursor"] = cursor
        try:
            page = await service_get(console.client, f"{console.cases_url}/v1/cases", session.token, params)
        except TokenExpired:
            console.sessions.close(session.session_id)
            return _to_sign_in(expired=True)
        today = datetime.now(texts.CHINA).date()
        rows = [texts.queue_row(case, today, console.calendar) for case in page["items"]]
        next_page = (f"/queue?stage={quote(stage)}&cursor={quote(page['next_cursor'])}"
                     if page.get("next_cursor") else None)
        return _page(request, "queue.html", {"session": session, "rows": rows, "stage": stage,
                                             "next_page": next_page})

    @app.get("/cases/{case_id}", response_class=HTMLResponse)
    async def case_page(request: Request, case_id: str) -> Response:
        session = _session(request)
        if session is None:
            return _to_sign_in(expired=SESSION_COOKIE in request.cookies)
        base = f"{console.cases_url}/v1/cases/{quote(case_id, safe='')}"
        try:
            case = await service_get(console.client, base, session.token)
            timeline = await service_get(console.client, f"{base}/timeline", session.token)
        except NotFound:
            # Missing, or another county's: the same page either way, as the API answers the same 404.
            return _page(request, "not_found.html", {"session": session}, 404)
        except TokenExpired:
            console.sessions.close(session.session_id)
            return _to_sign_in(expired=True)
        today = datetime.now(texts.CHINA).date()
        deadlines = [{"name": texts.deadline_name(d.get("name", "")), "due_date": d.get("due_date", "—"),
                      "countdown": texts.countdown(texts.working_days_left(d.get("due_at"), today, console.calendar))
                      if d.get("outcome", "pending") == "pending" else {"met": "已按期完成", "expired": "已逾期",
                                                                           "superseded": "已变更"}.get(d["outcome"], ""),
                      "overdue": d.get("outcome") == "expired"}
                     for d in _deadline_list(case.get("deadlines"))]
        return _page(request, "case.html", {
            "session": session, "case": case, "row": texts.queue_row(case, today, console.calendar),
            "complaints": [{**c, "stage_name": texts.stage_name(c.get("stage"))} for c in case.get("complaints", [])],
            "deadlines": deadlines, "events": timeline.get("events", []),
            "status_name": texts.STATUSES.get(case.get("status", ""), case.get("status", "")),
        })

    return app


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m services.console")
    parser.add_argument("process", choices=["api"], help="the console's one process")
    parser.parse_args()
    settings = ConsoleSettings()
    configure_logging(PROCESS_NAME, settings.log_level)
    serve(create_app(settings), host=settings.http_host, port=settings.http_port)
