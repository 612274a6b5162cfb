"""A service's PDF opened through the console with the person's own token: the letter or document as the
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

from services.console.clients import TokenExpired

PDF = "application/pdf"
# A file name for the browser's save dialog: the record's id, stripped to what a header carries safely.
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


async def pdf_through(http: httpx.AsyncClient, url: str, token: str, name: str,
                      not_found: Callable[[], Response]) -> Response:
    """The PDF at `url` (fetched with `token`), or `not_found()` for any answer that is not one."""
    answer = await http.get(url, headers={"Authorization": f"Bearer {token}"})
    if answer.status_code == 401:
        raise TokenExpired(url)
    if answer.status_code >= 500:
        answer.raise_for_status()
    if answer.status_code != 200 or answer.headers.get("content-type", "").split(";")[0].strip() != PDF:
        return not_found()
    headers = {"Content-Disposition": f'inline; filename="{_UNSAFE.sub("_", name) or "document"}.pdf"',
               "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"}
    if "x-content-sha256" in answer.headers:
        headers["X-Content-SHA256"] = answer.headers["x-content-sha256"]
    return Response(answer.content, media_type=PDF, headers=headers)
