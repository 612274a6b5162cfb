"""The Chinese README and guides keep in step with the English ones: the same make targets, the same
addresses and ports, and each translation exists and is linked both ways. The sets are read from the English
files, so a target or a port added there fails here until the Chinese file says it too."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# English file -> its Chinese version, each linking to the other by its relative path.
TRANSLATIONS = {
    ROOT / "README.md": ROOT / "README.zh-CN.md",
    ROOT / "docs" / "operations.md": ROOT / "docs" / "operations.zh-CN.md",
    ROOT / "docs" / "api.md": ROOT / "docs" / "api.zh-CN.md",
}


def make_targets(text: str) -> set[str]:
    return set(re.findall(r"\bmake ([a-z][a-z0-9-]*)", text))


def addresses(text: str) -> set[str]:
    """Every URL and host:port on the loopback, and every port written alone (`:9094`)."""
    found = set(re.findall(r"(?:https?|postgresql)://127\.0\.0\.1:\d+[\w/]*", text))
    found |= {f"127.0.0.1:{port}" for port in re.findall(r"127\.0\.0\.1:(\d+)", text)}
    found |= {f":{port}" for port in re.findall(r"(?<![\w.:/])[:](\d{4,5})\b", text)}
    return found


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def test_the_readmes_list_the_same_make_targets() -> None:
    english, chinese = _read(ROOT / "README.md"), _read(ROOT / "README.zh-CN.md")
    assert make_targets(english) >= {"run", "test"}  # the reading works
    assert make_targets(chinese) == make_targets(english)


def test_the_readmes_list_the_same_addresses_and_ports() -> None:
    english, chinese = _read(ROOT / "README.md"), _read(ROOT / "README.zh-CN.md")
    assert {"http://127.0.0.1:8001", "127.0.0.1:7233"} <= addresses(english)  # the reading works
    assert addresses(chinese) == addresses(english)


def test_the_readers_catch_a_difference() -> None:
    assert make_targets("make run; make test-unit") != make_targets("make run")
    assert addresses("http://127.0.0.1:8005/docs") != addresses("http://127.0.0.1:8004/docs")
    assert addresses("three brokers (127.0.0.1:9092, :9094)") == {"127.0.0.1:9092", ":9094"}


@pytest.mark.parametrize("english", list(TRANSLATIONS), ids=lambda p: p.name)
def test_each_chinese_version_exists_and_is_linked_both_ways(english: Path) -> None:
    chinese = TRANSLATIONS[english]
    assert chinese.is_file(), f"{chinese.relative_to(ROOT)} is missing"
    assert f"]({chinese.name})" in _read(english), f"{english.name} does not link {chinese.name}"
    assert f"]({english.name})" in _read(chinese), f"{chinese.name} does not link back to {english.name}"
    # Mostly Chinese: at least a third of its letters are CJK characters.
    text = _read(chinese)
    cjk = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    assert cjk * 3 > sum(1 for ch in text if ch.isalpha()), chinese.name


def test_the_chinese_readme_links_the_chinese_guides() -> None:
    chinese = _read(ROOT / "README.zh-CN.md")
    for guide in ("docs/operations.zh-CN.md", "docs/api.zh-CN.md"):
        assert f"]({guide})" in chinese and (ROOT / guide).is_file()


def test_the_guides_keep_the_same_commands() -> None:
    # The runbook's commands (`anxin …` in its code blocks) are the same in both languages.
    def commands(text: str) -> set[str]:
        return set(
            re.findall(r"^anxin [a-z]+(?: [a-z]+)?", "\n".join(re.findall(r"```sh\n(.*?)```", text, re.S)), re.M)
        )

    english, chinese = _read(ROOT / "docs" / "operations.md"), _read(ROOT / "docs" / "operations.zh-CN.md")
    assert commands(english) and commands(chinese) == commands(english)
    assert make_targets(chinese) == make_targets(english)
    assert addresses(chinese) == addresses(english)
