"""Loads the lifecycle configuration (TOML) that every new workflow carries in its input, with the official
calendar years kept beside it.

`calendar.toml`, in the same directory as the lifecycle configuration file, holds the years an operator
loaded with `anxin calendar load` (operations/calendar.py writes it; nobody edits it by hand). Its years join
those of the configuration's own `[calendar]` table; a year in both is refused. Every entered year is checked
for plausibility (services/contracts/official_calendar.py) before anything uses it.

Processes that run for months read the files again when they change (`LiveLifecycleConfig`), so a loaded
year reaches new workflows and the services' own periods without a restart.
"""

from __future__ import annotations

import json
import logging
import threading
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

from services.common.settings import REPO_ROOT, CommonSettings
from services.contracts.lifecycle import (
    CalendarConfig,
    CalendarYear,
    LifecycleConfig,
    default_criminal_thresholds,
)
from services.contracts.official_calendar import check_entered_years

log = logging.getLogger(__name__)

DEFAULT_PATH = REPO_ROOT / "deploy" / "config" / "lifecycle.toml"
CALENDAR_FILE_NAME = "calendar.toml"


def lifecycle_config_path(settings: CommonSettings, path: Path | None = None) -> Path:
    return path or settings.lifecycle_config or DEFAULT_PATH


def calendar_file_path(settings: CommonSettings, path: Path | None = None) -> Path:
    """The loaded official years: `calendar.toml` beside the lifecycle configuration file."""
    return lifecycle_config_path(settings, path).with_name(CALENDAR_FILE_NAME)


def parse_calendar_years(text: str, source: str) -> list[CalendarYear]:
    """Years from TOML or JSON (by `source`'s suffix): a `years` list (`[[years]]` tables in TOML), a
    single year's table, or in JSON also a bare list. Raises ValueError with `source` on anything else."""
    try:
        data: Any = json.loads(text) if source.lower().endswith(".json") else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{source}: not readable: {exc}") from None
    if isinstance(data, dict) and "year" in data:
        data = [data]
    elif isinstance(data, dict) and set(data) == {"years"}:
        data = data["years"]
    if not isinstance(data, list) or not data:
        raise ValueError(f"{source}: expected one or more years (a `years` list, or one year's table)")
    try:
        config = CalendarConfig.model_validate({"years": data})
    except ValueError as exc:  # pydantic's ValidationError names each field that is wrong
        raise ValueError(f"{source}: {exc}") from None
    return config.years


def read_calendar_file(path: Path) -> list[CalendarYear]:
    """The years kept in the calendar file; none when there is no such file."""
    if not path.exists():
        return []
    return parse_calendar_years(path.read_text(encoding="utf-8"), str(path))


def load_lifecycle_config(
    settings: CommonSettings, path: Path | None = None, calendar_years: list[CalendarYear] | None = None
) -> LifecycleConfig:
    """The configured lifecycle; the compressed clock (ANXIN_WORKING_DAY_SECONDS) applies on top.

    `calendar_years` stands for the calendar file's years: what the configuration would be with them, before
    they are written (`anxin calendar load`)."""
    source = lifecycle_config_path(settings, path)
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    # Provinces given in the file are added to the confirmed defaults, not swapped for them.
    thresholds = {k: v.model_dump() for k, v in default_criminal_thresholds().items()}
    thresholds.update(data.get("criminal_thresholds", {}))
    data["criminal_thresholds"] = thresholds
    if settings.working_day_seconds:
        data["working_day_seconds"] = settings.working_day_seconds
    calendar_file = calendar_file_path(settings, path)
    loaded = read_calendar_file(calendar_file) if calendar_years is None else calendar_years
    if loaded:
        calendar = data.setdefault("calendar", {})
        own = calendar.setdefault("years", [])
        twice = sorted({y.get("year") for y in own} & {y.year for y in loaded})
        if twice:
            raise ValueError(
                f"{', '.join(map(str, twice))} configured both in {source} and in {calendar_file}: keep one"
            )
        own.extend(y.model_dump() for y in loaded)
    config = LifecycleConfig.model_validate(data)
    if config.province not in config.criminal_thresholds:
        raise ValueError(f"{source}: no criminal threshold configured for province {config.province!r}")
    check_entered_years(config.calendar, str(source) + (f" and {calendar_file}" if loaded else ""))
    return config


class LiveLifecycleConfig:
    """The lifecycle configuration as the files say now: read again when either file changes.

    The first read fails loudly (a process must not start on a broken configuration). A later change that
    cannot be read is logged and the last good configuration kept, so a half-written edit stops nothing.
    """

    def __init__(self, settings: CommonSettings, path: Path | None = None) -> None:
        self._settings = settings
        self._files = (lifecycle_config_path(settings, path), calendar_file_path(settings, path))
        self._path = path
        self._lock = threading.Lock()
        self._stamp = self._stamp_now()
        self._config = load_lifecycle_config(settings, path)

    def _stamp_now(self) -> tuple[tuple[int, int] | None, ...]:
        stamps: list[tuple[int, int] | None] = []
        for file in self._files:
            try:
                stat = file.stat()
                stamps.append((stat.st_mtime_ns, stat.st_size))
            except FileNotFoundError:
                stamps.append(None)
        return tuple(stamps)

    def __call__(self) -> LifecycleConfig:
        stamp = self._stamp_now()
        if stamp == self._stamp:
            return self._config
        with self._lock:
            if stamp != self._stamp:
                try:
                    self._config = load_lifecycle_config(self._settings, self._path)
                    log.info("lifecycle configuration read again", extra={"files": [str(f) for f in self._files]})
                except (OSError, ValueError) as exc:
                    log.error(
                        "changed lifecycle configuration refused; the last one read still applies",
                        extra={"error": str(exc)[:500]},
                    )
                self._stamp = stamp
        return self._config


def live_calendar(settings: CommonSettings) -> Callable[[], CalendarConfig]:
    """The official calendar entries for a service's own working-day periods, as the files say now; the
    calendar package alone (with a warning) when the configuration cannot be read at start."""
    try:
        live = LiveLifecycleConfig(settings)
    except (OSError, ValueError) as exc:
        log.warning(
            "lifecycle configuration unreadable; the calendar package alone applies", extra={"error": str(exc)[:300]}
        )
        empty = CalendarConfig()
        return lambda: empty
    return lambda: live().calendar
