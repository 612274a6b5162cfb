"""The reports' figures (the cases service's rules, `domain.py`): what is counted per county over a period
(`periods.py`) from the facts the projection records, the city's totals, and the report as rows, as a table and
as CSV."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from services.cases.domain import city_of
from services.cases.periods import Period

FIGURES = (
    "clues_received",
    "accepted",
    "confirmed_arrears",
    "resolved",
    "resolved_on_time",
    "on_time_rate",
    "amount_recovered",
    "workers_helped",
    "handoffs_overdue",
    "criminal_referrals",
    "blacklist_entries",
)

FIGURE_LABELS = {
    "clues_received": "收到线索",
    "accepted": "受理",
    "confirmed_arrears": "确属欠薪",
    "resolved": "办结",
    "resolved_on_time": "按时办结",
    "on_time_rate": "时限办结率",
    "amount_recovered": "追回金额(元)",
    "workers_helped": "惠及工人",
    "handoffs_overdue": "交办超期",
    "criminal_referrals": "移送公安",
    "blacklist_entries": "列入失信名单",
}


@dataclass
class Figures:
    clues_received: int = 0
    accepted: int = 0
    confirmed_arrears: int = 0
    resolved: int = 0
    resolved_on_time: int = 0
    amount_recovered: Decimal = Decimal(0)
    workers_helped: int = 0
    handoffs_overdue: int = 0
    criminal_referrals: int = 0
    blacklist_entries: int = 0

    @property
    def on_time_rate(self) -> Decimal | None:
        if not self.resolved:
            return None
        return (Decimal(self.resolved_on_time) / Decimal(self.resolved)).quantize(Decimal("0.0001"))

    def add(self, other: Figures) -> None:
        for name in (
            "clues_received",
            "accepted",
            "confirmed_arrears",
            "resolved",
            "resolved_on_time",
            "amount_recovered",
            "workers_helped",
            "handoffs_overdue",
            "criminal_referrals",
            "blacklist_entries",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        rate = self.on_time_rate
        return {
            "clues_received": self.clues_received,
            "accepted": self.accepted,
            "confirmed_arrears": self.confirmed_arrears,
            "resolved": self.resolved,
            "resolved_on_time": self.resolved_on_time,
            "on_time_rate": str(rate) if rate is not None else None,
            "amount_recovered": str(self.amount_recovered.quantize(Decimal("0.01"))),
            "workers_helped": self.workers_helped,
            "handoffs_overdue": self.handoffs_overdue,
            "criminal_referrals": self.criminal_referrals,
            "blacklist_entries": self.blacklist_entries,
        }


@dataclass
class ReportFacts:
    """What the store counts for one period, per county (PostgreSQL counts; a quarter of a big city is
    hundreds of thousands of rows, which are not worth carrying to Python one by one)."""

    received: Counter[str] = field(default_factory=Counter)  # complaints received
    accepted: Counter[str] = field(default_factory=Counter)  # complaints accepted
    confirmed: Counter[str] = field(default_factory=Counter)  # case processes verified as arrears
    resolved: Counter[tuple[str, bool]] = field(default_factory=Counter)  # complaints closed, by (county, on time)
    recovered: dict[str, Decimal] = field(default_factory=dict)  # sum of the payments recorded
    helped: Counter[str] = field(default_factory=Counter)  # workers helped by cases paid and closed
    facts: Counter[tuple[str, str]] = field(default_factory=Counter)  # dated case facts, by (county, kind)


FACT_FIGURE = {
    "handoff_overdue": "handoffs_overdue",
    "criminal_referral": "criminal_referrals",
    "blacklist": "blacklist_entries",
}


def compute_figures(facts: ReportFacts) -> dict[str, Figures]:
    """Figures per county."""
    by_county: dict[str, Figures] = {}

    def of(county: str) -> Figures:
        return by_county.setdefault(county, Figures())

    for county, n in facts.received.items():
        of(county).clues_received += n
    for county, n in facts.accepted.items():
        of(county).accepted += n
    for county, n in facts.confirmed.items():
        of(county).confirmed_arrears += n
    for (county, on_time), n in facts.resolved.items():
        of(county).resolved += n
        of(county).resolved_on_time += n if on_time else 0
    for county, amount in facts.recovered.items():
        of(county).amount_recovered += Decimal(amount)
    for county, workers in facts.helped.items():
        of(county).workers_helped += workers
    for (county, kind), n in facts.facts.items():
        name = FACT_FIGURE.get(kind)
        if name:
            setattr(of(county), name, getattr(of(county), name) + n)
    return by_county


def report_rows(by_county: Mapping[str, Figures]) -> list[dict[str, Any]]:
    """One row per county, then one per city (the sum of its counties), counties in code order."""
    rows: list[dict[str, Any]] = []
    cities: dict[str, Figures] = {}
    for county in sorted(by_county):
        rows.append({"level": "county", "area": county, **by_county[county].as_dict()})
        cities.setdefault(city_of(county), Figures()).add(by_county[county])
    for city in sorted(cities):
        rows.append({"level": "city", "area": city, **cities[city].as_dict()})
    return rows


REPORT_HEADERS = (["period", "level", "area", *FIGURES], ["期间", "层级", "地区", *(FIGURE_LABELS[f] for f in FIGURES)])


def report_table(label: str, rows: Sequence[Mapping[str, Any]]) -> list[list[Any]]:
    """The report's data rows, one per county and city, in the order of `REPORT_HEADERS`; amounts and rates as
    decimals (a stored report's JSON keeps them as strings)."""
    return [[label, row["level"], row["area"], *(_figure(row[f]) for f in FIGURES)] for row in rows]


def _figure(value: Any) -> Any:
    return Decimal(value) if isinstance(value, str) else value


def report_csv(period: Period, rows: Sequence[Mapping[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerows(REPORT_HEADERS)
    writer.writerows([["" if v is None else v for v in row] for row in report_table(period.label, rows)])
    return out.getvalue()
