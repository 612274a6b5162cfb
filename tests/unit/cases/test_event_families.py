"""The cases topic's events are several modules, one per family: a consumer that imports any one of them knows
every event on the topic (the referrals service's case facts import only `cases_events`), so none is set aside
as an unknown event."""

from __future__ import annotations

import subprocess
import sys

import pytest

from services.contracts import catalog
from services.contracts.events import Topics

FAMILIES = sorted({cls.__module__ for cls in catalog.events() if cls.TOPIC == Topics.CASES})
ON_THE_TOPIC = sorted(f"{cls.TYPE}.v{cls.VERSION}" for cls in catalog.events() if cls.TOPIC == Topics.CASES)


def test_the_cases_topic_has_several_families() -> None:
    assert "services.contracts.cases_events" in FAMILIES and len(FAMILIES) >= 3


@pytest.mark.parametrize("module", [*FAMILIES, "services.referrals.projection"])
def test_importing_one_module_registers_every_event_of_the_topic(module: str) -> None:
    # A process of its own: this one has imported the catalog, and with it every module.
    program = (
        f"import {module}\n"
        "from services.contracts.events import Topics, registered_events\n"
        "print('\\n'.join(sorted(f'{c.TYPE}.v{c.VERSION}' for c in registered_events() if c.TOPIC == Topics.CASES)))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.split() == ON_THE_TOPIC
