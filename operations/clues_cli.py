"""`anxin clues import`: clues from other platforms (JSON lines or CSV) imported through the intake API in
batches, with a progress bar and a result for each row that was not filed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from operations.cli_support import agency_token, console
from operations.i18n import _, command

clues_app = typer.Typer(help=_("Clues from other platforms."), no_args_is_help=True)


@command(clues_app, "import")
def import_clues(
    file: Annotated[Path, typer.Argument(exists=True, readable=True, help=_("clues as .jsonl or .csv"))],
    url: Annotated[str, typer.Option(help=_("intake's base URL"))] = "http://127.0.0.1:8001",
    source: Annotated[str, typer.Option(help=_("where the clues come from"))] = "national-platform",
    batch: Annotated[int, typer.Option(min=1, max=1000, help=_("rows per request"))] = 100,
    client_id: Annotated[str | None, typer.Option()] = None,
    client_secret: Annotated[str | None, typer.Option()] = None,
    issuer_url: Annotated[
        str | None,
        typer.Option(help=_("the token issuer's base URL (default: the one intake names, or ANXIN_TOKEN_ISSUER_URL)")),
    ] = None,
) -> None:
    """Import clues in batches, showing progress, and print a result per row that was not filed."""
    from operations.clue_batches import ClueFileInvalid, read_clue_file

    try:
        clues = read_clue_file(file.read_bytes().decode("utf-8-sig"), is_csv=file.suffix.lower() == ".csv")
    except ClueFileInvalid as exc:
        console.print(f"[red]{file.name}:[/] {exc}")
        raise typer.Exit(1) from exc
    token = agency_token(url, client_id, client_secret, "city-office", issuer_url)
    counts: dict[str, int] = {}
    problems: list[tuple[int, dict[str, object]]] = []
    with (
        Progress(
            TextColumn(_("[bold]importing")), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(), console=console
        ) as progress,
        httpx.Client(timeout=120) as http,
    ):
        task = progress.add_task("clues", total=len(clues.rows))
        for chunk in clues.batches(batch):
            response = http.post(
                f"{url}/v1/clues/import",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (file.name, chunk.body, "text/plain")},
                data={"source": source},
            )
            if response.status_code != 200:
                console.print(
                    _("[red]batch from row {row} refused:[/] {reason}").format(row=chunk.rows[0], reason=response.text)
                )
                raise typer.Exit(1)
            for result in response.json()["results"]:
                counts[result["result"]] = counts.get(result["result"], 0) + 1
                if result["result"] != "filed":
                    problems.append((chunk.file_row(result["row"]), result))
            progress.advance(task, len(chunk.rows))
    for row, result in problems:
        console.print(
            _("row {row}:").format(row=row)
            + f" {result['result']} {json.dumps(result.get('errors') or result.get('complaint_id') or result.get('reason'), ensure_ascii=False)}"
        )
    console.print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))
