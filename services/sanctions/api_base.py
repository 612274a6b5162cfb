"""What the sanctions service's routers share (`api.py`, `listings_api.py`, `registers_api.py`,
`public_api.py`): the roles each kind of route admits, the Idempotency-Key header, the quarter's pattern, the
service's commands object, the JSON answer (money as strings) and the request bodies' base."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from services.common.auth import require_roles
from services.sanctions import domain
from services.sanctions.commands import Sanctions

# A quarter of this century, e.g. 2026-Q3 (year 0 or 9999 is a typing error, not a quarter to publish).
QUARTER_PATTERN = r"^20\d{2}-Q[1-4]$"

READERS = require_roles(*domain.READ_ROLES)
ACTORS = require_roles(*domain.ACT_ROLES)
CITY = require_roles(*domain.DECIDE_ROLES)
IDENTITY = require_roles(*domain.IDENTITY_ROLES)

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


def sanctions(request: Request) -> Sanctions:
    return request.app.state.sanctions  # type: ignore[no-any-return]


def _json(value: Any) -> JSONResponse:
    # Money stays a string (never a float); dates and instants become ISO 8601.
    return JSONResponse(content=jsonable_encoder(_plain(value)))


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if not isinstance(v, bytes | memoryview)}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")
