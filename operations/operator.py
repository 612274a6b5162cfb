"""What `anxin replay` and `anxin trace` do: recorded workflow histories replayed against the current code (the
determinism check before a deploy), and the spans of the traces that touched a complaint or case.

The other operator commands' work has modules of its own: a complaint's or case's story in `stories.py`, what
is stuck in `stuck_work.py`, the redelivery of events set aside in `redelivery.py`. Kept apart from the
command-line wiring (`cli.py`) so tests can call them directly.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from temporalio.client import Client
from temporalio.worker import Replayer

from services.common.workflow_runner import sandboxed_workflow_runner


async def replay(client: Client, workflows: list[type], *, query: str | None, limit: int) -> list[dict[str, str]]:
    """Replay recorded histories against the current workflow code: the determinism check before a deploy."""
    # The workers' runner, so a history replays here exactly as a worker would replay it.
    replayer = Replayer(
        workflows=workflows,
        data_converter=client.data_converter,
        workflow_runner=sandboxed_workflow_runner("workflows"),
    )
    results: list[dict[str, str]] = []
    histories = client.list_workflows(query, limit=limit).map_histories()
    async with replayer.workflow_replay_iterator(histories) as replays:
        async for result in replays:
            results.append(
                {
                    "workflow_id": result.history.workflow_id,
                    "result": "ok" if result.replay_failure is None else f"FAILED: {result.replay_failure}",
                }
            )
    return results


def spans_for(data_dir: Path, subject: str) -> list[dict[str, Any]]:
    """All spans of the traces that touched `subject` (a complaint or case id, or a trace id)."""
    spans = []
    for path in sorted((data_dir / "traces").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                spans.append(json.loads(line))
            except ValueError:
                continue
    trace_ids = {
        s["context"]["trace_id"]
        for s in spans
        if subject in (s["context"]["trace_id"], str((s.get("attributes") or {}).get("anxin.subject")))
        or subject in json.dumps(s.get("attributes") or {}, ensure_ascii=False)
    }
    return sorted((s for s in spans if s["context"]["trace_id"] in trace_ids), key=lambda s: s["start_time"])
