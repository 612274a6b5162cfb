"""One pagination for every list the services answer: `limit` and an opaque `cursor` in, `items` and
`next_cursor` out (null on the last page). docs/api.md, "Lists", documents it once for all.

A page is read by keyset, not by offset: the cursor holds the last row's sort key and id, and the next page
starts after them, so a page is as fast deep in a list as at its start and rows added meanwhile neither
repeat nor vanish. The cursor names its list (a cursor of one list is refused by another) and is opaque to
clients: base64url JSON, checked on the way in (`InvalidCursor`, a 422 at the HTTP edge).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import Query
from psycopg import AsyncConnection

from services.common.errors import Invalid

Limit = Annotated[int, Query(ge=1, le=200, description="At most this many items (the largest page is 200).")]
Cursor = Annotated[
    str | None, Query(max_length=500, description="The `next_cursor` of the page before; none: the first page.")
]
# The sort key's alias in a keyset query (`Keyset.select`), taken off each row before it is answered.
SORT_KEY = "_sort_key"


class InvalidCursor(Invalid):
    """A cursor that is not one this list gave."""

    def __init__(self, detail: str) -> None:
        super().__init__("Invalid cursor", detail, errors=[{"field": "cursor", "code": "invalid", "message": detail}])


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(list_name: str, *values: Any) -> str:
    raw = json.dumps([list_name, *(_jsonable(v) for v in values)], ensure_ascii=False)
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, list_name: str, arity: int) -> list[Any]:
    """The values a cursor of `list_name` holds (`arity` of them); `InvalidCursor` for anything else."""
    try:
        values = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (ValueError, TypeError):
        raise InvalidCursor("the cursor is not valid; start again without it") from None
    if not isinstance(values, list) or len(values) != arity + 1 or values[0] != list_name:
        raise InvalidCursor("the cursor was made for another list or ordering; start again without it")
    return values[1:]


@dataclass(frozen=True)
class Keyset:
    """How one list is ordered and paged: by `key` (an SQL expression that is never NULL — coalesce it — of
    SQL type `key_type`), then by the row's unique `id`, both one way."""

    name: str
    key: str
    key_type: str
    id: str
    descending: bool = True

    @property
    def select(self) -> str:
        """The select-list item that carries the sort key to `page`."""
        return f"{self.key} AS {SORT_KEY}"

    @property
    def order_by(self) -> str:
        direction = "DESC" if self.descending else "ASC"
        return f"{self.key} {direction}, {self.id} {direction}"

    def after(self, cursor: str | None) -> tuple[str | None, list[Any]]:
        """The WHERE condition (and its parameters) for the rows after the cursor; (None, []) for the first page."""
        if not cursor:
            return None, []
        key, row_id = decode_cursor(cursor, self.name, 2)
        comparison = "<" if self.descending else ">"
        return f"({self.key}, {self.id}) {comparison} (%s::{self.key_type}, %s)", [key, row_id]

    async def fetch(
        self,
        conn: AsyncConnection[Any],
        columns: str,
        source: str,
        clauses: Sequence[str | None],
        params: Sequence[Any],
        *,
        limit: int,
        cursor: str | None,
        id_field: str,
    ) -> tuple[list[dict[str, Any]], str | None]:
        """A page of `SELECT columns FROM source WHERE clauses` (dict rows) in this order after `cursor`, and the
        cursor of the next page."""
        after, after_params = self.after(cursor)
        found = await conn.execute(
            f"SELECT {columns}, {self.select} FROM {source}{where([*clauses, after])} ORDER BY {self.order_by} LIMIT %s",
            (*params, *after_params, limit + 1),
        )
        return self.page(await found.fetchall(), limit, id_field)

    def page(
        self, rows: Sequence[dict[str, Any]], limit: int, id_field: str
    ) -> tuple[list[dict[str, Any]], str | None]:
        """The page of at most `limit` rows (the query read `limit + 1`) and the cursor of the next, if any."""
        shown = [dict(row) for row in rows[:limit]]
        next_cursor = (
            encode_cursor(self.name, shown[-1][SORT_KEY], shown[-1][id_field]) if len(rows) > limit and shown else None
        )
        for row in shown:
            row.pop(SORT_KEY, None)
        return shown, next_cursor


def where(clauses: Sequence[str | None]) -> str:
    """` WHERE a AND b` of the clauses given (none: empty)."""
    present = [c for c in clauses if c]
    return (" WHERE " + " AND ".join(present)) if present else ""
