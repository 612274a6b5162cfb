"""The fixtures of the tests on the real stack, shared by tests/integration and tests/security (one stack per
session): tests/support/stack_fixtures.py."""

pytest_plugins = [
    "tests.support.stack_fixtures", "tests.support.temporal_server_fixtures", "tests.support.cluster_fixtures",
]
