"""The monitoring topic's events are two modules (the register's, feeds' and warnings' in `monitoring_events`, the
payouts' and funds' in `guarantee_funds`): a consumer that imports either knows every event on the topic (the
referrals service's ladder against projects imports only `monitoring_events`), so none is set aside as an
unknown event."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.contracts import catalog
from services.contracts.events import Topics

FAMILIES = sorted({cls.__module__ for cls in catalog.events() if cls.TOPIC == Topics.MONITORING})
ON_THE_TOPIC = sorted(f"{cls.TYPE}.v{cls.VERSION}" for cls in catalog.events() if cls.TOPIC == Topics.MONITORING)


def test_the_monitoring_topic_has_the_payouts_family() -> None:
    assert FAMILIES == ["services.contracts.guarantee_funds", "services.contracts.monitoring_events"]


@pytest.mark.parametrize("module", [*FAMILIES, "services.referrals.project_ladder_starter"])
def test_importing_one_module_registers_every_event_of_the_topic(module: str) -> None:
    # A process of its own: this one has imported the catalog, and with it every module.
    program = (
        f"import {module}\n"
        "from services.contracts.events import Topics, registered_events\n"
        "print('\\n'.join(sorted(f'{c.TYPE}.v{c.VERSION}' for c in registered_events() if c.TOPIC == Topics.MONITORING)))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ON_THE_TOPIC
