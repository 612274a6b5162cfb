"""Files the project writes from its code and commits (the events' contract in docs/events/, the services' OpenAPI
documents in docs/openapi/): written by a make target, checked by `--check` and a unit test, so a committed file
never differs from what the code says."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class GeneratedFiles:
    expected: Callable[[], dict[Path, str]]  # each file's path (from the repository's root) and its text
    folder: Path  # where the generated files of `pattern` live: one there that `expected` lacks is stale
    pattern: str
    stale_reason: str  # why a stale file is reported, e.g. "no event has it"
    remedy: str  # the command that writes them, e.g. "make contracts" and what to commit

    def differences(self, root: Path = ROOT) -> list[str]:
        """The files that are missing, out of date, or no longer written."""
        expected = self.expected()
        found = [
            path
            for path in sorted(expected)
            if not (root / path).is_file() or (root / path).read_text(encoding="utf-8") != expected[path]
        ]
        folder = root / self.folder
        present = sorted(path.relative_to(root) for path in folder.glob(self.pattern)) if folder.is_dir() else []
        return [str(path) for path in found] + [
            f"{path} ({self.stale_reason})" for path in present if path not in expected
        ]

    def write(self, root: Path = ROOT) -> list[Path]:
        expected = self.expected()
        (root / self.folder).mkdir(parents=True, exist_ok=True)
        for path in (root / self.folder).glob(self.pattern):
            if path.relative_to(root) not in expected:
                path.unlink()
        for path, text in expected.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        return sorted(expected)

    def main(self, argv: list[str] | None, description: str | None, written: Callable[[list[Path]], str]) -> int:
        """The command line: write the files (saying what with `written`), or with --check write nothing and
        exit 1 naming each file that differs."""
        parser = argparse.ArgumentParser(description=description)
        parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if a file differs")
        args = parser.parse_args(argv)
        if args.check:
            stale = self.differences()
            for path in stale:
                print(f"out of date: {path}", file=sys.stderr)
            if stale:
                print(f"run `{self.remedy}`", file=sys.stderr)
            return 1 if stale else 0
        print(written(self.write()))
        return 0
