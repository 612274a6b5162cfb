"""The console's sessions in PostgreSQL, shared by its replicas: a session opened through one console process
is valid on a second one on the same database, and a sign-out on either ends it on both. What the table holds:
the hash of the session id, never the id (the cookie's value), and the person's token sealed."""

from __future__ import annotations

import hashlib

import httpx
import psycopg

from deploy.stack import Stack
from tests.integration.console.test_console import (
    _browser,
    _csrf,
    _sign_in,
    inspector,  # noqa: F401 (a fixture, used by name)
)


def _same_cookie(browser: httpx.Client, url: str) -> httpx.Client:
    """Another browser tab on `url` with `browser`'s cookies (the load balancer sent it to the other replica)."""
    other = _browser(url)
    for name, value in browser.cookies.items():
        other.cookies.set(name, value)
    return other


def test_a_session_opened_on_one_console_is_valid_on_the_other_and_signing_out_on_one_ends_it_on_both(
    console: str,
    second_console: str,
    inspector: tuple[str, str],  # noqa: F811
) -> None:
    with _browser(console) as first:
        assert _sign_in(first, *inspector).status_code == 303
        with _same_cookie(first, second_console) as second:
            queue = second.get("/queue")
            assert queue.status_code == 200, queue.text  # opened on the first, seen on the second
            assert first.get("/queue").status_code == 200
            assert second.post("/sign-out", data={"csrf": _csrf(queue)}).status_code == 303
            ended = first.get("/queue")
            assert ended.status_code == 303 and ended.headers["location"] == "/sign-in?expired=1"


def test_sign_out_everywhere_on_one_console_ends_the_persons_sessions_on_the_other(
    console: str,
    second_console: str,
    inspector: tuple[str, str],  # noqa: F811
) -> None:
    with _browser(console) as phone, _browser(second_console) as desk:
        _sign_in(phone, *inspector)
        _sign_in(desk, *inspector)
        assert phone.get("/queue").status_code == 200
        queue = desk.get("/queue")
        assert desk.post("/sign-out", data={"csrf": _csrf(queue), "everywhere": "1"}).status_code == 303
        assert phone.get("/queue").status_code == 303


def test_the_table_holds_the_session_ids_hash_and_the_token_sealed(
    stack: Stack,
    console: str,
    inspector: tuple[str, str],  # noqa: F811
) -> None:
    with _browser(console) as browser:
        _sign_in(browser, *inspector)
        assert browser.get("/queue").status_code == 200
        session_id = browser.cookies["anxin_console"]
        with psycopg.connect(stack.client_settings().database_url) as conn:
            row = conn.execute(
                "SELECT session_hash, token_sealed, person_id FROM console.sessions WHERE session_hash = %s",
                (hashlib.sha256(session_id.encode()).digest(),),
            ).fetchone()
            every_value = conn.execute("SELECT string_agg(t::text, ' ') FROM console.sessions t").fetchone()
    assert row is not None and row[2] == inspector[0]
    assert every_value is not None and session_id not in every_value[0]
    # A person's token is a JWT ("eyJ…"); sealed, no part of one is in the row.
    assert b"eyJ" not in bytes(row[1]) and "eyJ" not in every_value[0]
