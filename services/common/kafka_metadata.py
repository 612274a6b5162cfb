"""A repair of kafka-python's metadata refresh, applied by `services/common/kafka.py` to every client.

In kafka-python 3.0 (3.0.12, the latest release, included) the client's metadata refresh loop
(`ClusterMetadata._refresh_loop`) goes on after a failed metadata request only when the failure is a
`KafkaError`. A broker that dies while answering one fails it with the socket's own error (`ConnectionResetError`,
an `OSError`): the loop ends there, for good, and the client never learns its partitions' new leaders. A
consumer then fetches from the dead broker for as long as it lives, and the events of those partitions wait. The
cluster profile's test that kills a broker under load showed it: one of the two intake workers logged "Fetch to
node 2 failed" for five minutes, and 14 of 100 complaints were not started.

The repair gives the loop a `KafkaConnectionError` for any other failure of a metadata request, so it backs off
and asks again, as it does when a broker refuses a connection. The failure itself is logged by the library as
before ("Metadata refresh: failed …"). tests/unit/test_kafka_metadata_refresh.py holds the loop to it.
"""

from __future__ import annotations

from typing import Any

from kafka import errors
from kafka.cluster import ClusterMetadata

_REPAIRED = "_anxin_refresh_keeps_going"


def keep_metadata_refreshing() -> None:
    """Install the repair (once; calling it again changes nothing)."""
    if getattr(ClusterMetadata, _REPAIRED, False):
        return
    refresh = ClusterMetadata.refresh_metadata

    async def refresh_metadata(self: ClusterMetadata, node_id: Any = None) -> None:
        try:
            await refresh(self, node_id)
        except errors.KafkaError:
            raise
        except Exception as exc:
            raise errors.KafkaConnectionError(f"metadata request failed: {type(exc).__name__}: {exc}") from exc

    ClusterMetadata.refresh_metadata = refresh_metadata
    setattr(ClusterMetadata, _REPAIRED, True)
