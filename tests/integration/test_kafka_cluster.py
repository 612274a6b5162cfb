"""The three-broker KRaft cluster: the project's topics with three copies and two in sync survive a broker
killed with SIGKILL (nothing acknowledged is lost, producing and consuming go on), and a replication factor
larger than the cluster is refused.

The cluster runs on its own ports (the test stack's Kafka port + 20 …, shifted by ANXIN_TEST_PORT_OFFSET)
and data dir, beside the session's single-broker stack, which this test does not need.
"""

from __future__ import annotations

import os
import shutil
import time
import uuid
from collections.abc import Iterator

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

from deploy.engines import REPO_ROOT, Ports
from deploy.kafka_cluster import KafkaCluster
from services.common.kafka import TopicConfigError, ensure_topics, new_consumer, new_producer
from services.common.settings import CommonSettings
from services.contracts.events import EventEnvelope, Topics
from tests.support.events import Counted

PORT_OFFSET = int(os.environ.get("ANXIN_TEST_PORT_OFFSET", "0"))


@pytest.fixture(scope="module")
def cluster() -> Iterator[KafkaCluster]:
    data_dir = REPO_ROOT / ".data" / f"test-kafka-cluster-{PORT_OFFSET}"
    first_port = Ports.private(PORT_OFFSET).kafka + 20
    # A run killed before its teardown may have left nodes behind: stop them (by their pid files), start clean.
    KafkaCluster(data_dir, data_dir / "logs", first_port).stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    kafka = KafkaCluster(data_dir, data_dir / "logs", first_port)
    kafka.start()
    try:
        kafka.wait_ready(timeout=90)
        yield kafka
    finally:
        kafka.stop()


def _send(producer: KafkaProducer, topic: str, numbers: range) -> set[str]:
    ids = set()
    for n in numbers:
        envelope = EventEnvelope.wrap(Counted(n=n), subject=f"case-{n % 7}", producer="test")
        producer.send(topic, key=envelope.subject.encode(), value=envelope.model_dump_json().encode())
        ids.add(str(envelope.event_id))
    producer.flush(60)  # raises if any send was not acknowledged by min.insync.replicas copies
    return ids


def _receive(consumer: KafkaConsumer, wanted: set[str], timeout: float) -> set[str]:
    seen: set[str] = set()
    deadline = time.monotonic() + timeout
    while not wanted <= seen and time.monotonic() < deadline:
        for records in consumer.poll(timeout_ms=500).values():
            seen.update(str(EventEnvelope.model_validate_json(r.value).event_id) for r in records)
        consumer.commit()
    return seen


def _replicas_and_min_insync(settings: CommonSettings, topic: str) -> tuple[set[int], str]:
    """The copies of each partition of `topic` (as a set of counts) and its min.insync.replicas."""
    from kafka.admin import ConfigResource

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_servers)
    try:
        # The broker that answers may not have applied the topic's partitions or config from the metadata log
        # yet (KRaft spreads a topic made a moment ago to each broker in turn): ask again for a while before
        # taking its answer.
        deadline = time.monotonic() + 20
        while True:
            [described] = admin.describe_topics([topic])
            replicas = {len(p["replica_nodes"]) for p in described["partitions"]}
            configs = admin.describe_configs([ConfigResource("TOPIC", topic)])["topic"][topic]
            if (replicas and "min.insync.replicas" in configs) or time.monotonic() > deadline:
                return replicas, configs.get("min.insync.replicas", {}).get("value", "absent")
            time.sleep(0.5)
    finally:
        admin.close()


def test_three_copies_survive_a_broker_killed_and_a_larger_factor_is_refused(cluster: KafkaCluster) -> None:
    settings = cluster.settings(kafka_replication_factor=3, kafka_min_insync_replicas=2, kafka_partitions=3)
    # The project's own topics, created by the cluster's wait_ready as the cluster profile creates them: a
    # copy on each broker, two in sync (nothing is left for ensure_topics to create).
    assert ensure_topics(settings) == []
    for topic in Topics.all():
        assert _replicas_and_min_insync(settings, topic) == ({3}, "2"), topic
    topic = Topics.all()[0]

    with pytest.raises(TopicConfigError, match=r"REPLICATION_FACTOR is 4 .* reports 3 broker"):
        ensure_topics(cluster.settings(kafka_replication_factor=4), [f"test.too-many.{uuid.uuid4().hex[:8]}"])

    group = f"test-cluster-{uuid.uuid4().hex[:8]}"
    producer = new_producer(settings, client_id="test-cluster")
    consumer = new_consumer(settings, topic, group_id=group, client_id=group)
    try:
        before = _send(producer, topic, range(100))
        assert _receive(consumer, before, timeout=30) >= before

        cluster.kill(1)  # the first bootstrap server, and perhaps the active controller
        # Partitions it led move to another copy once the controller fences it; the producer retries
        # meanwhile (delivery timeout 30 s), and acks=all with two copies in sync still succeeds.
        after = _send(producer, topic, range(100, 200))
        late_producer = new_producer(settings, client_id="test-cluster-late")
        try:
            after |= _send(late_producer, topic, range(200, 250))
        finally:
            late_producer.close()
        seen = _receive(consumer, after, timeout=60)
        assert after <= seen, f"{len(after - seen)} acknowledged events not delivered after the broker died"
    finally:
        consumer.close()
        producer.close()

    # A new group reads the topic from the beginning off the surviving copies: every event is there.
    again = new_consumer(settings, topic, group_id=f"{group}-replay", client_id=f"{group}-replay")
    try:
        assert _receive(again, before | after, timeout=60) >= before | after
    finally:
        again.close()
