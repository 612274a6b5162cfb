"""The cluster profile's stack (`make run-cluster`) for the tests that need it: the topology tests
(tests/integration/test_cluster_profile.py) and the transport attacks (tests/security/test_transport.py).

It is started once, by the first test that asks for `cluster`, and stopped as soon as the next test does not
use it: the suite's tests that do are run one after another, so the two dozen idle processes of the cluster
do not slow the rest of the suite down.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator

import pytest

from deploy.cluster import ClusterStack
from deploy.engines import REPO_ROOT, Ports
from tests.support.stack_fixtures import PORT_OFFSET, token_source

# 1,500 below the session's test stack (never 1,000: `Ports.private` says why), so both can run at once.
CLUSTER_PORTS = Ports.private(PORT_OFFSET - 1500)
CLUSTER_FIXTURE = "cluster"

_running: list[ClusterStack] = []


def _start() -> ClusterStack:
    data_dir = REPO_ROOT / ".data" / f"test-cluster{PORT_OFFSET or ''}"
    ClusterStack(data_dir, CLUSTER_PORTS, environ={}).stop()  # engines left by a killed run
    shutil.rmtree(data_dir, ignore_errors=True)
    # With its Web UI server, which reaches the frontend with the processes' client certificate.
    stack = ClusterStack(data_dir, CLUSTER_PORTS, environ={})
    stack.acquire_lock()
    _running.append(stack)
    stack.start_engines(timeout=180)
    stack.start_processes(timeout=300)
    return stack


def _stop() -> None:
    while _running:
        _running.pop().stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Move the tests that use the cluster right behind the first of them, the others keeping their order."""
    users = [item for item in items if CLUSTER_FIXTURE in getattr(item, "fixturenames", ())]
    if not users:
        return
    first = items.index(users[0])
    others = [item for item in items if item not in users]
    items[:] = others[:first] + users + others[first:]


def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    uses = CLUSTER_FIXTURE in getattr(item, "fixturenames", ())
    if uses and (nextitem is None or CLUSTER_FIXTURE not in getattr(nextitem, "fixturenames", ())):
        _stop()


@pytest.fixture(scope="session")
def cluster() -> Iterator[ClusterStack]:
    try:
        yield _start()
    finally:
        _stop()


@pytest.fixture(scope="session")
def cluster_token(cluster: ClusterStack) -> Callable[[str], str]:
    return token_source(cluster)
