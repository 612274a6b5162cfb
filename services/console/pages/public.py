"""The public pages, no sign-in: the blacklist search, the published major-violation lists, and each county's
on-time rates for the last quarter.

Each page is read from a public route of a service, without a token (the console holds none for a visitor):
the sanctions API's `GET /v1/public/blacklist` and `GET /v1/public/major-violations`, and the cases API's
`GET /v1/public/statistics`; a published quarter's list as its PDF, the sanctions API's public document. What they answer is what the law publishes — employers, credit codes, dates,
the facts as published, counts per county — so nothing here is about a worker. The pages are the same for
everyone and may be kept a minute by a browser or a proxy."""

from __future__ import annotations

import logging
import re
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from services.console.web import NavItem, console_of, page

router = APIRouter()
NAV: list[NavItem] = []

log = logging.getLogger(__name__)

PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}
PAGE_SIZE = 50
QUARTER = re.compile(r"^20\d{2}-Q[1-4]$")
LEVELS = {"county": "区县", "city": "全市"}
UNAVAILABLE = "查询服务暂时不可用，请稍后再试。"


class ServiceUnavailable(Exception):
    """A public route did not answer (down, or a 5xx): the page says so, with nothing else."""


async def _public_get(request: Request, url: str, params: dict[str, str]) -> tuple[int, Any]:
    """A public route's answer, asked without a token: (status, body) for 200 and 4xx."""
    try:
        response = await console_of(request).client.get(url, params=params)
    except httpx.HTTPError as error:
        log.warning("public route %s unreachable: %s", url, type(error).__name__)
        raise ServiceUnavailable(url) from None
    if response.status_code >= 500:
        log.warning("public route %s answered %s", url, response.status_code)
        raise ServiceUnavailable(url)
    try:
        body = response.json()
    except ValueError:
        body = {}
    return response.status_code, body


def _public_page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    response = page(request, name, context, status_code)
    if status_code == 200:
        response.headers.update(PUBLIC_CACHE)
    return response


def _query(value: str) -> str:
    return value.strip()[:100]


def rate_text(value: Any) -> str:
    """The API's on-time rate (a decimal string, 0.6667) as the page shows it (66.67%), or — when nothing was
    resolved."""
    if value in (None, ""):
        return "—"
    try:
        return f"{(Decimal(str(value)) * 100).quantize(Decimal('0.01'))}%"
    except InvalidOperation:
        return "—"


@router.get("/public/blacklist", response_class=HTMLResponse)
async def blacklist(request: Request, q: str = "", cursor: str = "") -> HTMLResponse:
    query = _query(q)
    context: dict[str, Any] = {"q": query, "items": [], "later": bool(cursor), "error": None, "next_page": None}
    params = {
        "limit": str(PAGE_SIZE),
        **({"cursor": cursor[:500]} if cursor else {}),
        **({"q": query} if query else {}),
    }
    try:
        status, body = await _public_get(request, f"{console_of(request).sanctions_url}/v1/public/blacklist", params)
    except ServiceUnavailable:
        return _public_page(request, "public/blacklist.html", {**context, "error": UNAVAILABLE}, 503)
    if status != 200:
        return _public_page(request, "public/blacklist.html", {**context, "error": "查询条件无效，请修改后重试。"}, 422)
    context["items"] = body.get("items", [])
    if body.get("next_cursor"):
        context["next_page"] = "/public/blacklist?" + urlencode(
            {**({"q": query} if query else {}), "cursor": body["next_cursor"]}
        )
    return _public_page(request, "public/blacklist.html", context)


@router.get("/public/major-violations", response_class=HTMLResponse)
async def major_violations(request: Request, q: str = "", quarter: str = "") -> HTMLResponse:
    query = _query(q)
    chosen = quarter.strip() if QUARTER.match(quarter.strip()) else ""
    context: dict[str, Any] = {"q": query, "quarter": chosen, "items": [], "lists": [], "error": None}
    params = {k: v for k, v in (("q", query), ("quarter", chosen)) if v}
    url = f"{console_of(request).sanctions_url}/v1/public/major-violations"
    try:
        status, body = await _public_get(request, url, params)
    except ServiceUnavailable:
        return _public_page(request, "public/major_violations.html", {**context, "error": UNAVAILABLE}, 503)
    if status != 200:
        return _public_page(
            request, "public/major_violations.html", {**context, "error": "查询条件无效，请修改后重试。"}, 422
        )
    context["items"] = body.get("items", [])
    context["lists"] = body.get("lists", [])
    return _public_page(request, "public/major_violations.html", context)


@router.get("/public/transparency", response_class=HTMLResponse)
async def transparency(request: Request, quarter: str = "") -> HTMLResponse:
    chosen = quarter.strip() if QUARTER.match(quarter.strip()) else ""
    context: dict[str, Any] = {
        "quarter": chosen,
        "rows": [],
        "label": chosen,
        "first_day": None,
        "last_day": None,
        "error": None,
    }
    try:
        status, body = await _public_get(
            request, f"{console_of(request).cases_url}/v1/public/statistics", {"quarter": chosen} if chosen else {}
        )
    except ServiceUnavailable:
        return _public_page(request, "public/transparency.html", {**context, "error": UNAVAILABLE}, 503)
    if status != 200:
        return _public_page(
            request, "public/transparency.html", {**context, "error": "该季度尚未开始，暂无数据。"}, 422
        )
    context["label"] = body.get("label", chosen)
    try:
        context["first_day"] = date.fromisoformat(body["start"])
        context["last_day"] = date.fromisoformat(body["end"]) - timedelta(days=1)  # the API's end is exclusive
    except (KeyError, TypeError, ValueError):
        pass
    context["rows"] = [
        {
            "area": r.get("area"),
            "level": LEVELS.get(r.get("level", ""), r.get("level")),
            "is_city": r.get("level") == "city",
            "accepted": r.get("accepted"),
            "resolved": r.get("resolved"),
            "resolved_on_time": r.get("resolved_on_time"),
            "rate": rate_text(r.get("on_time_rate")),
        }
        for r in body.get("rows", [])
    ]
    return _public_page(request, "public/transparency.html", context)


@router.get("/public/major-violations/{list_id}.pdf", response_class=Response)
async def published_list_pdf(request: Request, list_id: str) -> Response:
    """A published quarter's list as the city office approved it (the sanctions API's PDF): only a list the
    public route names as published, so a draft's document is not reachable through here."""
    sanctions_url = console_of(request).sanctions_url
    try:
        status, body = await _public_get(request, f"{sanctions_url}/v1/public/major-violations", {})
        published = next((item for item in body.get("lists", []) if item.get("list_id") == list_id), None)
        if status != 200 or published is None or not str(published.get("pdf", "")).startswith("/v1/documents/"):
            return _public_page(request, "public/not_found.html", {}, 404)
        response = await console_of(request).client.get(f"{sanctions_url}{published['pdf']}")
    except (ServiceUnavailable, httpx.HTTPError):
        return _public_page(request, "public/not_found.html", {"error": UNAVAILABLE}, 503)
    if response.status_code != 200:
        return _public_page(request, "public/not_found.html", {}, 404)
    return Response(
        response.content,
        media_type="application/pdf",
        headers={**PUBLIC_CACHE, "Content-Disposition": f'inline; filename="{_ascii_name(list_id)}.pdf"'},
    )


def _ascii_name(list_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", list_id)[:80]
