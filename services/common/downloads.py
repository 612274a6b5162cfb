"""Serving a file someone else supplied (a department's answer, an uploaded scan): always as a download.

The media type of such a file is the sender's word, not ours: served inline as `image/svg+xml` or
`text/html` it would run its script in our origin, with the reader's token in reach. So the file is an
attachment, the browser may not sniff it into something else, a sandbox CSP disables script even where a
browser renders it anyway, and only media types that cannot carry script keep their type.
"""

from __future__ import annotations

import re
from urllib.parse import quote

from fastapi.responses import Response

# Types served as they are; anything else becomes an opaque download.
SAFE_MEDIA_TYPES = frozenset({"application/pdf", "image/png", "image/jpeg", "image/webp", "image/heic", "image/heif"})
OPAQUE = "application/octet-stream"
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/]')


def safe_media_type(declared: str | None) -> str:
    """`declared` when it is on the allow-list (parameters dropped), else `application/octet-stream`."""
    base = (declared or "").split(";", 1)[0].strip().lower()
    return base if base in SAFE_MEDIA_TYPES else OPAQUE


def content_disposition(name: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266 / RFC 5987)."""
    cleaned = _UNSAFE_NAME.sub("_", name).strip() or "file"
    fallback = cleaned.encode("ascii", "replace").decode().replace("?", "_")
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(cleaned, safe='')}"


def attachment(content: bytes, *, name: str, media_type: str | None, headers: dict[str, str] | None = None) -> Response:
    """A response carrying a supplied file as a download that no browser will run."""
    return Response(
        content,
        media_type=safe_media_type(media_type),
        headers={
            **(headers or {}),
            "Content-Disposition": content_disposition(name),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-store",
        },
    )
