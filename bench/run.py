"""`make bench`: Anxin's speed measured against the raw engines, in the same run, on the same engines.

Each figure is printed beside its baseline and as a ratio (Anxin / raw), so the overhead of the
project's own code is what is measured, not the machine:

- intake: complaints/s and p50/p95/p99 latency of `POST /v1/complaints` at fixed concurrency, against a
  bare FastAPI + psycopg endpoint that inserts one row into the same PostgreSQL;
- events: outbox → relay → Kafka → inbox consumer throughput, against raw kafka-python produce + consume;
- end to end: complaints/s from POST to "workflow running", against raw `start_workflow` on the same server;
- token flood: the workers' form page's p95 (the intake API's `GET /`) while 50 bad token requests a second hit
  the token issuer's `/oauth/token`, against its p95 idle (the ratio should stay under 2: docs/security.md).

A private stack is started under `.data/bench-stack/` (ports shifted by -4000, or by
ANXIN_BENCH_PORT_OFFSET). Results print as a table and are written to `bench/results/latest.json`.
`make bench-scale` (bench/scale.py) measures the same stack with 100,000 workflows open.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import sys
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI
from kafka import KafkaConsumer, KafkaProducer
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client
from temporalio.worker import Worker

from bench import console_queue
from bench.measures import percentiles
from deploy.engines import REPO_ROOT, Ports
from deploy.launcher import PROFILES, make_stack
from deploy.secrets import development_clients
from deploy.stack import Stack
from services.common.event_handlers import EventHandlers
from services.common.inbox import InboxConsumer
from services.common.kafka import client_options, ensure_topics, new_consumer
from services.common.migrations import apply_migrations
from services.common.outbox import add_event
from services.common.settings import CommonSettings
from services.common.temporal import connect
from services.contracts.events import EventEnvelope
from services.contracts.lifecycle import complaint_workflow_id
from tests.integration.test_intake import complaint
from tests.support.events import Counted
from tests.support.roundtrip import RoundTripWorkflow, greet
from tests.support.token_flood import measure

# Another stack on the machine (another checkout's bench, a test run) can be avoided with the offset.
OFFSET = int(os.environ.get("ANXIN_BENCH_PORT_OFFSET", "-4000"))
PORTS = Ports.private(OFFSET)
RESULTS = REPO_ROOT / "bench" / "results"


@dataclass
class Figure:
    name: str
    unit: str
    anxin: float
    raw: float
    note: str = ""

    @property
    def ratio(self) -> float:
        return self.anxin / self.raw if self.raw else float("nan")


async def load(call: Callable[[int], Awaitable[None]], total: int, concurrency: int) -> tuple[float, list[float]]:
    """Run `call(i)` `total` times with `concurrency` in flight; returns (per second, latencies in s)."""
    latencies: list[float] = []
    counter = iter(range(total))

    async def lane() -> None:
        for i in counter:
            started = time.perf_counter()
            await call(i)
            latencies.append(time.perf_counter() - started)

    began = time.perf_counter()
    await asyncio.gather(*(lane() for _ in range(concurrency)))
    return total / (time.perf_counter() - began), latencies


# -- the raw baselines ---------------------------------------------------------------------------------


def bare_insert_app(database_url: str) -> FastAPI:
    """The baseline: FastAPI + psycopg inserting one row per request, nothing else."""
    app = FastAPI()
    state: dict[str, AsyncConnectionPool] = {}

    @app.on_event("startup")
    async def start() -> None:
        pool = AsyncConnectionPool(database_url, min_size=4, max_size=10, open=False)
        await pool.open()
        async with pool.connection() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS bench_bare (id uuid PRIMARY KEY, body jsonb)")
        state["pool"] = pool

    @app.post("/rows", status_code=201)
    async def insert(body: dict[str, Any]) -> dict[str, str]:
        row_id = str(uuid.uuid4())
        async with state["pool"].connection() as conn:
            await conn.execute("INSERT INTO bench_bare VALUES (%s, %s)", (row_id, json.dumps(body)))
        return {"id": row_id}

    return app


def serve_in_thread(app: FastAPI, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server


# -- the measurements ----------------------------------------------------------------------------------


async def bench_intake(stack: Stack, token: str, total: int, concurrency: int) -> list[Figure]:
    base = stack.processes["intake-api"].url
    bare_port = PORTS.service_base + 90
    server = serve_in_thread(bare_insert_app(stack.postgres.database_url("anxin")), bare_port)
    seed = uuid.uuid4().int % 10**6
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def file(i: int) -> None:
            # Distinct phones: the per-phone abuse limit must not shape the measurement.
            body = complaint(seed * 10 + i, phone=f"137{(seed * 10000 + i) % 10**8:08d}")
            response = await http.post(f"{base}/v1/complaints", json=body, headers=headers)
            assert response.status_code == 201, response.text

        async def bare(i: int) -> None:
            response = await http.post(f"http://127.0.0.1:{bare_port}/rows", json=complaint(seed * 10 + i))
            assert response.status_code == 201

        await load(bare, 50, concurrency)  # warm both paths
        await load(file, 50, concurrency)
        bare_rate, bare_lat = await load(bare, total, concurrency)
        rate, lat = await load(file, total, concurrency)
    server.should_exit = True
    ours, raw = percentiles(lat), percentiles(bare_lat)
    return [
        Figure("intake throughput", "complaints/s", rate, bare_rate, f"concurrency {concurrency}, {total} requests")
    ] + [Figure(f"intake latency {p}", "ms", ours[p], raw[p]) for p in ("p50", "p95", "p99")]


def _record_effect(conn: psycopg.Connection[Any], _event: EventEnvelope, counted: Counted) -> None:
    conn.execute("INSERT INTO effects VALUES (%s)", (counted.n,))


def bench_events(stack: Stack, settings: CommonSettings, total: int) -> list[Figure]:
    topic_raw, topic_ours = f"bench.raw.{uuid.uuid4().hex[:6]}", f"bench.outbox.{uuid.uuid4().hex[:6]}"
    ensure_topics(settings, [topic_raw, topic_ours], partitions=6)
    payload = json.dumps(
        EventEnvelope.wrap(Counted(n=0), subject="s", producer="bench").model_dump(mode="json")
    ).encode()

    # Raw: produce with acks=all on an idempotent producer, then consume everything.
    started = time.perf_counter()
    producer = KafkaProducer(**client_options(settings), acks="all", enable_idempotence=True, linger_ms=5)
    for n in range(total):
        producer.send(topic_raw, key=f"case-{n % 200}".encode(), value=payload)
    producer.flush()
    producer.close()
    consumer = KafkaConsumer(
        topic_raw,
        **client_options(settings),
        group_id=f"g-{uuid.uuid4().hex[:6]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    seen = 0
    while seen < total:
        for records in consumer.poll(timeout_ms=1000).values():
            seen += len(records)
    consumer.commit()
    consumer.close()
    raw_rate = total / (time.perf_counter() - started)

    # Anxin: rows written through the outbox (in transactions of 100), relayed, applied through an inbox.
    intake_url = stack.postgres.service_url("intake")
    schema = f"bench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    apply_migrations(settings.database_url, schema, None)
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".effects (n integer)')
    group = f"bench-{uuid.uuid4().hex[:6]}"
    inbox = InboxConsumer(
        name=group,
        database_url=settings.database_url,
        schema=schema,
        consumer_factory=lambda: new_consumer(settings, topic_ours, group_id=group, client_id=group),
        handler=EventHandlers({Counted: _record_effect}, consumer=group),
    )
    thread = threading.Thread(target=inbox.run, daemon=True)
    thread.start()
    started = time.perf_counter()
    with psycopg.connect(intake_url, options="-c search_path=intake") as conn:
        for first in range(0, total, 100):
            with conn.transaction():
                for n in range(first, min(first + 100, total)):
                    add_event(
                        conn, topic_ours, EventEnvelope.wrap(Counted(n=n), subject=f"case-{n % 200}", producer="bench")
                    )
    while inbox.status.applied_total < total:
        time.sleep(0.05)
    rate = total / (time.perf_counter() - started)
    inbox.stop()
    thread.join(10)
    return [
        Figure(
            "events end to end",
            "events/s",
            rate,
            raw_rate,
            "outbox write + relay + inbox apply vs raw produce + consume",
        )
    ]


async def bench_end_to_end(stack: Stack, client: Client, token: str, total: int, concurrency: int) -> list[Figure]:
    base = stack.processes["intake-api"].url
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    raw_ids: list[str] = []
    async with Worker(client, task_queue=queue, workflows=[RoundTripWorkflow], activities=[greet]):

        async def raw_start(i: int) -> None:
            workflow_id = f"bench:{queue}:{i}"
            await client.start_workflow(RoundTripWorkflow.run, args=["w", 30], id=workflow_id, task_queue=queue)
            raw_ids.append(workflow_id)

        raw_rate, raw_lat = await load(raw_start, total, concurrency)
    # Terminated once the worker has stopped: terminating under a running worker races its task completions
    # (harmless, but the SDK logs each as "Workflow task not found").
    for workflow_id in raw_ids:
        await client.get_workflow_handle(workflow_id).terminate("benchmark done")

    seed = uuid.uuid4().int % 10**6
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=60) as http:

        async def through(i: int) -> None:
            body = complaint(seed * 10 + i, phone=f"136{(seed * 10000 + i) % 10**8:08d}")
            started = time.perf_counter()
            response = await http.post(f"{base}/v1/complaints", json=body, headers={"Authorization": f"Bearer {token}"})
            handle = client.get_workflow_handle(complaint_workflow_id(response.json()["complaint_id"]))
            while True:
                try:
                    await handle.describe()
                    break
                except Exception:
                    await asyncio.sleep(0.02)
            latencies.append(time.perf_counter() - started)

        rate, _ = await load(through, total, concurrency)
    ours, raw = percentiles(latencies), percentiles(raw_lat)
    return [
        Figure("POST to workflow running", "complaints/s", rate, raw_rate, "vs raw start_workflow"),
        Figure("POST to workflow running p50", "ms", ours["p50"], raw["p50"]),
        Figure("POST to workflow running p95", "ms", ours["p95"], raw["p95"]),
    ]


def bench_token_flood(stack: Stack, rate: float, seconds: float) -> list[Figure]:
    figures = measure(
        stack.processes["intake-api"].url, stack.processes["issuer-api"].url, rate=rate, seconds=seconds, idle_seconds=5
    )
    answers = ", ".join(f"{status}×{count}" for status, count in sorted(figures.statuses.items()))
    return [
        Figure(
            "form p95 under token flood",
            "ms",
            figures.flood_p95_ms,
            figures.idle_p95_ms,
            f"{rate:g} bad token requests/s for {seconds:g} s vs idle; answers {answers}",
        )
    ]


def print_table(figures: list[Figure]) -> None:
    print(f"\n{'measure':<34}{'anxin':>12}{'raw':>12}{'unit':>16}{'ratio':>9}  note")
    for f in figures:
        print(f"{f.name:<34}{f.anxin:>12.1f}{f.raw:>12.1f}{f.unit:>16}{f.ratio:>9.2f}  {f.note}")


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
    client_secret = development_clients(stack.data_dir)["clerk-130402"]["client_secret"]
    async with httpx.AsyncClient() as http:
        response = await http.post(
            f"{stack.processes['issuer-api'].url}/oauth/token",
            auth=("clerk-130402", client_secret),
            data={"grant_type": "client_credentials"},
        )
    response.raise_for_status()
    return str(response.json()["access_token"])


BENCH_PROCESSES = ["issuer-api", "intake-api", "intake-relay", "intake-worker", "lifecycle-worker"]


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


async def main_async(args: argparse.Namespace) -> list[Figure]:
    figures: list[Figure] = []
    processes = BENCH_PROCESSES + (
        [p for p in console_queue.PROCESSES if p not in BENCH_PROCESSES] if args.queue_cases else []
    )
    async with bench_stack(profile=args.profile, processes=processes) as bench:
        # A count of 0 skips its measure (`--requests 0 --events 0 --e2e 0`: the token flood alone).
        if args.requests:
            print("intake…", flush=True)
            figures += await bench_intake(bench.stack, bench.token, args.requests, args.concurrency)
        if args.events:
            print("events…", flush=True)
            figures += await asyncio.to_thread(bench_events, bench.stack, bench.settings, args.events)
        if args.e2e:
            print("end to end…", flush=True)
            figures += await bench_end_to_end(bench.stack, bench.client, bench.token, args.e2e, args.concurrency)
        if args.queue_cases:
            print("the console's queue page…", flush=True)
            measured = await asyncio.to_thread(
                console_queue.measure_queue, bench.stack, args.queue_cases, args.queue_repeat
            )
            figures += [
                Figure(
                    f"console queue page {q} ({args.queue_cases:,} open cases)",
                    "ms",
                    measured["console"][q],
                    measured["api"][q],
                    console_queue.BASELINE,
                )
                for q in ("p50", "p95")
            ]
        if args.flood_rate > 0:
            print("token flood…", flush=True)
            figures += await asyncio.to_thread(bench_token_flood, bench.stack, args.flood_rate, args.flood_seconds)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--events", type=int, default=5000)
    parser.add_argument("--e2e", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument(
        "--flood-rate", type=float, default=50, help="bad token requests/s of the token flood (0: skip)"
    )
    parser.add_argument("--flood-seconds", type=float, default=10)
    parser.add_argument(
        "--queue-cases", type=int, default=10000, help="open cases in one county for the console's queue page (0: skip)"
    )
    parser.add_argument("--queue-repeat", type=int, default=200)
    parser.add_argument(
        "--profile",
        choices=PROFILES,
        default="embedded",
        help="the engines measured: make run's (embedded) or make run-cluster's (cluster)",
    )
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    print_table(figures)
    RESULTS.mkdir(parents=True, exist_ok=True)
    machine = {"python": sys.version.split()[0], "platform": platform.platform(), "cpus": os.cpu_count()}
    written = RESULTS / ("latest.json" if args.profile == "embedded" else f"latest-{args.profile}.json")
    written.write_text(
        json.dumps(
            {
                "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
                "machine": machine,
                "args": vars(args),
                "figures": [{**asdict(f), "ratio": f.ratio} for f in figures],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    print(f"\nwritten to {written}")


if __name__ == "__main__":
    main()
