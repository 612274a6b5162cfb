"""kafka-python's metadata refresh loop keeps going after a metadata request fails with a socket error
(services/common/kafka_metadata.py); without the repair it ends, and the client never learns new leaders."""

from __future__ import annotations

from typing import Any

import pytest
from kafka import errors
from kafka.cluster import ClusterMetadata, WakeupNotifier

import services.common.kafka  # noqa: F401  (installs the repair, as every client of the project gets it)


class _Selector:
    """What the loop's wake-up notifier asks of the client's network selector: nothing that matters here."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: None


class _BrokerGone:
    """A connection manager whose every metadata request fails as a request to a broker that just died does."""

    _net = _Selector()
    bootstrapped = True

    def __init__(self, failure: BaseException) -> None:
        self.failure = failure
        self.requests = 0

    def least_loaded_node(self) -> str:
        return "bootstrap-0"

    def reset_backoff(self, *_: object) -> None:
        pass

    def update_backoff(self, *_: object) -> None:
        pass

    def connection_delay(self, *_: object) -> int:
        return 0

    async def send(self, request: object, node_id: object) -> None:
        self.requests += 1
        raise self.failure


def _cluster(manager: _BrokerGone) -> ClusterMetadata:
    cluster = ClusterMetadata(bootstrap_servers="127.0.0.1:1")
    cluster._manager = manager
    cluster._wakeup = WakeupNotifier(manager._net)
    return cluster


@pytest.mark.parametrize(
    "failure",
    [ConnectionResetError(104, "Connection reset by peer"), errors.KafkaConnectionError("111 ECONNREFUSED")],
    ids=["socket error", "kafka error"],
)
def test_the_refresh_loop_goes_on_after_a_failed_metadata_request(failure: BaseException) -> None:
    manager = _BrokerGone(failure)
    loop = _cluster(manager)._refresh_loop()
    # The first step sends a metadata request, which fails; the loop must then wait to try again, not end.
    loop.send(None)
    assert manager.requests == 1
    loop.close()


def test_a_direct_caller_gets_a_kafka_error_naming_the_socket_error() -> None:
    manager = _BrokerGone(ConnectionResetError(104, "Connection reset by peer"))
    with pytest.raises(errors.KafkaConnectionError, match="ConnectionResetError"):
        _cluster(manager).refresh_metadata().send(None)
