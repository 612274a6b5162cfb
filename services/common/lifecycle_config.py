"""Loads the lifecycle configuration (TOML) that every new workflow carries in its input."""

from __future__ import annotations

import tomllib
from pathlib import Path

from services.common.settings import REPO_ROOT, CommonSettings
from services.contracts.lifecycle import LifecycleConfig, default_criminal_thresholds

DEFAULT_PATH = REPO_ROOT / "deploy" / "config" / "lifecycle.toml"


def load_lifecycle_config(settings: CommonSettings, path: Path | None = None) -> LifecycleConfig:
    """The configured lifecycle; the compressed clock (ANXIN_WORKING_DAY_SECONDS) applies on top."""
    source = path or settings.lifecycle_config or DEFAULT_PATH
    data = tomllib.loads(source.read_text(encoding="utf-8"))
    # Provinces given in the file are added to the confirmed defaults, not swapped for them.
    thresholds = {k: v.model_dump() for k, v in default_criminal_thresholds().items()}
    thresholds.update(data.get("criminal_thresholds", {}))
    data["criminal_thresholds"] = thresholds
    if settings.working_day_seconds:
        data["working_day_seconds"] = settings.working_day_seconds
    config = LifecycleConfig.model_validate(data)
    if config.province not in config.criminal_thresholds:
        raise ValueError(f"{source}: no criminal threshold configured for province {config.province!r}")
    return config
