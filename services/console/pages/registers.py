"""An inspector's registers: the call-backs due, and the county's construction sites with their QR posters."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.web import NavItem

router = APIRouter()
NAV: list[NavItem] = []
