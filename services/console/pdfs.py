"""A service's PDF opened through the console (and its tables downloaded: `table_through`) with the person's own token: the letter or document as the
service sent it, shown in the browser (`inline`) and kept by none (`no-store`: a letter names an employer, its
workers and their arrears, and a shared computer's cache is no place for it).

The lines that fetch it follow pages/agencies.py's pass-through of a letter; here every answer but a PDF —
missing, outside the person's scope, or withheld (a sanctions document naming responsible persons) — is the
caller's not-found page, so nothing tells a document that exists from one that does not."""

from __future__ import annotations

import re
from collections.abc import Callable

import httpx
from fastapi.responses import Response

from services.common.downloads import content_disposition
from services.console.clients import TokenExpired

PDF = "application/pdf"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
# A file name for the browser's save dialog: the record's id, stripped to what a header carries safely.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


async def _fetch(
    http: httpx.AsyncClient, url: str, token: str, media_type: str, params: dict[str, str] | None = None
) -> httpx.Response | None:
    """The service's answer when it is a file of `media_type`; None for any other answer."""
    answer = await http.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    if answer.status_code == 401:
        raise TokenExpired(url)
    if answer.status_code >= 500:
        answer.raise_for_status()
    if answer.status_code != 200 or answer.headers.get("content-type", "").split(";")[0].strip() != media_type:
        return None
    return answer


async def pdf_through(
    http: httpx.AsyncClient, url: str, token: str, name: str, not_found: Callable[[], Response]
) -> Response:
    """The PDF at `url` (fetched with `token`), or `not_found()` for any answer that is not one."""
    answer = await _fetch(http, url, token, PDF)
    if answer is None:
        return not_found()
    headers = {
        "Content-Disposition": f'inline; filename="{_UNSAFE.sub("_", name) or "document"}.pdf"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
    }
    if "x-content-sha256" in answer.headers:
        headers["X-Content-SHA256"] = answer.headers["x-content-sha256"]
    return Response(answer.content, media_type=PDF, headers=headers)


async def table_through(
    http: httpx.AsyncClient,
    url: str,
    token: str,
    filename: str,
    media_type: str,
    not_found: Callable[[], Response],
    params: dict[str, str] | None = None,
) -> Response:
    """A table the service made (CSV, XLSX) as a download, kept by none; `not_found()` for any other answer."""
    answer = await _fetch(http, url, token, media_type, params)
    if answer is None:
        return not_found()
    return Response(
        answer.content,
        media_type=answer.headers["content-type"],
        headers={
            "Content-Disposition": content_disposition(filename),
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
