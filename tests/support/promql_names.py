"""The metric names that the Grafana dashboards (deploy/grafana/dashboards) and the Prometheus rules
(deploy/prometheus) query, read out of their PromQL, and the names a process's /metrics page exports.

Both sides are spelled as a query names a series: a counter `x` is exported as `x_total`, a histogram `h` as
`h_bucket`, `h_sum` and `h_count`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "deploy" / "grafana" / "dashboards"
PROMETHEUS = ROOT / "deploy" / "prometheus"

# PromQL's own words: functions, aggregations, operators and modifiers (not metric names).
PROMQL_WORDS = frozenset(
    (
        "sum",
        "min",
        "max",
        "avg",
        "group",
        "stddev",
        "stdvar",
        "count",
        "count_values",
        "bottomk",
        "topk",
        "quantile",
        "limitk",
        "limit_ratio",
        "abs",
        "absent",
        "absent_over_time",
        "ceil",
        "changes",
        "clamp",
        "clamp_max",
        "clamp_min",
        "day_of_month",
        "day_of_week",
        "day_of_year",
        "days_in_month",
        "delta",
        "deriv",
        "exp",
        "floor",
        "histogram_avg",
        "histogram_count",
        "histogram_fraction",
        "histogram_quantile",
        "histogram_stddev",
        "histogram_stdvar",
        "histogram_sum",
        "holt_winters",
        "double_exponential_smoothing",
        "hour",
        "idelta",
        "increase",
        "irate",
        "label_join",
        "label_replace",
        "ln",
        "log2",
        "log10",
        "minute",
        "month",
        "predict_linear",
        "rate",
        "resets",
        "round",
        "scalar",
        "sgn",
        "sort",
        "sort_desc",
        "sort_by_label",
        "sort_by_label_desc",
        "sqrt",
        "time",
        "timestamp",
        "vector",
        "year",
        "avg_over_time",
        "min_over_time",
        "max_over_time",
        "sum_over_time",
        "count_over_time",
        "quantile_over_time",
        "stddev_over_time",
        "stdvar_over_time",
        "last_over_time",
        "present_over_time",
        "mad_over_time",
        "and",
        "or",
        "unless",
        "by",
        "without",
        "on",
        "ignoring",
        "group_left",
        "group_right",
        "bool",
        "offset",
        "inf",
        "nan",
    )
)


def expressions_of_dashboard(board: dict) -> Iterator[str]:
    """Every query of a dashboard: its panels' (rows' too) targets and its query variables."""

    def panels(items: list[dict]) -> Iterator[dict]:
        for item in items:
            yield item
            yield from panels(item.get("panels", []))

    for panel in panels(board.get("panels", [])):
        for target in panel.get("targets", []):
            if target.get("expr"):
                yield target["expr"]
    for variable in board.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable.get("query")
            yield query["query"] if isinstance(query, dict) else query


def dashboard_expressions() -> dict[str, list[str]]:
    return {
        path.name: list(expressions_of_dashboard(json.loads(path.read_text())))
        for path in sorted(DASHBOARDS.glob("*.json"))
    }


def rule_files() -> list[Path]:
    return sorted(p for p in PROMETHEUS.glob("*.yml") if not p.name.endswith(".test.yml"))


def rule_expressions() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for path in rule_files():
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                found.setdefault(f"{path.name}: {rule.get('alert') or rule.get('record')}", []).append(rule["expr"])
    return found


def recorded_names() -> set[str]:
    """Series the rule files record themselves (a query may name them although no process exports them)."""
    return {
        rule["record"]
        for path in rule_files()
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression (or a Grafana `label_values(metric, label)`) selects."""
    label_values = re.fullmatch(r"\s*label_values\(\s*([a-zA-Z_:][\w:]*)\s*,\s*\w+\s*\)\s*", expr)
    if label_values:
        return {label_values.group(1)}
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings (label values, label_replace's arguments)
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges and subqueries' steps
    text = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)  # label lists
    names = set(re.findall(r"(?<![\w$.:])([a-zA-Z_:][\w:]*)", text))
    return {name for name in names if name not in PROMQL_WORDS}


def exported_names(metrics_text: str) -> set[str]:
    """The series names a /metrics page offers a query, families without samples included."""
    names: set[str] = set()
    for family in text_string_to_metric_families(metrics_text):
        samples = {sample.name for sample in family.samples if not sample.name.endswith("_created")}
        if family.type == "counter":
            # As exposed; a family without samples yet (a labelled counter nothing incremented) as it will be.
            names |= samples or {f"{family.name}_total"}
        elif family.type == "histogram":
            names |= {f"{family.name}_bucket", f"{family.name}_sum", f"{family.name}_count"}
        elif family.type == "summary":
            names |= {family.name, f"{family.name}_sum", f"{family.name}_count"}
        else:
            names.add(family.name)
    return names
