"""One pagination for every list (services/common/pagination.py): cursors that name their list and refuse
anything else, keyset conditions in the list's own order, and pages that say whether another follows."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from services.common.pagination import SORT_KEY, InvalidCursor, Keyset, decode_cursor, encode_cursor, where

LISTINGS = Keyset("listings", "proposed_at", "timestamptz", "listing_id")
SITES = Keyset("sites", "site_id", "text", "site_id", descending=False)


def test_a_cursor_reads_back_only_in_its_own_list() -> None:
    at = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    cursor = encode_cursor("listings", at, "L-2")
    assert decode_cursor(cursor, "listings", 2) == [at.isoformat(), "L-2"]
    for wrong, arity in ((cursor, 3), (encode_cursor("sites", "S-1", "S-1"), 2)):
        with pytest.raises(InvalidCursor, match="another list"):
            decode_cursor(wrong, "listings", arity)
    for garbage in ("not a cursor", "e30", "", "bm90IGpzb24", "W10"):
        with pytest.raises(InvalidCursor):
            decode_cursor(garbage, "listings", 2)


def test_the_next_page_starts_after_the_last_row_in_the_lists_order() -> None:
    assert LISTINGS.after(None) == (None, [])
    condition, params = LISTINGS.after(encode_cursor("listings", "2026-11-30T08:00:00+00:00", "L-2"))
    assert condition == "(proposed_at, listing_id) < (%s::timestamptz, %s)"
    assert params == ["2026-11-30T08:00:00+00:00", "L-2"]
    assert LISTINGS.order_by == "proposed_at DESC, listing_id DESC"
    assert SITES.after(encode_cursor("sites", "S-1", "S-1"))[0] == "(site_id, site_id) > (%s::text, %s)"
    assert where([None, "a = %s", None, "b"]) == " WHERE a = %s AND b" and where([None]) == ""


def test_a_page_holds_the_limit_and_a_cursor_only_when_more_follow() -> None:
    rows = [{"site_id": f"S-{i}", SORT_KEY: f"S-{i}"} for i in range(3)]
    shown, next_cursor = SITES.page(rows, 2, "site_id")
    assert shown == [{"site_id": "S-0"}, {"site_id": "S-1"}]
    assert next_cursor is not None and decode_cursor(next_cursor, "sites", 2) == ["S-1", "S-1"]
    assert SITES.page(rows, 3, "site_id") == ([{"site_id": f"S-{i}"} for i in range(3)], None)
    assert SITES.page([], 5, "site_id") == ([], None)
