"""The benchmarks' private stack (`make bench`, and the benches built on it: bench/scale.py, bench/topology.py,
bench/open_workflows.py): a stack under `.data/bench-stack/` on ports shifted by -4000 (or
ANXIN_BENCH_PORT_OFFSET), the engines and the processes a measure needs, a clerk's token, and the settings and
Temporal client the measures' own clients use."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
from temporalio.client import Client

from deploy.engines import REPO_ROOT, Ports
from deploy.launcher import make_stack
from deploy.secrets import development_clients
from deploy.stack import Stack
from services.common.settings import CommonSettings
from services.common.temporal import connect

# Another stack on the machine (another checkout's bench, a test run) can be avoided with the offset.
OFFSET = int(os.environ.get("ANXIN_BENCH_PORT_OFFSET", "-4000"))
PORTS = Ports.private(OFFSET)


@dataclass
class BenchStack:
    """The running benchmark stack and what the measures need to talk to it."""

    stack: Stack
    settings: CommonSettings
    client: Client
    token: str  # a county clerk's, for POST /v1/complaints; see fresh_token

    async def fresh_token(self) -> str:
        """A new clerk token: a long measure (100,000 workflows take over an hour) outlives the first one."""
        self.token = await clerk_token(self.stack)
        return self.token


async def clerk_token(stack: Stack) -> str:
    return await development_token(stack, "clerk-130402")


async def development_token(stack: Stack, client_id: str) -> str:
    """A token of one of the stack's development clients (deploy/secrets.py), from its token issuer."""
    client_secret = development_clients(stack.data_dir)[client_id]["client_secret"]
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{stack.processes['issuer-api'].url}/oauth/token",
            auth=(client_id, client_secret),
            data={"grant_type": "client_credentials"},
        )
    response.raise_for_status()
    return str(response.json()["access_token"])


# The cases API is the ledger every workflow reports its changes to (docs/process.md): without it each report
# is refused and retried for minutes, an activity always pending and its retries the worker's and Temporal's
# CPU while later measures run.
BENCH_PROCESSES = ["issuer-api", "intake-api", "intake-relay", "intake-worker", "lifecycle-worker", "cases-api"]


@contextlib.asynccontextmanager
async def bench_stack(
    extra_env: dict[str, str] | None = None,
    *,
    keep_data: bool = False,
    profile: str = "embedded",
    processes: list[str] | None = None,
) -> AsyncIterator[BenchStack]:
    """A stack under `.data/bench-stack/` (`bench-cluster/` for the cluster profile): the engines, intake and
    the lifecycle worker (or `processes`). Fresh, unless `keep_data`: then the engines start again on what the
    last run left (its open workflows)."""
    data_dir = REPO_ROOT / ".data" / ("bench-stack" if profile == "embedded" else f"bench-{profile}")
    make_stack(profile, data_dir, PORTS, with_ui=False, environ={}).stop()
    if not keep_data:
        shutil.rmtree(data_dir, ignore_errors=True)
    stack = make_stack(
        profile,
        data_dir,
        PORTS,
        with_ui=False,
        environ={},
        extra_env={"INTAKE_COMPLAINTS_PER_PHONE_PER_DAY": "1000", **(extra_env or {})},
    )
    # The measures' own clients read the keys from the environment (set below); put back as found afterwards,
    # or a second stack in the same run (bench/topology.py) would take them for keys set by the operator.
    saved_environ = dict(os.environ)
    stack.acquire_lock()
    try:
        print(f"starting the benchmark stack ({profile} profile)…", flush=True)
        await asyncio.to_thread(stack.start_engines)
        await asyncio.to_thread(stack.start_processes, processes or BENCH_PROCESSES, timeout=240)
        token = await clerk_token(stack)
        secrets = json.loads((data_dir / "development-secrets.json").read_text())
        os.environ.update({k: v for k, v in secrets.items() if k.startswith(("ANXIN_DATA", "ANXIN_PAYLOAD"))})
        # The raw baselines' topics with as many copies as the project's, reached as the processes reach Kafka.
        settings = stack.client_settings()
        client = await connect(settings)
        yield BenchStack(stack, settings, client, token)
    finally:
        os.environ.clear()
        os.environ.update(saved_environ)
        await asyncio.to_thread(stack.stop)
