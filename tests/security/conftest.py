"""The adversarial suite's fixtures: the agencies' clients on the real stack (the stack itself comes from
tests/support/stack_fixtures.py), and the sanctions suite's helpers for a listing that reaches its decision."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from deploy.stack import Stack
from tests.integration.cases.conftest import agencies  # noqa: F401 (a fixture, used by name)
from tests.integration.referrals.conftest import agencies as referral_agencies  # noqa: F401 (the referrals suite's)
from tests.integration.sanctions.conftest import sanctions  # noqa: F401 (a fixture, used by name)
from tests.support.agencies import agency_clients


@pytest.fixture(scope="session")
def client(stack: Stack, agency_token: Callable[[str], str]) -> Callable[[str, str | None], httpx.Client]:
    """`client(process, development client id or None)`: the attacker's or the agency's HTTP client."""
    stack.start_processes(["intake-api", "intake-relay", "intake-worker"], timeout=120)
    return agency_clients(stack, agency_token)
