"""What `make faults` shows and keeps (bench/faults.py): each scenario's outcome as a table, and the whole run in
`bench/results/faults.json`."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table


@dataclass
class Outcome:
    component: str
    complaints: int
    lost: int = 0
    duplicates: int = 0
    stuck: int = 0
    paths: int = 0
    recovery_s: float | None = None
    notes: list[str] = field(default_factory=list)
    complaint_ids: list[str] = field(default_factory=list, repr=False)


def print_table(
    console: Console,
    outcomes: list[Outcome],
    by_key: dict[str, int],
    products: dict[str, int],
    audit: dict[str, Any],
    elapsed: float,
) -> None:
    table = Table(
        title=f"kill -9 under load ({sum(o.complaints for o in outcomes)} complaints, {elapsed / 60:.1f} min)"
    )
    for column in (
        "component",
        "complaints",
        "paths",
        "complaints lost",
        "duplicates",
        "workflows stuck",
        "time to recover",
    ):
        table.add_column(column, justify="left" if column == "component" else "right")
    for o in outcomes:
        recovery = f"{o.recovery_s:.1f} s" if o.recovery_s is not None else "—"
        table.add_row(
            o.component, str(o.complaints), str(o.paths), str(o.lost), str(o.duplicates), str(o.stuck), recovery
        )
    console.print(table)
    for o in outcomes:
        for note in o.notes:
            console.print(f"[yellow]{o.component}: {note}[/yellow]")
    for what, count in by_key.items():
        console.print(f"[red]duplicates: {count} × {what}[/red]")
    console.print("checked for duplicates: " + ", ".join(f"{count} {what}" for what, count in products.items()))
    console.print(f"ledger audit: {audit['compared']} processes compared, {len(audit['disagreeing'])} disagree")
    for workflow_id, differences in list(audit["disagreeing"].items())[:20]:
        console.print(f"[red]{workflow_id}: {'; '.join(differences)}[/red]")
    console.print(f"parked steps: {len(audit['parked'])}")
    for workflow_id, why in list(audit["parked"].items())[:20]:
        console.print(f"[red]{workflow_id}: {why}[/red]")


def write_results(
    written: Path,
    args: dict[str, Any],
    outcomes: list[Outcome],
    by_key: dict[str, int],
    products: dict[str, int],
    audit: dict[str, Any],
    elapsed: float,
) -> None:
    written.parent.mkdir(parents=True, exist_ok=True)
    machine = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    rows = [{k: v for k, v in asdict(o).items() if k != "complaint_ids"} for o in outcomes]
    written.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": machine,
                "args": args,
                "elapsed_s": round(elapsed, 1),
                "scenarios": rows,
                "duplicates_by_natural_key": by_key,
                "rows_checked_for_duplicates": products,
                "ledger_audit": audit,
            },
            indent=2,
            ensure_ascii=False,
        )
    )
