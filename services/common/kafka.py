"""Kafka producer, consumer and admin factories (kafka-python), and the readiness probe."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer
from kafka.errors import TopicAlreadyExistsError

from services.common.kafka_metadata import keep_metadata_refreshing
from services.common.settings import CommonSettings
from services.contracts.events import Topics

log = logging.getLogger(__name__)

# Every Kafka client of the project takes its options from this module, so importing it repairs kafka-python's
# metadata refresh for all of them (kafka_metadata.py).
keep_metadata_refreshing()


def client_options(settings: CommonSettings) -> dict[str, Any]:
    """The brokers and how to reach them, for every producer, consumer and admin client of the project: the
    security protocol, and the TLS files and SASL credentials it uses (`TransportSettings`)."""
    options: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_servers,
        "security_protocol": settings.kafka_security_protocol,
    }
    if settings.kafka_security_protocol.endswith("SSL"):
        options.update(
            ssl_check_hostname=True,
            ssl_cafile=str(settings.kafka_ssl_ca) if settings.kafka_ssl_ca else None,
            ssl_certfile=str(settings.kafka_ssl_cert) if settings.kafka_ssl_cert else None,
            ssl_keyfile=str(settings.kafka_ssl_key) if settings.kafka_ssl_key else None,
            ssl_password=settings.kafka_ssl_key_password,
        )
    if settings.kafka_security_protocol.startswith("SASL_"):
        options.update(
            sasl_mechanism=settings.kafka_sasl_mechanism,
            sasl_plain_username=settings.kafka_sasl_username,
            sasl_plain_password=settings.kafka_sasl_password,
        )
    return options


def new_producer(settings: CommonSettings, *, client_id: str) -> KafkaProducer:
    """The relay's producer, which never loses or reorders an acknowledged event (acks=all, idempotent).

    acks=all whatever the replication factor: with one copy it is the same as acks=1, and with several the
    broker answers only once `min.insync.replicas` copies hold the event, so a broker lost after the answer
    loses nothing.
    """
    return KafkaProducer(
        **client_options(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        max_in_flight_requests_per_connection=5,
        retries=2**31 - 1,
        # The relay flushes as soon as it has handed over a batch, and the flush sends everything at once, so the
        # records wait for it rather than go in as many requests as the sender thread wakes up for: one request
        # a batch (up to 200 events of about a kilobyte over 6 partitions), not dozens, each of which costs the
        # broker its handling and the consumers a fetch. The relay is the only producer.
        linger_ms=1000,
        batch_size=64 * 1024,
        # Bounded so that a relay facing a dead broker gives up the batch and retries it later
        # rather than blocking forever inside send().
        max_block_ms=5000,
        request_timeout_ms=10000,
        delivery_timeout_ms=30000,
    )


def new_consumer(settings: CommonSettings, *topics: str, group_id: str, client_id: str) -> KafkaConsumer:
    """A consumer that commits offsets itself, only after the effects are committed in PostgreSQL."""
    return KafkaConsumer(
        *topics,
        **client_options(settings),
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        max_poll_records=200,
        isolation_level="read_committed",
        # A consumer killed without leaving its group keeps its partitions until the broker stops hearing
        # its heartbeats. kafka-python's default (45 s) held a restarted worker's events back that long
        # (`make faults`: 46 s for the intake and cases workers); heartbeats run on their own thread every
        # 3 s, so 10 s still tolerates a slow batch and a short pause.
        session_timeout_ms=10_000,
        heartbeat_interval_ms=3_000,
    )


class TopicConfigError(ValueError):
    """The topics cannot be created as configured on this cluster (e.g. more copies than brokers)."""


def live_brokers(admin: KafkaAdminClient) -> int:
    """How many brokers the cluster reports as registered and not fenced (a dead one is fenced)."""
    brokers = admin.describe_cluster()["brokers"]
    return sum(1 for broker in brokers if not broker.get("is_fenced", False))


def ensure_topics(
    settings: CommonSettings, topics: list[str] | None = None, *, partitions: int | None = None
) -> list[str]:
    """Create the project's topics if they are missing; returns those created.

    Partitions, replication factor and min.insync.replicas come from the settings (`partitions` overrides
    the count, for tests). A factor larger than the cluster's brokers is refused before anything is
    created: Kafka would refuse each topic anyway, with a less helpful message, after some were made.
    """
    wanted = topics if topics is not None else Topics.all()
    factor = settings.kafka_replication_factor
    admin = KafkaAdminClient(**client_options(settings), client_id="anxin-topics")
    try:
        brokers = live_brokers(admin)
        if factor > brokers:
            raise TopicConfigError(
                f"ANXIN_KAFKA_REPLICATION_FACTOR is {factor} but the Kafka cluster at "
                f"{','.join(settings.kafka_servers)} reports {brokers} broker(s): a topic cannot have more "
                "copies than there are brokers"
            )
        existing = set(admin.list_topics())
        missing = [t for t in wanted if t not in existing]
        created: list[str] = []
        for topic in missing:
            spec = {
                "num_partitions": partitions or settings.kafka_partitions,
                "replication_factor": factor,
                "configs": settings.kafka_topic_configs,
            }
            try:
                admin.create_topics({topic: spec})
                created.append(topic)
            except TopicAlreadyExistsError:
                pass
        return created
    finally:
        admin.close()


class KafkaProbe:
    """Answers "is the broker reachable right now?" with a real metadata round trip.

    The admin client is kept between probes and rebuilt after a failure; results are cached for a
    moment so that frequent /readyz calls do not turn into a stream of metadata requests.
    """

    def __init__(self, settings: CommonSettings, *, cache_seconds: float = 1.0) -> None:
        self._servers = settings.kafka_servers
        self._options = client_options(settings)
        self._cache_seconds = cache_seconds
        self._lock = threading.Lock()
        self._admin: KafkaAdminClient | None = None
        self._checked_at = 0.0
        self._error: str | None = "not checked yet"

    def check(self) -> str | None:
        """None when the broker answered; otherwise the reason it did not."""
        with self._lock:
            if time.monotonic() - self._checked_at < self._cache_seconds:
                return self._error
            try:
                if self._admin is None:
                    self._admin = KafkaAdminClient(
                        **self._options,
                        client_id="anxin-readiness",
                        request_timeout_ms=3000,
                        bootstrap_timeout_ms=3000,
                        reconnect_backoff_max_ms=1000,
                    )
                self._admin.describe_cluster()
                self._error = None
            except Exception as exc:  # any failure means "not reachable", with the reason
                self._error = f"kafka unreachable at {','.join(self._servers)}: {type(exc).__name__}: {exc}"
                self.close()
            self._checked_at = time.monotonic()
            return self._error

    def close(self) -> None:
        if self._admin is not None:
            try:
                self._admin.close()
            except Exception:
                log.debug("closing kafka admin client failed", exc_info=True)
            self._admin = None
