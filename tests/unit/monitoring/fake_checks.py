"""The monitoring workflow's activities on an in-memory register and feeds, for the time-skipping tests and the
replay recordings: the same rules as the service (services/monitoring/checks.py), no database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from temporalio import activity

from services.contracts.lifecycle import CalendarConfig
from services.contracts.monitoring_events import ProjectFacts, WarningCheck, WarningLevel, WarningResolution
from services.monitoring.checks import CheckRules, KnownWarning, check_day, check_month, plan_warnings
from services.monitoring.feeds import FeedWorker, summarise_month
from services.monitoring.monitoring_workflow import (
    CHECK_DATE_ACTIVITY,
    CHECK_MONTH_ACTIVITY,
    CheckDateRequest,
    CheckDateResult,
    CheckMonthRequest,
    CheckMonthResult,
)


@dataclass
class StoredWarning:
    known: KnownWarning
    level: WarningLevel


@dataclass
class FakeMonitoring:
    project: ProjectFacts
    rosters: dict[date, list[FeedWorker]] = field(default_factory=dict)
    payrolls: dict[date, list[FeedWorker]] = field(default_factory=dict)
    # The project as it stands from a month on (a deposit drawn, say).
    changes: dict[date, ProjectFacts] = field(default_factory=dict)
    rules: CheckRules = field(default_factory=CheckRules)
    warnings: list[StoredWarning] = field(default_factory=list)
    checks: list[tuple[date, str]] = field(default_factory=list)

    def project_in(self, month: date) -> ProjectFacts:
        since = [m for m in self.changes if m <= month]
        return self.changes[max(since)] if since else self.project

    @activity.defn(name=CHECK_DATE_ACTIVITY)
    async def check_date(self, request: CheckDateRequest) -> CheckDateResult:
        day = check_day(request.month, request.working_day, CalendarConfig())
        return CheckDateResult(check_on=day.day, check_at=day.at, provisional=day.provisional)

    @activity.defn(name=CHECK_MONTH_ACTIVITY)
    async def check_month(self, request: CheckMonthRequest) -> CheckMonthResult:
        self.checks.append((request.month, request.reason))
        project = self.project_in(request.month)
        summary = summarise_month(
            request.month, self.rosters.get(request.month), self.payrolls.get(request.month), tolerance=Decimal("0.3")
        )
        plan = plan_warnings(
            request.month, check_month(project, summary, self.rules), [w.known for w in self.warnings], self.rules
        )
        for resolved in plan.resolved:
            for i, w in enumerate(self.warnings):
                if w.known.warning_id == resolved:
                    self.warnings[i] = StoredWarning(
                        KnownWarning(
                            w.known.warning_id,
                            w.known.month,
                            w.known.check,
                            w.known.months_failing,
                            WarningResolution.CHECK_PASSED,
                        ),
                        w.level,
                    )
        for new in plan.raised:
            self.warnings.append(
                StoredWarning(
                    KnownWarning(
                        f"WRN-{request.month:%Y%m}-{new.check.value}",
                        request.month,
                        new.check,
                        new.months_failing,
                        None,
                    ),
                    new.level,
                )
            )
        return CheckMonthResult(
            planned_end_date=project.planned_end_date,
            raised=[w.check.value for w in plan.raised],
            resolved=plan.resolved,
        )

    def raised(self, check: WarningCheck | None = None) -> list[tuple[str, str, bool]]:
        """(month, level, open) of each warning raised, of one check or all."""
        return [
            (f"{w.known.month:%Y-%m}", w.level.value, w.known.resolution is None)
            for w in self.warnings
            if check is None or w.known.check is check
        ]
