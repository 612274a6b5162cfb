"""Using the console's forms as a browser without JavaScript does: signed in as a person, a form found on a
case page with its hidden fields (CSRF token, idempotency key) as rendered, then posted."""

from __future__ import annotations

import time
import zlib
from typing import Any

import httpx

from tests.support.console_agencies import browser, hidden_fields, sign_in


def tiny_png() -> bytes:
    """A valid 1×1 PNG, small enough for the console's request limit: the photo of the signed receipt."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = (1).to_bytes(4, "big") * 2 + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


class Browser:
    def __init__(self, console: str, person: tuple[str, str]) -> None:
        self.http = sign_in(browser(console), *person)
        self.last_sent: dict[str, str] = {}

    def submit(self, case_id: str, action: str, fields: dict[str, str], files: Any = None) -> httpx.Response:
        """Open the case page and submit the form posting to `action`, with its hidden fields as rendered."""
        page = self.http.get(f"/cases/{case_id}")
        assert page.status_code == 200, page.text
        self.last_sent = {**hidden_fields(page, action), **fields}
        return self.http.post(action, data=self.last_sent, files=files)

    def submit_until(
        self,
        case_id: str,
        action: str,
        fields: dict[str, str],
        *,
        retry_on: tuple[int, ...],
        files: Any = None,
        timeout: float = 60,
    ) -> httpx.Response:
        """Submit, again while the process is not there yet (its workflow starts asynchronously)."""
        deadline = time.monotonic() + timeout
        while True:
            response = self.submit(case_id, action, fields, files)
            if response.status_code not in retry_on or time.monotonic() > deadline:
                return response
            time.sleep(1)
