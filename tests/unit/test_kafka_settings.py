"""Kafka topic settings: defaults keep the single development broker's topics as they were."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.common.settings import CommonSettings


def test_defaults_are_one_copy_six_partitions_and_no_topic_configs(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("ANXIN_KAFKA_REPLICATION_FACTOR", "ANXIN_KAFKA_PARTITIONS", "ANXIN_KAFKA_MIN_INSYNC_REPLICAS"):
        monkeypatch.delenv(name, raising=False)
    settings = CommonSettings()
    assert settings.kafka_replication_factor == 1
    assert settings.kafka_partitions == 6
    assert settings.kafka_topic_configs == {}


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANXIN_KAFKA_REPLICATION_FACTOR", "3")
    monkeypatch.setenv("ANXIN_KAFKA_PARTITIONS", "12")
    monkeypatch.setenv("ANXIN_KAFKA_MIN_INSYNC_REPLICAS", "3")
    settings = CommonSettings()
    assert (settings.kafka_replication_factor, settings.kafka_partitions) == (3, 12)
    assert settings.kafka_topic_configs == {"min.insync.replicas": "3"}


def test_min_insync_defaults_to_one_fewer_than_the_factor() -> None:
    settings = CommonSettings(kafka_replication_factor=3)
    assert settings.kafka_topic_configs == {"min.insync.replicas": "2"}


@pytest.mark.parametrize(
    "values",
    [
        {"kafka_replication_factor": 0},
        {"kafka_partitions": 0},
        {"kafka_min_insync_replicas": 0},
        {"kafka_replication_factor": 2, "kafka_min_insync_replicas": 3},
    ],
)
def test_impossible_values_fail_at_start_up(values: dict[str, int]) -> None:
    with pytest.raises(ValidationError):
        CommonSettings(**values)  # type: ignore[arg-type]


def test_the_relays_gather_is_20_ms_and_may_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ANXIN_RELAY_GATHER_MS", raising=False)
    assert CommonSettings().relay_gather_ms == 20
    monkeypatch.setenv("ANXIN_RELAY_GATHER_MS", "0")
    assert CommonSettings().relay_gather_ms == 0
    for refused in ("-1", "1001"):
        monkeypatch.setenv("ANXIN_RELAY_GATHER_MS", refused)
        with pytest.raises(ValidationError):
            CommonSettings()
