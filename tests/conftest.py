"""The fixtures of the tests on the real stack, shared by tests/integration and tests/security (one stack per
session): tests/support/stack_fixtures.py."""

import os

from hypothesis import HealthCheck, settings

# The command line speaks the language of the locale (operations/i18n.py): the tests read its English, whatever
# the machine's locale, except those that choose a language themselves.
os.environ.setdefault("ANXIN_LANG", "en")

# Property tests judge what they generate, not how fast: on a loaded machine (a suite under coverage, other
# jobs beside it) drawing inputs or running an example can take seconds, which is no failure of the code.
settings.register_profile("anxin", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("anxin")

pytest_plugins = [
    "tests.support.stack_fixtures",
    "tests.support.temporal_server_fixtures",
    "tests.support.cluster_fixtures",
]
