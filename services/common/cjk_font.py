"""The font the official documents are rendered with (cases' orders and decisions, referrals' letters, sanctions'
notices and lists): one that renders Chinese, `ANXIN_CJK_FONT` or one of Debian's (`make install` installs
fonts-wqy-microhei). The red of their letterheads is here too, so the three services' papers look alike."""

from __future__ import annotations

import os
from pathlib import Path

FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansCJK-Regular.ttc",
)
# The red of an official letterhead (红头).
LETTERHEAD_RED = (200, 16, 16)


def cjk_font(configured: Path | None = None) -> Path:
    """`configured` if given, else ANXIN_CJK_FONT, else the first of Debian's fonts that is installed."""
    for candidate in [str(configured) if configured else None, os.environ.get("ANXIN_CJK_FONT"), *FONT_CANDIDATES]:
        if candidate and Path(candidate).exists():
            return Path(candidate)
    raise FileNotFoundError(
        "no Chinese font found: install Debian's fonts-wqy-microhei (`make install` does) or set ANXIN_CJK_FONT"
    )
