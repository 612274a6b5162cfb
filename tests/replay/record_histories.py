"""Record the histories of representative runs into tests/replay/histories/ (JSON, as the CLI exports).

    .venv/bin/python -m tests.replay.record_histories

Re-record after an intended change to workflow code that is guarded by `workflow.patched()`; keep the old
files too (rename them), so both the old and the new code paths stay covered by the replay test.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from pathlib import Path

from tests.replay.scenarios import SCENARIOS
from tests.support.time_skipping import start_time_skipping
from tests.unit.workflows.harness import Harness, register_search_attributes

HISTORIES = Path(__file__).parent / "histories"


async def record(names: list[str]) -> None:
    HISTORIES.mkdir(exist_ok=True)
    env = await start_time_skipping()
    async with env:
        await register_search_attributes(env.client)
        for name in names:
            harness = Harness(env=env, queue=f"record-{uuid.uuid4().hex[:8]}")
            async with harness.worker():
                try:
                    handles = await SCENARIOS[name](harness)
                    for label, handle in handles.items():
                        history = await handle.fetch_history()
                        path = HISTORIES / f"{name}.{label}.json"
                        path.write_text(history.to_json() + "\n", encoding="utf-8")
                        print(f"{path.relative_to(Path.cwd())}: {len(history.events)} events")
                finally:
                    await harness.close_all()


def main() -> None:
    names = sys.argv[1:] or list(SCENARIOS)
    asyncio.run(record(names))


if __name__ == "__main__":
    main()
