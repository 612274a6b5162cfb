"""What the OpenAPI says a route answers with when its answer is a file rather than JSON."""

from __future__ import annotations

from typing import Any


def file_responses(*media_types: str) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route whose 200 is a file of one of `media_types` (declared so that clients and
    `make fuzz` know the answer is not JSON)."""
    return {200: {"description": "The content, in one of these media types", "content": {
        media_type: {"schema": {"type": "string", "format": "binary"}} for media_type in media_types}}}
