"""`make demo`: files a handful of realistic complaints on a running stack and walks them down every main path.

Start the stack with a compressed clock first, so that weeks of legal deadlines pass in minutes:

    ANXIN_WORKING_DAY_SECONDS=2 make run      # one working day lasts 2 seconds
    make demo                                 # in another terminal

The paths:
- resolved: an order to pay is served in person and paid in full before its deadline;
- refused and referred: twelve workers, above Hebei's configured threshold; the order is served by posting,
  its deadline passes unpaid: additional compensation, a criminal referral, the blacklist procedure and
  marking for publication follow, and the police accept the case;
- below the threshold: one worker, a small amount, the deadline passes: compensation but no criminal referral;
- handed off and escalated: a project-payment dispute goes to the housing department, which never answers:
  reminder, supervision, warning letter, accountability recommendation, transfer, rung by rung;
- left at each stage: four small complaints left awaiting acceptance, verification, service and payment;
- a project's payroll stops: registered in the monitoring service with its account and deposit, last month's
  roster imported without the bank's payroll, the month checked, the early warning raised
  (deploy/demo_projects.py).

Then a person of each role (an inspector, a housing-department clerk, a police liaison, the city office) is
signed in through the console once, and their ids and passwords are printed with the console's address, so
the cases above can be opened there at once (deploy/demo_console.py).

Complaints enter through the intake API like any clerk's; the inspectors' actions go to the workflows as
Temporal Updates (what the cases service does on their behalf), with the same validation.

The paths are in deploy/demo_paths.py, the steps they take in deploy/demo_steps.py; this module runs them all at
once on the running stack, signs the people in and prints what to open.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from collections.abc import Awaitable
from pathlib import Path

import httpx

from deploy.certificates import development_transport_env
from deploy.demo_console import demo_people, people_table, sign_in
from deploy.demo_paths import Demo
from deploy.demo_steps import say
from deploy.launcher import default_data_dir, make_stack, running_profile
from deploy.secrets import process_keys
from services.common.settings import CommonSettings
from services.common.temporal import connect, exit_program

# The development clients and keys of the running stack: `make run`'s or `make run-cluster`'s (or the one
# ANXIN_DATA_DIR names, with TEMPORAL_ADDRESS, ANXIN_INTAKE_URL and ANXIN_TOKEN_ISSUER_URL, for a stack on
# other ports).
DATA_DIR = (
    Path(os.environ["ANXIN_DATA_DIR"]) if os.environ.get("ANXIN_DATA_DIR") else default_data_dir(running_profile())
)
# The token issuer (services/issuer): the services issue no tokens.
ISSUER = os.environ.get("ANXIN_TOKEN_ISSUER_URL", "http://127.0.0.1:8005")
CONSOLE = os.environ.get("ANXIN_CONSOLE_URL", "http://127.0.0.1:8006")


def issuer_database_url() -> str:
    """Where the issuer keeps people's accounts: ANXIN_ISSUER_DATABASE_URL, else the running stack's."""
    return os.environ.get("ANXIN_ISSUER_DATABASE_URL") or make_stack(running_profile(), DATA_DIR).postgres.service_url(
        "issuer"
    )


async def main_async() -> int:
    clients = DATA_DIR / "development-clients.json"
    secrets = DATA_DIR / "development-secrets.json"
    if not clients.exists():
        print("No running stack found: start it with `ANXIN_WORKING_DAY_SECONDS=2 make run` first.", file=sys.stderr)
        return 1
    # The development secrets with the payload keys only of the data keys: the demo reads workflows; on the
    # cluster profile, the TLS files and credentials its engines ask for.
    for key, value in {
        **process_keys("demo", json.loads(secrets.read_text())),
        **development_transport_env(DATA_DIR),
    }.items():
        os.environ.setdefault(key, value)
    development = {c["client_id"]: c for c in json.loads(clients.read_text())}
    async with httpx.AsyncClient(timeout=30) as http:

        async def token_of(client_id: str) -> str:
            answer = await http.post(
                f"{ISSUER}/oauth/token",
                data={"grant_type": "client_credentials"},
                auth=(client_id, development[client_id]["client_secret"]),
            )
            return str(answer.json()["access_token"])

        token, inspector_token = await token_of("clerk-130402"), await token_of("inspector-130402")
        city_token = await token_of("city-office")
        client = await connect(CommonSettings())
        demo = Demo(client, http, token)
        seed = int(time.time()) % 10**6
        print("Filing the demo complaints; each path prints its progress.\n", flush=True)

        async def path(name: str, run: Awaitable[None]) -> None:
            try:
                await run
                say(name, "done")
            except Exception as exc:
                say(name, f"stopped: {type(exc).__name__}: {exc}")
                raise

        results: list[BaseException | None] = list(
            await asyncio.gather(
                path("resolved", demo.resolved(seed)),
                path("refused, referred", demo.refused(seed + 1, workers=12, amount="96000", name="refused, referred")),
                path("below threshold", demo.refused(seed + 2, workers=1, amount="3000", name="below threshold")),
                path("handed off", demo.handed_off(seed + 3)),
                path("left at each stage", demo.left_at_stages(seed + 4)),
                path("payroll stops", demo.payroll_stops(seed + 5, inspector_token, city_token)),
                return_exceptions=True,
            )
        )
        # No main path may end with a step parked by a service's refusal (it would wait for an operator).
        parked = await demo.parked_steps()
        try:
            people = demo_people(DATA_DIR, issuer_database_url())
            landed = {p.person_id: await sign_in(CONSOLE, p) for p in people}
        except Exception as exc:
            results.append(RuntimeError(f"signing in to the console: {type(exc).__name__}: {exc}"))
            people, landed = [], {}
    failures = [r for r in results if isinstance(r, BaseException)]
    for failure in failures:
        print(f"\n{type(failure).__name__}: {failure}", file=sys.stderr)
    for workflow_id, step in sorted(parked.items()):
        print(f"\n{workflow_id} ends parked: {step['step']} refused by its service: {step['message']}", file=sys.stderr)
        failures.append(RuntimeError(f"{workflow_id} parked"))
    if people:
        print("\n" + people_table(CONSOLE, people, landed))
        for stage, record_id in demo.left.items():
            print(f"  left at {stage:<13} {record_id}")
        if demo.project_id:
            print(f"  payroll stopped: {CONSOLE}/projects/{demo.project_id}")
    print(
        "\nDone. Look at any case in the console, with `anxin case show <complaint or case id>` or in the Temporal UI."
    )
    return 1 if failures else 0


def main() -> None:
    exit_program(asyncio.run(main_async()))


if __name__ == "__main__":
    main()
