"""The city office's dashboard (figures per county) and the approvals waiting for it."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.web import NavItem

router = APIRouter()
NAV: list[NavItem] = []
