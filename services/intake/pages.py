"""Rendering the worker's pages (jinja2, autoescaped). The routes in `api.py` call these."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

_env = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def render_form(
    site: Mapping[str, Any] | None,
    counties: Mapping[str, str],
    *,
    values: Mapping[str, Any],
    errors: Mapping[str, str],
    action: str = "/form",
) -> str:
    # The form token doubles as the Idempotency-Key: a double tap or a resend on a slow network files once.
    return _env.get_template("form.html").render(
        site=site, counties=counties, values=values, errors=errors, action=action,
        form_token=secrets.token_urlsafe(16),
    )


def render_submitted(complaint_id: str, tracking_code: str, *, status_url: str = "/status") -> str:
    return _env.get_template("submitted.html").render(
        complaint_id=complaint_id, tracking_code=tracking_code, status_url=status_url
    )


def render_status_form(*, values: Mapping[str, Any], error: str | None) -> str:
    return _env.get_template("status_form.html").render(values=values, error=error)


def render_status(status: Mapping[str, Any]) -> str:
    return _env.get_template("status.html").render(status=status)
