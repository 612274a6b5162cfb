"""The Grafana dashboards (deploy/grafana) and the Prometheus alert rules (deploy/prometheus), checked offline.

promtool, built from the Prometheus Go module by `make promtool` (a prerequisite of `make test`, which gives
its path in ANXIN_PROMTOOL), checks the rules, runs their unit tests (anxin-alerts.test.yml) and parses every
dashboard query. Outside `make test` the promtool tests skip when it has not been built. That every metric
named here is one the processes export is tests/integration/test_dashboard_metrics.py's part.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.kubernetes_manifests import run_validator
from tests.support.promql_names import DASHBOARDS, PROMETHEUS, ROOT, dashboard_expressions, rule_files

RULES = PROMETHEUS / "anxin-alerts.yml"
RULE_TESTS = PROMETHEUS / "anxin-alerts.test.yml"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
# What Grafana puts in a query before Prometheus sees it, for parsing the queries offline.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m", "$__range": "1h", "$county": ".*"}


def promtool() -> Path:
    given = os.environ.get("ANXIN_PROMTOOL")
    if given:  # make test built it: it must be there
        path = ROOT / given
        assert path.exists(), f"{path} is missing although make test built it"
        return path
    version = (PROMETHEUS / "PROMTOOL_VERSION").read_text().strip()
    path = ROOT / ".tools" / "promtool" / version / "promtool"
    if not path.exists():
        pytest.skip(f"{path} is not built: run `make promtool` (make test builds it and runs these tests)")
    return path


def run_promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(promtool()), *args], cwd=cwd, capture_output=True, text=True, timeout=120)


def alerts() -> dict[str, dict]:
    return {
        rule["alert"]: rule
        for group in yaml.safe_load(RULES.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }


def dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS.glob("*.json"))}


# -- the rules ------------------------------------------------------------------------------------------


def test_promtool_accepts_the_rules() -> None:
    checked = run_promtool("check", "rules", *(path.name for path in rule_files()))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(alerts())} rules found" in checked.stdout, checked.stdout


def test_the_rules_unit_tests_pass() -> None:
    tested = run_promtool("test", "rules", RULE_TESTS.name)
    assert tested.returncode == 0, tested.stdout + tested.stderr
    assert "SUCCESS" in tested.stdout, tested.stdout


def test_the_unit_tests_fail_on_a_changed_threshold(tmp_path: Path) -> None:
    """The unit tests hold the rules to their thresholds: the outbox alert at ten minutes instead of five
    no longer fires when the tests say it must."""
    changed = RULES.read_text().replace(
        "(anxin_outbox_oldest_unsent_seconds) > 300", "(anxin_outbox_oldest_unsent_seconds) > 600"
    )
    assert changed != RULES.read_text()
    (tmp_path / RULES.name).write_text(changed)
    shutil.copy(RULE_TESTS, tmp_path / RULE_TESTS.name)
    tested = run_promtool("test", "rules", RULE_TESTS.name, cwd=tmp_path)
    assert tested.returncode != 0, tested.stdout
    assert "AnxinOutboxLagging" in tested.stdout + tested.stderr


def test_every_alert_is_tested_firing_and_says_what_to_do() -> None:
    fired: set[str] = set()
    silent: set[str] = set()
    for case in yaml.safe_load(RULE_TESTS.read_text())["tests"]:
        for check in case.get("alert_rule_test", []):
            (fired if check.get("exp_alerts") else silent).add(check["alertname"])
    for name, rule in alerts().items():
        assert name in fired, f"{name}: no unit test shows it firing"
        assert name in silent, f"{name}: no unit test shows it silent"
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"] and rule["annotations"]["description"], name


# -- the dashboards -------------------------------------------------------------------------------------


def test_the_dashboards_are_whole() -> None:
    boards = dashboards()
    assert set(boards) == {"anxin-flow.json", "anxin-cases.json", "anxin-temporal.json"}
    assert len({board["uid"] for board in boards.values()}) == len(boards)
    for name, board in boards.items():
        variables = {v["name"]: v for v in board["templating"]["list"]}
        assert variables["datasource"]["type"] == "datasource", name
        panel_ids = [panel["id"] for panel in board["panels"]]
        assert len(set(panel_ids)) == len(panel_ids), name
        for panel in board["panels"]:
            assert panel["title"] and panel["description"], (name, panel["id"])
            assert panel["datasource"]["uid"] == "${datasource}", (name, panel["title"])
            assert panel["targets"] and all(t["expr"].strip() for t in panel["targets"]), (name, panel["title"])


def test_promtool_parses_every_dashboard_query(tmp_path: Path) -> None:
    """Each query, with Grafana's variables as Grafana fills them, as a recording rule promtool must accept."""
    rules = []
    for name, expressions in dashboard_expressions().items():
        for n, expr in enumerate(expressions):
            if expr.startswith("label_values("):
                continue
            for variable, value in GRAFANA_VARIABLES.items():
                expr = expr.replace(variable, value)
            assert "$" not in expr, f"{name}: a Grafana variable this test does not fill: {expr}"
            rules.append({"record": f"dashboard:{Path(name).stem.replace('-', '_')}:{n}", "expr": expr})
    path = tmp_path / "dashboard-queries.yml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    checked = run_promtool("check", "rules", path.name, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(rules)} rules found" in checked.stdout


def test_the_runbook_describes_every_panel_and_alert() -> None:
    doc = OPERATIONS_DOC.read_text()
    for name, board in dashboards().items():
        assert board["title"] in doc, f"docs/operations.md does not name the dashboard {board['title']}"
        for panel in board["panels"]:
            assert f"**{panel['title']}**" in doc, f"docs/operations.md does not describe {name}: {panel['title']}"
    for name in alerts():
        assert re.search(rf"^\| `{name}` ", doc, re.MULTILINE), f"docs/operations.md does not describe {name}"


# -- Kubernetes -----------------------------------------------------------------------------------------


def test_the_monitoring_kustomization_carries_every_dashboard_and_the_rules() -> None:
    rendered = run_validator(ROOT / "deploy" / "k8s" / "monitoring")
    assert rendered.returncode == 0, rendered.stderr
    maps = {re.sub(r"-[a-z0-9]{10}$", "", obj["metadata"]["name"]): obj for obj in json.loads(rendered.stdout)}
    assert set(maps) == {"anxin-grafana-dashboards", "anxin-alert-rules"}
    assert all(obj["kind"] == "ConfigMap" and obj["metadata"]["namespace"] == "monitoring" for obj in maps.values())
    board_map = maps["anxin-grafana-dashboards"]
    assert board_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert board_map["data"] == {path.name: path.read_text() for path in DASHBOARDS.glob("*.json")}
    assert maps["anxin-alert-rules"]["data"] == {RULES.name: RULES.read_text()}
