"""The public pages, no sign-in: the blacklist search, the published major-violation lists, and each county's
on-time rates for the last quarter."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.web import NavItem

router = APIRouter()
NAV: list[NavItem] = []
