"""The fixtures of the tests on the real stack, shared by tests/integration and tests/security (one stack per
session): tests/support/stack_fixtures.py."""

import os

# The command line speaks the language of the locale (operations/i18n.py): the tests read its English, whatever
# the machine's locale, except those that choose a language themselves.
os.environ.setdefault("ANXIN_LANG", "en")

pytest_plugins = [
    "tests.support.stack_fixtures",
    "tests.support.temporal_server_fixtures",
    "tests.support.cluster_fixtures",
]
