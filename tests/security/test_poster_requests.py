"""Anyone may ask for a site's public poster over and over: the font folders are searched once per process
and a poster is rendered once per format, site facts and URL, so repeated requests cost no CJK rendering
(docs/security.md, "Attacks the suite performs"; the posters themselves: tests/unit/intake/test_posters.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.intake import posters

SITE = {
    "site_id": "HD-2026-0001",
    "name": "邯山区某安置房项目",
    "county_name": "邯山区",
    "address": "人民路1号",
    "general_contractor": "某建工集团有限公司",
}
URL = "https://anxin.example/?site=HD-2026-0001"


def test_the_font_folders_are_searched_once_and_a_poster_is_rendered_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(posters.FONT_ENV, raising=False)
    font = posters.cjk_font_path()  # found by searching the folders (whatever earlier tests did)
    posters.find_cjk_font.cache_clear()
    posters._rendered.cache_clear()
    searched: list[Path] = []
    real_rglob = Path.rglob

    def counting_rglob(self: Path, pattern: str, **kwargs: object) -> object:
        searched.append(self)
        return real_rglob(self, pattern)

    monkeypatch.setattr(Path, "rglob", counting_rglob)
    first = posters.poster("png", SITE, URL)
    folders_walked = len(searched)
    assert folders_walked >= 1 and posters.cjk_font_path() == font
    other_site = {**SITE, "site_id": "HD-2026-0002"}
    assert posters.poster("pdf", SITE, URL)[:4] == b"%PDF" and posters.poster("png", other_site, URL) != first
    assert len(searched) == folders_walked  # two more renders, no more walks
    assert posters.poster("png", SITE, URL) is first  # the same poster again is not rendered again
