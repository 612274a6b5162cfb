"""Every process of the service can be built from its entry point (a broken import stops the stack)."""

from __future__ import annotations

import importlib

from services.referrals.spec import SPEC


def test_the_entry_point_and_its_processes_import() -> None:
    main = importlib.import_module("services.referrals.__main__")
    assert main.build_worker is not None and main.create_app is not None
    assert SPEC.has_worker and SPEC.name == "referrals"
