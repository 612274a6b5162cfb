"""Looking a complaint up with its tracking code: the worker's status page and the API's `X-Tracking-Code`.

A tracking code is about 40 bits, so two things keep it from being guessed:

- it is stored as an HMAC under the deployment's reference key, never as a plain hash (a copy of the table
  does not give the codes away by trying all 2^40 of them); complaints filed before migration 0003 keep
  their plain hash, which is still accepted for them;
- wrong codes are counted per client address and per complaint in a one-hour window; past either limit
  every look-up from that address, or of that complaint, is refused with 429 until the window ends —
  the right code too, so a guess that lands after the limit learns nothing. Only wrong codes count: workers
  behind one carrier-grade NAT address who type their codes right are never held up.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import TYPE_CHECKING, Any

from services.common.crypto import keyed_reference
from services.common.errors import TooManyRequests
from services.intake import identifiers, store

if TYPE_CHECKING:
    from services.intake.submissions import Intake

WINDOW_SECONDS = 3600
_MAC_CONTEXT = b"anxin.intake.tracking-code|"


def _normal(code: str) -> str:
    # A code as typed (lower case, no dash, full-width) is put in normal form first, so it still matches.
    return identifiers.normalise_tracking_code(code) or code.strip().upper()


def tracking_code_mac(code: str, key: bytes) -> str:
    """What is stored for a tracking code: HMAC-SHA256 under the reference key, with its own context."""
    return hmac.new(key, _MAC_CONTEXT + _normal(code).encode(), hashlib.sha256).hexdigest()


def legacy_tracking_code_hash(code: str) -> str:
    """The plain hash stored for complaints filed before migration 0003 (checked for those only)."""
    return hashlib.sha256(("anxin-tracking:" + _normal(code)).encode()).hexdigest()


def code_matches(row: dict[str, Any], code: str, key: bytes) -> bool:
    if not code:
        return False
    if row.get("tracking_code_mac"):
        return hmac.compare_digest(row["tracking_code_mac"], tracking_code_mac(code, key))
    if row.get("tracking_code_hash"):
        return hmac.compare_digest(row["tracking_code_hash"], legacy_tracking_code_hash(code))
    return False


async def look_up(service: Intake, complaint_id: str, code: str, client_ip: str | None) -> dict[str, Any] | None:
    """The complaint when `code` is its tracking code; None when there is no such complaint or the code is
    wrong (one answer for both). Raises `TooManyRequests` past a limit of wrong codes."""
    key = service.reference_key
    limits = [
        (
            keyed_reference(complaint_id, key, prefix="lookup-complaint"),
            service.wrong_codes_per_complaint_per_hour,
            "这个投诉编号",
        )
    ]
    if client_ip:
        limits.insert(
            0,
            (keyed_reference(client_ip, key, prefix="lookup-ip"), service.wrong_codes_per_ip_per_hour, "这个网络地址"),
        )
    async with service.pool.connection() as conn:
        for bucket, limit, what in limits:
            wait = await store.rate_limit_wait(conn, bucket, limit=limit, window_seconds=WINDOW_SECONDS)
            if wait is not None:
                raise TooManyRequests(
                    "Too many look-ups",
                    f"{what}的查询次数过多，请 {max(1, wait // 60)} 分钟后再试，或拨打 12333 热线。"
                    f" Too many wrong tracking codes; try again in {wait} seconds or call the 12333 hotline.",
                    retry_after=wait,
                )
        row = await store.get_complaint(conn, complaint_id)
        if row is not None and code_matches(row, code, key):
            return row
        async with conn.transaction():
            await store.add_rate_hits(conn, [bucket for bucket, _, _ in limits], window_seconds=WINDOW_SECONDS)
    return None
