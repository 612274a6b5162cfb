"""How a worker's or a responsible person's name is shown where it must not be read whole (intake's answers,
the monitoring feeds, the public blacklist): one rule for every service."""

from __future__ import annotations


def mask_name(name: str) -> str:
    """张* for two characters, 张*三 for three, 欧**明 for four: first and last shown; one character or none: *."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
