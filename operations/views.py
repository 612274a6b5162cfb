"""How the `anxin` read commands show what they found: tables that wrap to the terminal's width, and the same
content as one JSON document for scripts (`--json`).

Tables wrap every cell rather than cut it: rich measures each character's display width (a Chinese character
takes two columns), breaks text at spaces where it can and folds a word longer than its column (an id, a
deadline's name) onto the next line. Columns that hold short fixed values (a timestamp, a state) are never
broken. The JSON documents' shapes are in `operations/json_shapes.py`.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.table import Table

from operations.i18n import _

if TYPE_CHECKING:  # the operator's module brings Temporal, Kafka and PostgreSQL clients: imported when used
    from operations.stories import Story


def wrapping_table(*headers: str, whole: tuple[str, ...] = (), wide: tuple[str, ...] = ()) -> Table:
    """A table whose cells wrap (long words folded) instead of being cut with "…". The columns named in
    `whole` keep their values on one line (timestamps, states) and take their width first; of the width
    left, a column named in `wide` (the text people read) gets three shares to the others' one."""
    table = Table(expand=bool(wide))
    for header in headers:
        if header in whole:
            table.add_column(header, no_wrap=True, overflow="ignore")
        else:
            table.add_column(header, overflow="fold", ratio=3 if header in wide else 1)
    return table


def render_story(story: Story, console: Console) -> None:
    """`anxin case show`: the heading, the lines in order, the deadlines, and what the process waits for."""
    console.rule(f"{story.workflow_id}  [{story.status}]", characters="─")
    if story.summary:
        console.print(" ".join(f"{k}={v}" for k, v in story.summary.items()), highlight=False)
    table = wrapping_table(_("when (UTC)"), _("source"), _("what"), whole=(_("when (UTC)"),), wide=(_("what"),))
    for line in story.lines:
        table.add_row(line.at.strftime("%Y-%m-%d %H:%M:%S"), line.source, line.text)
    console.print(table)
    if story.deadlines:
        deadlines = wrapping_table(
            _("deadline"), _("due"), _("outcome"), whole=(_("due"), _("outcome")), wide=(_("deadline"),)
        )
        for row in story.deadlines:
            deadlines.add_row(*row)
        console.print(deadlines)
    console.print(
        _("[bold]waiting for:[/] {what}").format(what="; ".join(story.waiting_for) or _("nothing (closed)")),
        highlight=False,
    )


def story_document(story: Story) -> dict[str, Any]:
    return {
        "subject": story.subject,
        "workflow_id": story.workflow_id,
        "status": story.status,
        "summary": _plain(story.summary),
        "lines": [{"at": line.at.isoformat(), "source": line.source, "text": line.text} for line in story.lines],
        "deadlines": [{"name": name, "due": due, "outcome": outcome} for name, due, outcome in story.deadlines],
        "waiting_for": list(story.waiting_for),
    }


def print_json(document: Any) -> None:
    """One JSON document on standard output (UTF-8, Chinese as it is), nothing else: progress and spinners
    of a command run with --json go to standard error."""
    sys.stdout.write(json.dumps(_plain(document), ensure_ascii=False, indent=2) + "\n")
    sys.stdout.flush()


def _plain(value: Any) -> Any:
    """Dataclasses, dates and tuples as JSON has them."""
    if is_dataclass(value) and not isinstance(value, type):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [_plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value
