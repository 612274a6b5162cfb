"""The Temporal Server of the cluster profile (`make temporal-server`), for the tests that need one beside the
test stack's dev server: tests/integration/test_temporal_server.py and test_temporal_ui.py. A plugin of the
root conftest, so the server starts once per session, on first use, and stops before the stack does.

The server runs on its own block of ports (the stack's Temporal port +100 onwards), with its databases in
the stack's PostgreSQL. A fresh machine builds it once (about five minutes, through the same Makefile target
`make test` runs first); afterwards the start takes seconds.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from deploy.stack import Stack, search_attributes
from deploy.temporal_server import TemporalServerEngine, ensure_built


@pytest.fixture(scope="session")
def temporal_server(stack: Stack) -> Iterator[TemporalServerEngine]:
    ensure_built()
    engine = TemporalServerEngine(
        stack.data_dir, stack.log_dir, stack.ports.temporal + 100, stack.postgres, search_attributes()
    )
    engine.start()
    try:
        engine.wait_ready(timeout=90)
        yield engine
    finally:
        engine.stop()
