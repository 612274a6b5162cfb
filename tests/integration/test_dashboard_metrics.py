"""Every metric a Grafana dashboard (deploy/grafana/dashboards) or a Prometheus rule (deploy/prometheus)
queries is one the processes export: read from /metrics of every process of the real stack, and from the
lifecycle worker's Temporal SDK metrics port, once a complaint has gone through intake and its workflow
has run (the SDK exports a metric from its first use).

A few names are exported only once something goes wrong (a failed workflow task or activity); they are
listed in FAILURE_ONLY, each checked to be a metric the SDK's core library defines.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import temporalio.bridge

from deploy.stack import Stack
from tests.integration.test_intake import complaint
from tests.support.promql_names import (
    dashboard_expressions,
    exported_names,
    metric_names,
    recorded_names,
    rule_expressions,
)

# Series Prometheus makes itself for every target it scrapes.
SCRAPE_SERIES = {"up"}
# The Temporal SDK's counters that appear on its metrics port only after their first failure.
FAILURE_ONLY = {"temporal_activity_execution_failed_total", "temporal_workflow_task_execution_failed_total"}


def _queried() -> dict[str, set[str]]:
    """Metric name → where it is queried (dashboard file, or rule file and rule)."""
    where: dict[str, set[str]] = {}
    for source, expressions in {**dashboard_expressions(), **rule_expressions()}.items():
        for expr in expressions:
            for name in metric_names(expr):
                where.setdefault(name, set()).add(source)
    return where


def _scrape_everything(stack: Stack) -> dict[str, set[str]]:
    """Names per running process; a process that serves no /metrics (the console, the codec server) is left out,
    as is one an earlier test of the session stopped (the stack keeps its entry)."""
    pages = {
        name: f"{spec.url}/metrics"
        for name, spec in stack.processes.items()
        if spec.process is not None and spec.process.poll() is None
    }
    if "lifecycle-worker" in pages:
        pages["lifecycle-worker (Temporal SDK)"] = f"http://127.0.0.1:{stack.ports.lifecycle_worker + 1000}/metrics"
    exported = {}
    for name, url in pages.items():
        try:
            response = httpx.get(url, timeout=10)
        except httpx.ConnectError as refused:
            raise AssertionError(f"{name} runs but its {url} refused: {refused}") from None
        if response.status_code != 404:
            assert response.status_code == 200, (name, response.status_code, response.text[:300])
            exported[name] = exported_names(response.text)
    return exported


def test_the_queries_parse_to_the_names_they_select() -> None:
    expr = (
        'sum by (le, route) (rate(anxin_http_request_seconds_bucket{process="intake-api",route=~"/v1/.+"}[5m])) '
        "/ on (route) group_left max without (instance) (anxin_outbox_pending offset 1d) > bool 0.5 "
        'unless label_replace(up, "x", "$1", "job", "(.*)")'
    )
    assert metric_names(expr) == {"anxin_http_request_seconds_bucket", "anxin_outbox_pending", "up"}
    assert metric_names("label_values(anxin_cases_by_stage, county)") == {"anxin_cases_by_stage"}
    queried = _queried()
    assert {
        "anxin_dead_letters",
        "anxin_complaint_workflows_started_total",
        "temporal_workflow_task_execution_latency_bucket",
    } <= set(queried), sorted(queried)


def test_every_metric_a_dashboard_or_rule_queries_is_exported(
    services_running: Stack, agency_token: Callable[[str], str]
) -> None:
    stack = services_running
    seed = uuid.uuid4().int % 10**7
    filed = httpx.post(
        f"{stack.processes['intake-api'].url}/v1/complaints",
        json=complaint(seed),
        headers={"Authorization": f"Bearer {agency_token('clerk-130402')}"},
        timeout=30,
    )
    assert filed.status_code == 201, filed.text
    queried = _queried()
    wanted = set(queried) - SCRAPE_SERIES - recorded_names() - FAILURE_ONLY
    # The workflow starts and runs its first tasks within seconds; the SDK's histograms appear with them.
    deadline = time.monotonic() + 90
    while True:
        exported = _scrape_everything(stack)
        missing = wanted - set().union(*exported.values())
        if not missing:
            break
        assert time.monotonic() < deadline, (
            "queried but exported by no process: "
            + "; ".join(f"{name} (in {', '.join(sorted(queried[name]))})" for name in sorted(missing))
            + "\nexported: "
            + ", ".join(sorted(set().union(*exported.values())))
        )
        time.sleep(2)
    # The started counter was counted by the intake worker, not merely declared.
    started = httpx.get(f"{stack.processes['intake-worker'].url}/metrics", timeout=10).text
    assert any(
        line.startswith("anxin_complaint_workflows_started_total ") and float(line.split()[1]) >= 1
        for line in started.splitlines()
    ), started


def test_the_failure_only_sdk_metrics_are_the_sdks() -> None:
    library = next(Path(temporalio.bridge.__file__).parent.glob("temporal_sdk_bridge*"))
    text = library.read_bytes()
    for name in FAILURE_ONLY:
        assert name.removeprefix("temporal_").removesuffix("_total").encode() in text, (
            f"{name} is not a metric of the Temporal SDK"
        )
    assert set(_queried()) >= FAILURE_ONLY, "a name listed here that nothing queries any more"
