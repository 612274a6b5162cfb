"""`make faults`: crash each part of Anxin with kill -9 under a load of complaints and check nothing is lost,
nothing is done twice and every workflow keeps moving.

A private stack is started under `.data/faults-stack/` (ports shifted by -10000) on a compressed clock
(`ANXIN_WORKING_DAY_SECONDS`, default 1 s), so each complaint's acceptance reminder (4 working days) and
escalation (5 working days) fire within seconds. The complaints (`--complaints`, default 1000) are split
evenly over the scenarios; in each scenario a batch is filed through the intake API as a clerk would
(each request with its own Idempotency-Key, resent until answered), the component is killed with SIGKILL
a third of the way into the batch, left down for `--downtime` seconds and restarted while filing goes on.

For each scenario the table shows:
- lost: complaints of the batch without their `complaint:<id>` workflow or without their row in the cases
  service's ledger once the stack has caught up (or the catch-up timeout passed);
- duplicates: a second complaint for one filing, a second workflow per complaint id, and, over the whole
  database, any second ledger case, letter, handoff, referral, listing or publication mark per natural key;
- stuck: workflows of the batch that did not move after recovery (their acceptance deadline, a timer, did
  not fire, or an activity is still retrying at the end);
- recovery: seconds from the kill until every complaint filed so far had reached its workflow and its case.

Results print as a table and are written to `bench/results/faults.json`. See docs/reliability.md.

What is killed and restarted is in bench/fault_targets.py, the inspector's paths in bench/fault_paths.py, the
checks in bench/fault_checks.py, the table and the results file in bench/fault_report.py; this module runs the
load and the scenarios on the fault stack.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import time
import uuid
from typing import Any

import httpx
import psycopg
from rich.console import Console
from temporalio.client import Client

from bench.fault_checks import FaultChecks
from bench.fault_paths import Inspector, InspectorPaths, Path
from bench.fault_report import Outcome, print_table, write_results
from bench.fault_targets import COMPONENTS, PROCESSES, kill, restart
from deploy.engines import REPO_ROOT, Ports
from deploy.launcher import PROFILES, make_stack
from deploy.secrets import development_clients
from deploy.stack import Stack
from operations.ledger_audit import audit_ledger
from operations.parked import describe, parked_in_ledger
from services.common.temporal import connect, exit_program
from tests.integration.test_intake import complaint

OFFSET = -10000
PORTS = Ports.private(OFFSET)
DATA_DIR = REPO_ROOT / ".data" / "faults-stack"
RESULTS = REPO_ROOT / "bench" / "results"

console = Console(width=120)


def say(text: str) -> None:
    console.print(f"[dim]{time.strftime('%H:%M:%S')}[/dim] {text}")


class Faults(InspectorPaths):
    """One fault run: the load of complaints, each scenario's kill and restart, and the checks after it."""

    def __init__(
        self, stack: Stack, client: Client, token: str, args: argparse.Namespace, http: httpx.AsyncClient
    ) -> None:
        self.stack = stack
        self.client = client
        self.token = token
        self.args = args
        self.seed = uuid.uuid4().int % 10**6
        self.filed = 0
        self.inspector = Inspector(self, http)
        self.paths: list[Path] = []
        self.admin_url = stack.postgres.database_url("anxin")
        self.checks = FaultChecks(self.admin_url, client)

    # -- the load -----------------------------------------------------------------------------------

    async def file_one(self, http: httpx.AsyncClient, n: int) -> str:
        seed = self.seed * 10000 + n
        return await self.post_complaint(
            http, complaint(seed, phone=f"139{seed % 10**8:08d}"), f"faults-{self.seed}-{n}"
        )

    async def post_complaint(self, http: httpx.AsyncClient, body: dict[str, Any], key: str) -> str:
        """File one complaint, resending the same request (same Idempotency-Key) until intake answers."""
        url = f"{self.stack.processes['intake-api'].url}/v1/complaints"
        while True:
            try:
                response = await http.post(
                    url, json=body, headers={"Authorization": f"Bearer {self.token}", "Idempotency-Key": key}
                )
                if response.status_code in (200, 201):
                    return str(response.json()["complaint_id"])
                if response.status_code < 500 and response.status_code not in (408, 429):
                    raise RuntimeError(f"complaint {key} refused: {response.status_code} {response.text}")
            except httpx.TransportError:
                pass  # the API (or its database) is down: a clerk's form tries again
            await asyncio.sleep(0.5)

    async def file_batch(self, size: int, on_third: asyncio.Event) -> list[str]:
        ids: list[str] = []
        numbers = iter(range(self.filed, self.filed + size))
        self.filed += size

        async def lane(http: httpx.AsyncClient) -> None:
            for n in numbers:
                ids.append(await self.file_one(http, n))
                if len(ids) >= max(1, size // 3):
                    on_third.set()
                await asyncio.sleep(self.args.pause)

        async with httpx.AsyncClient(timeout=30) as http:
            await asyncio.gather(*(lane(http) for _ in range(self.args.concurrency)))
        on_third.set()
        return ids

    # -- the scenarios and their checks --------------------------------------------------------------

    async def wait_through(self, ids: list[str], timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if await asyncio.to_thread(self.checks.through, ids) == len(ids):
                return True
            await asyncio.sleep(1)
        return False

    async def run_scenario(self, component: str, size: int) -> Outcome:
        outcome = Outcome(component, size)
        if self.args.paths:
            self.start_paths(outcome)
        third = asyncio.Event()
        filing = asyncio.create_task(self.file_batch(size, third))
        await third.wait()
        killed = time.monotonic()
        say(f"{component}: kill -9")
        await asyncio.to_thread(kill, self.stack, component)
        await asyncio.sleep(self.args.downtime)
        await asyncio.to_thread(restart, self.stack, component)
        say(f"{component}: restarted and ready after {time.monotonic() - killed:.1f}s")
        ids = await filing
        outcome.complaint_ids = ids
        if await self.wait_through(ids, self.args.catch_up):
            outcome.recovery_s = round(time.monotonic() - killed, 1)
        else:
            outcome.notes.append(f"not caught up after {self.args.catch_up:.0f}s")
        return outcome

    async def check(self, outcome: Outcome) -> None:
        ids = outcome.complaint_ids
        with psycopg.connect(self.admin_url) as conn:
            ledgered = {
                r[0]
                for r in conn.execute("SELECT complaint_id FROM cases.complaints WHERE complaint_id = ANY(%s)", (ids,))
            }
        exists = await asyncio.gather(*(self.checks.workflow_exists(c) for c in ids))
        outcome.lost = sum(1 for c, ok in zip(ids, exists, strict=True) if not ok or c not in ledgered)
        outcome.duplicates = await asyncio.to_thread(self.checks.duplicates_by_filing, ids)
        outcome.duplicates += await self.checks.workflows_per_complaint(ids)
        moved = await asyncio.gather(*(self.checks.moved(c) for c in ids))
        outcome.stuck += moved.count(False)  # added to the paths found stuck


async def main_async(
    args: argparse.Namespace,
) -> tuple[list[Outcome], dict[str, int], dict[str, int], dict[str, Any], float]:
    components = args.components or COMPONENTS
    unknown = set(components) - set(COMPONENTS)
    if unknown:
        raise SystemExit(f"unknown components: {', '.join(sorted(unknown))}; choose from {', '.join(COMPONENTS)}")
    data_dir = DATA_DIR if args.profile == "embedded" else DATA_DIR.with_name(f"faults-{args.profile}")
    make_stack(args.profile, data_dir, PORTS, with_ui=False, environ={}).stop()
    shutil.rmtree(data_dir, ignore_errors=True)
    stack = make_stack(
        args.profile,
        data_dir,
        PORTS,
        with_ui=False,
        environ={},
        extra_env={
            "INTAKE_COMPLAINTS_PER_PHONE_PER_DAY": "100000",
            "ANXIN_WORKING_DAY_SECONDS": str(args.working_day_seconds),
        },
    )
    stack.acquire_lock()
    began = time.monotonic()
    try:
        say(f"starting the fault stack ({args.profile} profile) under {data_dir}…")
        await asyncio.to_thread(stack.start_engines)
        # The cluster profile runs every process twice: killing one replica leaves the other serving.
        await asyncio.to_thread(stack.start_processes, PROCESSES if args.profile == "embedded" else None, timeout=300)
        secret = development_clients(data_dir)["clerk-130402"]["client_secret"]
        async with httpx.AsyncClient(timeout=30) as http:
            token = (
                await http.post(
                    f"{stack.processes['issuer-api'].url}/oauth/token",
                    auth=("clerk-130402", secret),
                    data={"grant_type": "client_credentials"},
                )
            ).json()["access_token"]
            secrets = json.loads((data_dir / "development-secrets.json").read_text())
            os.environ.update({k: v for k, v in secrets.items() if k.startswith(("ANXIN_DATA", "ANXIN_PAYLOAD"))})
            client = await connect(stack.client_settings())
            faults = Faults(stack, client, token, args, http)
            outcomes = []
            for i, component in enumerate(components):
                # The complaints split evenly, the remainder going to the first scenarios.
                size = max(6, args.complaints // len(components) + (1 if i < args.complaints % len(components) else 0))
                outcomes.append(await faults.run_scenario(component, size))
            say("every scenario run; waiting for the inspectors' paths…")
            await faults.finish_paths()
            say("letting the timers fire, then checking…")
            await asyncio.sleep(args.settle)
            for outcome in outcomes:
                await faults.check(outcome)
            by_key = await asyncio.to_thread(faults.checks.duplicates_by_natural_key)
            products = await asyncio.to_thread(faults.checks.products)
            say("comparing the ledger with every workflow (anxin audit ledger)…")
            compared, disagreeing = await audit_ledger(
                client, stack.postgres.service_url("cases"), settle_seconds=2.0, rereads=10
            )
            # No path may end with a step parked by a service's refusal (the ledger agrees with the workflows).
            parked = await asyncio.to_thread(parked_in_ledger, stack.postgres.service_url("cases"))
            audit: dict[str, Any] = {
                "compared": compared,
                "disagreeing": {d.workflow_id: d.differences for d in disagreeing},
                "parked": {workflow_id: describe(step) for workflow_id, step in parked.items()},
            }
            return outcomes, by_key, products, audit, time.monotonic() - began
    finally:
        await asyncio.to_thread(stack.stop)


def main() -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.split("\n")[0] if __doc__ else None
    )
    parser.add_argument(
        "--complaints", type=int, default=1000, help="complaints over the whole run (split over scenarios)"
    )
    parser.add_argument(
        "--components",
        nargs="+",
        metavar="NAME",
        help=f"run only these, comma- or space-separated: {','.join(COMPONENTS)}",
    )
    parser.add_argument("--concurrency", type=int, default=4, help="clerks filing at once")
    parser.add_argument("--pause", type=float, default=0.05, help="seconds each clerk waits between complaints")
    parser.add_argument("--downtime", type=float, default=3.0, help="seconds a killed component stays down")
    parser.add_argument("--catch-up", type=float, default=300.0, help="seconds allowed to catch up after a restart")
    parser.add_argument("--working-day-seconds", type=float, default=1.0)
    parser.add_argument(
        "--paths",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="per scenario, take one complaint down the refusal path and one down the handoff ladder",
    )
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="embedded",
        help="the stack run: make run's (embedded) or make run-cluster's (cluster)",
    )
    parser.add_argument("--settle", type=float, default=15.0, help="seconds for the last timers before the checks")
    args = parser.parse_args()
    if args.components:
        args.components = [name for names in args.components for name in names.split(",") if name]
    outcomes, by_key, products, audit, elapsed = asyncio.run(main_async(args))
    print_table(console, outcomes, by_key, products, audit, elapsed)
    written = RESULTS / ("faults.json" if args.profile == "embedded" else f"faults-{args.profile}.json")
    write_results(written, vars(args), outcomes, by_key, products, audit, elapsed)
    console.print(f"written to {written}")
    failed = (
        any(o.lost or o.duplicates or o.stuck or o.recovery_s is None for o in outcomes)
        or by_key
        or audit["disagreeing"]
        or audit["parked"]
    )
    exit_program(1 if failed else 0)


if __name__ == "__main__":
    main()
