"""`anxin`: the operator's and clerk's command line.

    anxin stack status                 which engines and processes of the local stack are up
    anxin clues import FILE            import clues (JSON lines or CSV) through intake, with a progress bar

Agency commands get a token with client credentials: `--client-id/--client-secret` (or ANXIN_CLIENT_ID /
ANXIN_CLIENT_SECRET); on a development stack the clients made by `make run` are used by default.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from services.common.settings import REPO_ROOT

app = typer.Typer(help="Anxin (安薪) operator and clerk commands.", no_args_is_help=True)
stack_app = typer.Typer(help="The local stack.", no_args_is_help=True)
clues_app = typer.Typer(help="Clues from other platforms.", no_args_is_help=True)
app.add_typer(stack_app, name="stack")
app.add_typer(clues_app, name="clues")
console = Console()

DATA_DIR = Path(os.environ.get("ANXIN_DATA_DIR", REPO_ROOT / ".data"))


def agency_token(base_url: str, client_id: str | None, client_secret: str | None, default_client: str) -> str:
    client_id = client_id or os.environ.get("ANXIN_CLIENT_ID")
    client_secret = client_secret or os.environ.get("ANXIN_CLIENT_SECRET")
    if not client_id or not client_secret:
        development = DATA_DIR / "development-clients.json"
        if not development.exists():
            raise typer.BadParameter("give --client-id and --client-secret (no development clients found)")
        clients = {c["client_id"]: c for c in json.loads(development.read_text())}
        client_id = client_id or default_client
        client_secret = clients[client_id]["client_secret"]
    response = httpx.post(f"{base_url}/oauth/token", data={"grant_type": "client_credentials"},
                          auth=(client_id, client_secret), timeout=10)
    if response.status_code != 200:
        raise typer.BadParameter(f"token refused: {response.json().get('detail', response.text)}")
    return str(response.json()["access_token"])


@stack_app.command("status")
def stack_status() -> None:
    """Show each engine and process of the local stack and whether it is ready."""
    from deploy.engines import port_open
    from deploy.stack import Stack

    stack = Stack(DATA_DIR)
    table = Table("component", "where", "state")
    engines = [("PostgreSQL", "127.0.0.1", stack.ports.postgres), ("Temporal", "127.0.0.1", stack.ports.temporal),
               ("Kafka", "127.0.0.1", stack.ports.kafka)]
    for name, host, port in engines:
        up = port_open(host, port)
        table.add_row(name, f"{host}:{port}", "[green]up[/]" if up else "[red]down[/]")
    for row in stack.status():
        state = "[green]ready[/]" if row["ready"] else ("[red]down[/]" if row["http"] is None else "[yellow]not ready[/]")
        table.add_row(str(row["name"]), str(row["url"]), state)
    console.print(table)


@clues_app.command("import")
def import_clues(
    file: Annotated[Path, typer.Argument(exists=True, readable=True, help="clues as .jsonl or .csv")],
    url: Annotated[str, typer.Option(help="intake's base URL")] = "http://127.0.0.1:8001",
    source: Annotated[str, typer.Option(help="where the clues come from")] = "national-platform",
    batch: Annotated[int, typer.Option(min=1, max=1000, help="rows per request")] = 100,
    client_id: Annotated[str | None, typer.Option()] = None,
    client_secret: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Import clues in batches, showing progress, and print a result per row that was not filed."""
    token = agency_token(url, client_id, client_secret, "city-office")
    text = file.read_text(encoding="utf-8-sig")
    is_csv = file.suffix.lower() == ".csv"
    lines = text.splitlines()
    header, rows = (lines[0], lines[1:]) if is_csv else ("", [line for line in lines if line.strip()])
    counts: dict[str, int] = {}
    problems: list[tuple[int, dict[str, object]]] = []
    with Progress(TextColumn("[bold]importing"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console) as progress, httpx.Client(timeout=120) as http:
        task = progress.add_task("clues", total=len(rows))
        for start in range(0, len(rows), batch):
            chunk = rows[start : start + batch]
            body = "\n".join(([header] if is_csv else []) + chunk) + "\n"
            response = http.post(
                f"{url}/v1/clues/import",
                headers={"Authorization": f"Bearer {token}"},
                files={"file": (file.name, body.encode(), "text/plain")},
                data={"source": source},
            )
            if response.status_code != 200:
                console.print(f"[red]batch from row {start + 1} refused:[/] {response.text}")
                raise typer.Exit(1)
            for result in response.json()["results"]:
                counts[result["result"]] = counts.get(result["result"], 0) + 1
                if result["result"] != "filed":
                    problems.append((start + result["row"], result))
            progress.advance(task, len(chunk))
    for row, result in problems:
        console.print(f"row {row}: {result['result']} {json.dumps(result.get('errors') or result.get('complaint_id'), ensure_ascii=False)}")
    console.print(" ".join(f"{k}={v}" for k, v in sorted(counts.items())))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
