"""`/readyz` is public: with its engines unreachable it names them with a fixed reason, and the engines' own
error text (hosts, ports, users) goes to the log only (docs/security.md, "Attacks the suite performs")."""

from __future__ import annotations

import logging

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from services.common.health import health_router, kafka_check, status_check
from services.common.kafka import KafkaProbe
from services.common.settings import CommonSettings

DATABASE_ERROR = (
    'postgresql unreachable: OperationalError: connection to server at "10.20.30.40", port 5433 failed: '
    'FATAL:  password authentication failed for user "intake_owner"'
)


def test_readiness_names_the_engine_not_its_error(caplog: pytest.LogCaptureFixture) -> None:
    # A real Kafka client against a closed port (its error names the address), and a database check failing
    # the way psycopg does.
    probe = KafkaProbe(CommonSettings(kafka_bootstrap_servers="127.0.0.1:9"))
    app = FastAPI()
    app.include_router(
        health_router(
            "intake-api",
            {
                "postgresql": status_check(lambda: DATABASE_ERROR),
                "kafka": kafka_check(probe),
                "relay": status_check(lambda: "relay failing: KafkaTimeoutError: broker 10.20.30.41:9092"),
            },
        )
    )
    try:
        with caplog.at_level(logging.WARNING, logger="services.common.health"):
            response = TestClient(app).get("/readyz")
    finally:
        probe.close()
    assert response.status_code == 503
    assert response.json() == {
        "status": "not ready",
        "service": "intake-api",
        "checks": {"postgresql": "postgresql unreachable", "kafka": "kafka unreachable", "relay": "relay not ready"},
    }
    for leak in ("10.20.30.4", "127.0.0.1", "5433", "intake_owner", "Error", "FATAL"):
        assert leak not in response.text, leak
    # The operator still finds the detail in the process's log, once per change.
    logged = [r.getMessage() for r in caplog.records]
    assert any("10.20.30.40" in m for m in logged) and any("127.0.0.1:9" in m for m in logged)
    with caplog.at_level(logging.WARNING, logger="services.common.health"):
        caplog.clear()
        TestClient(app).get("/readyz")
    assert not [r for r in caplog.records if "postgresql" in r.getMessage()]
