"""Every request is counted and timed under its route template and status (services/common/telemetry.py), the
health and metrics routes left out; a request whose handler raises counts as the 500 the client gets."""

from __future__ import annotations

from fastapi import FastAPI, HTTPException
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY

from services.common.telemetry import instrument_app

PROCESS = "metrics-test"


def _count(route: str, status: str, method: str = "GET") -> float:
    value = REGISTRY.get_sample_value(
        "anxin_http_requests_total", {"process": PROCESS, "method": method, "route": route, "status": status}
    )
    return value or 0.0


def _observed(route: str) -> float:
    value = REGISTRY.get_sample_value(
        "anxin_http_request_seconds_count", {"process": PROCESS, "method": "GET", "route": route}
    )
    return value or 0.0


def test_requests_are_counted_by_route_template_and_status() -> None:
    app = FastAPI()

    @app.get("/v1/cases/{case_id}")
    def case(case_id: str) -> dict[str, str]:
        if case_id == "missing":
            raise HTTPException(404)
        return {"case_id": case_id}

    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("a handler that fails")

    @app.get("/healthz")
    def healthz() -> str:
        return "ok"

    instrument_app(app, PROCESS)
    before = {
        key: _count(*key)
        for key in (
            ("/v1/cases/{case_id}", "200"),
            ("/v1/cases/{case_id}", "404"),
            ("/boom", "500"),
            ("unmatched", "404"),
            ("/healthz", "200"),
        )
    }
    timed = _observed("/v1/cases/{case_id}")
    with TestClient(app, raise_server_exceptions=False) as http:
        assert http.get("/v1/cases/C-1").status_code == 200
        assert http.get("/v1/cases/C-2").status_code == 200
        assert http.get("/v1/cases/missing").status_code == 404
        assert http.get("/boom").status_code == 500
        assert http.get("/nowhere").status_code == 404
        assert http.get("/healthz").status_code == 200
        assert "anxin_http_requests_total" in http.get("/metrics").text
    assert _count("/v1/cases/{case_id}", "200") - before[("/v1/cases/{case_id}", "200")] == 2
    assert _count("/v1/cases/{case_id}", "404") - before[("/v1/cases/{case_id}", "404")] == 1
    assert _count("/boom", "500") - before[("/boom", "500")] == 1
    assert _count("unmatched", "404") - before[("unmatched", "404")] == 1
    assert _count("/healthz", "200") == before[("/healthz", "200")]
    assert _observed("/v1/cases/{case_id}") - timed == 3
