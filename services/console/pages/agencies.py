"""The inboxes of the departments, the police, the procuratorate, arbitration and legal aid: what was handed or
referred to them, with due dates, and their answers."""

from __future__ import annotations

from fastapi import APIRouter

from services.console.web import NavItem

router = APIRouter()
NAV: list[NavItem] = []
