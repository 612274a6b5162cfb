"""The actions of a case's current stage, as forms on its page (acceptance, verification, service, payments,
closure, extension requests, fast tracks) and revealing a complainant's identity as an audited action."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.web import NavItem

router = APIRouter()
NAV: list[NavItem] = []
