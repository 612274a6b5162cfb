"""The referrals service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from services.common.service import ServiceSettings

DEFAULT_DEPARTMENTS = Path(__file__).parent / "departments.toml"


class ReferralsSettings(ServiceSettings):
    # The departments, their deadlines and ladder settings, and the bureau's document number prefixes.
    departments_file: Path = Field(DEFAULT_DEPARTMENTS, alias="ANXIN_REFERRALS_DEPARTMENTS")
    # A font that renders Chinese; empty: the first of Debian's CJK fonts found (the Makefile installs one).
    cjk_font: Path | None = Field(None, alias="ANXIN_CJK_FONT")
