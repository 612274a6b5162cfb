"""The measures of `make bench` (bench/run.py), each a path of Anxin beside its raw baseline in the same run on the
same engines: intake's `POST /v1/complaints` against a bare FastAPI + psycopg insert, events through outbox, relay
and inbox against raw produce and consume, POST to workflow running against raw `start_workflow` and against a bare
POST that inserts a row and starts the same workflow, and the form's p95 under a flood of bad token requests against
its p95 idle."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from typing import Any

import httpx
import psycopg
import uvicorn
from fastapi import FastAPI
from kafka import KafkaConsumer, KafkaProducer
from psycopg_pool import AsyncConnectionPool
from temporalio.client import Client
from temporalio.worker import Worker

from bench.bare_events import (
    BARE_PROCESSES,
    bare_processes,
    check_delivered_once,
    connect_to,
    create_tables,
    write_events,
)
from bench.benchmark_stack import PORTS
from bench.event_consumers import CONSUMERS, EFFECTS_TABLE, consumer_processes, wait_until_applied
from bench.measures import Figure, load, percentiles
from bench.process_cpu import cpu_by_process, cpu_figure, cpu_spent, cpu_with
from deploy.stack import Stack
from services.common.kafka import client_options, ensure_topics
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

# -- the raw baselines ---------------------------------------------------------------------------------


async def _open_bare_table(database_url: str) -> AsyncConnectionPool:
    """The bare baselines' connection pool, their table created."""
    pool = AsyncConnectionPool(database_url, min_size=4, max_size=10, open=False)
    await pool.open()
    async with pool.connection() as conn:
        await conn.execute("CREATE TABLE IF NOT EXISTS bench_bare (id uuid PRIMARY KEY, body jsonb)")
    return pool


async def _insert_bare_row(pool: AsyncConnectionPool, body: dict[str, Any]) -> str:
    row_id = str(uuid.uuid4())
    async with pool.connection() as conn:
        await conn.execute("INSERT INTO bench_bare VALUES (%s, %s)", (row_id, json.dumps(body)))
    return row_id


def bare_insert_app(database_url: str) -> FastAPI:
    """The baseline: FastAPI + psycopg inserting one row per request, nothing else."""
    app = FastAPI()
    state: dict[str, AsyncConnectionPool] = {}

    @app.on_event("startup")
    async def start() -> None:
        state["pool"] = await _open_bare_table(database_url)

    @app.post("/rows", status_code=201)
    async def insert(body: dict[str, Any]) -> dict[str, str]:
        return {"id": await _insert_bare_row(state["pool"], body)}

    return app


async def start_raw_workflow(client: Client, workflow_id: str, task_queue: str) -> None:
    """The raw workflow of the end-to-end baselines: one activity, then a 30-day wait."""
    await client.start_workflow(RoundTripWorkflow.run, args=["w", 30], id=workflow_id, task_queue=task_queue)


def bare_start_app(database_url: str, settings: CommonSettings, task_queue: str) -> FastAPI:
    """The fuller baseline of POST to workflow running: FastAPI + psycopg inserting one row per request and
    starting the raw workflow from the handler, nothing else — the least any path from a POST to a running
    workflow does. Its Temporal client is connected on the server's own event loop."""
    app = FastAPI()
    state: dict[str, Any] = {}

    @app.on_event("startup")
    async def start() -> None:
        state["pool"], state["client"] = await _open_bare_table(database_url), await connect(settings)

    @app.post("/started", status_code=201)
    async def insert_and_start(body: dict[str, Any]) -> dict[str, str]:
        workflow_id = f"bench:{task_queue}:bare:{await _insert_bare_row(state['pool'], body)}"
        await start_raw_workflow(state["client"], workflow_id, task_queue)
        return {"workflow_id": workflow_id}

    return app


def serve_in_thread(app: FastAPI, port: int) -> uvicorn.Server:
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return server


# -- the measurements ----------------------------------------------------------------------------------


INTAKE_WARM_UP = 50  # complaints filed before the intake row's clock starts


async def bench_intake(stack: Stack, token: str, total: int, concurrency: int, apis: list[str]) -> list[Figure]:
    """The intake row: `POST /v1/complaints` spread in turn over the intake API processes `apis`."""
    bases = [stack.processes[name].url for name in apis]
    bare_port = PORTS.service_base + 90
    server = serve_in_thread(bare_insert_app(stack.postgres.database_url("anxin")), bare_port)
    seed = uuid.uuid4().int % 10**6
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http:
        headers = {"Authorization": f"Bearer {token}"}

        async def file(i: int) -> None:
            # Distinct phones: the per-phone abuse limit must not shape the measurement.
            body = complaint(seed * 10 + i, phone=f"137{(seed * 10000 + i) % 10**8:08d}")
            response = await http.post(f"{bases[i % len(bases)]}/v1/complaints", json=body, headers=headers)
            assert response.status_code == 201, response.text

        async def bare(i: int) -> None:
            response = await http.post(f"http://127.0.0.1:{bare_port}/rows", json=complaint(seed * 10 + i))
            assert response.status_code == 201

        await load(bare, INTAKE_WARM_UP, concurrency)  # warm both paths
        await load(file, INTAKE_WARM_UP, concurrency)
        before = await asyncio.to_thread(cpu_by_process, stack)
        bare_rate, bare_lat = await load(bare, total, concurrency)
        between = await asyncio.to_thread(cpu_by_process, stack)
        rate, lat = await load(file, total, concurrency)
        after = await asyncio.to_thread(cpu_by_process, stack)
    server.should_exit = True
    ours, raw = percentiles(lat), percentiles(bare_lat)
    # CPU per complaint over every process on the machine's stack (the measuring process, its clients and the
    # bare server included), so the ratio says what the project's path costs beyond the bare insert.
    return [
        Figure("intake throughput", "complaints/s", rate, bare_rate, f"concurrency {concurrency}, {total} requests"),
        *[Figure(f"intake latency {p}", "ms", ours[p], raw[p]) for p in ("p50", "p95", "p99")],
        cpu_figure("intake CPU per complaint", cpu_spent(between, after), cpu_spent(before, between), total),
    ]


def bench_events(stack: Stack, settings: CommonSettings, total: int, consumers: int) -> list[Figure]:
    topic_raw, topic_ours = f"bench.raw.{uuid.uuid4().hex[:6]}", f"bench.outbox.{uuid.uuid4().hex[:6]}"
    ensure_topics(settings, [topic_raw, topic_ours], partitions=6)
    payload = json.dumps(
        EventEnvelope.wrap(Counted(n=0), subject="s", producer="bench").model_dump(mode="json")
    ).encode()

    # Raw: produce with acks=all on an idempotent producer, then consume everything.
    raw_before = cpu_by_process(stack)
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
    raw_spent = cpu_spent(raw_before, cpu_by_process(stack))

    # Bare: the least outbox + inbox path, the same engines and client settings, no more (bench/bare_events.py).
    topic_bare, bare_schema = f"bench.bare.{uuid.uuid4().hex[:6]}", f"bare_{uuid.uuid4().hex[:6]}"
    ensure_topics(settings, [topic_bare], partitions=6)
    create_tables(settings.database_url, bare_schema)
    with (
        connect_to(settings.database_url, bare_schema) as bare_watch,
        bare_processes(settings, bare_schema, topic_bare, consumers) as bare_pids,
    ):
        bare_before = cpu_with(stack, BARE_PROCESSES, bare_pids)
        started = time.perf_counter()
        write_events(settings.database_url, bare_schema, payload, total)
        wait_until_applied(bare_watch, total)
        bare_rate = total / (time.perf_counter() - started)
        bare_spent = cpu_spent(bare_before, cpu_with(stack, BARE_PROCESSES, bare_pids))
        check_delivered_once(bare_watch, total)

    # Anxin: rows written through the outbox (in transactions of 100), relayed, applied by inbox consumers of one
    # group, each in a process of its own (bench/event_consumers.py).
    intake_url = stack.postgres.service_url("intake")
    schema = f"bench_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(settings.database_url, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    apply_migrations(settings.database_url, schema, None)
    with psycopg.connect(settings.database_url, autocommit=True, options=f"-c search_path={schema}") as watch:
        watch.execute(f"CREATE TABLE {EFFECTS_TABLE} (n integer)")
        with consumer_processes(settings, schema, topic_ours, f"bench-{uuid.uuid4().hex[:6]}", consumers) as pids:
            before = cpu_with(stack, CONSUMERS, pids)
            started = time.perf_counter()
            with psycopg.connect(intake_url, autocommit=True, options="-c search_path=intake") as conn:
                for first in range(0, total, 100):
                    # Pipelined, as the services write theirs (services/common/db.py, `pipelined_transaction`): the
                    # transaction's statements do not wait for the server, the events travel with the COMMIT.
                    with conn.pipeline():
                        conn.execute("BEGIN")
                        for n in range(first, min(first + 100, total)):
                            envelope = EventEnvelope.wrap(Counted(n=n), subject=f"case-{n % 200}", producer="bench")
                            add_event(conn, topic_ours, envelope)
                        conn.execute("COMMIT")
            wait_until_applied(watch, total)
            rate = total / (time.perf_counter() - started)
            after = cpu_with(stack, CONSUMERS, pids)
    return [
        Figure(
            "events end to end",
            "events/s",
            rate,
            raw_rate,
            f"outbox write + relay + inbox apply ({consumers} consumer processes) vs raw produce + consume",
        ),
        # The raw baseline's producer and consumer, and the writers, are the measuring process ("bench").
        cpu_figure("events CPU per event", cpu_spent(before, after), raw_spent, total),
        Figure(
            "events end to end, vs bare outbox + inbox",
            "events/s",
            rate,
            bare_rate,
            "bare: plain psycopg + kafka-python outbox, relay and inbox, the same engines and client settings",
        ),
        cpu_figure("events CPU per event, vs bare outbox + inbox", cpu_spent(before, after), bare_spent, total),
    ]


async def bench_end_to_end(
    stack: Stack, settings: CommonSettings, client: Client, token: str, total: int, concurrency: int
) -> list[Figure]:
    base = stack.processes["intake-api"].url
    queue = f"bench-{uuid.uuid4().hex[:6]}"
    baseline_ids: list[str] = []  # the raw and bare baselines' workflows, terminated after them
    bare_port = PORTS.service_base + 91
    server = serve_in_thread(bare_start_app(stack.postgres.database_url("anxin"), settings, queue), bare_port)
    before = await asyncio.to_thread(cpu_by_process, stack)
    async with (
        Worker(client, task_queue=queue, workflows=[RoundTripWorkflow], activities=[greet]),
        httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=concurrency)) as http,
    ):

        async def raw_start(i: int) -> None:
            workflow_id = f"bench:{queue}:{i}"
            await start_raw_workflow(client, workflow_id, queue)
            baseline_ids.append(workflow_id)

        async def bare_post(i: int) -> None:
            response = await http.post(f"http://127.0.0.1:{bare_port}/started", json=complaint(i))
            assert response.status_code == 201, response.text
            baseline_ids.append(response.json()["workflow_id"])

        raw_rate, raw_lat = await load(raw_start, total, concurrency)
        between = await asyncio.to_thread(cpu_by_process, stack)
        bare_rate, bare_lat = await load(bare_post, total, concurrency)
        after_bare = await asyncio.to_thread(cpu_by_process, stack)
    server.should_exit = True
    # Terminated once the worker has stopped: terminating under a running worker races its task completions
    # (harmless, but the SDK logs each as "Workflow task not found").
    for workflow_id in baseline_ids:
        await client.get_workflow_handle(workflow_id).terminate("benchmark done")
    ours_from = await asyncio.to_thread(cpu_by_process, stack)

    seed = uuid.uuid4().int % 10**6
    latencies: list[float] = []
    async with httpx.AsyncClient(timeout=60) as http, StartsWatched(stack) as starts:

        async def through(i: int) -> None:
            body = complaint(seed * 10 + i, phone=f"136{(seed * 10000 + i) % 10**8:08d}")
            started = time.perf_counter()
            response = await http.post(f"{base}/v1/complaints", json=body, headers={"Authorization": f"Bearer {token}"})
            await starts.running(response.json()["complaint_id"])
            latencies.append(time.perf_counter() - started)

        rate, _ = await load(through, total, concurrency)
    after = await asyncio.to_thread(cpu_by_process, stack)
    await check_running(client, starts.seen)
    ours, raw, bare = percentiles(latencies), percentiles(raw_lat), percentiles(bare_lat)
    return [
        Figure("POST to workflow running", "complaints/s", rate, raw_rate, "vs raw start_workflow"),
        Figure("POST to workflow running p50", "ms", ours["p50"], raw["p50"]),
        Figure("POST to workflow running p95", "ms", ours["p95"], raw["p95"]),
        # The same path's least equivalent work: a bare POST that inserts the row and starts the workflow.
        Figure(
            "POST to workflow running, vs bare POST + start",
            "complaints/s",
            rate,
            bare_rate,
            "vs FastAPI + psycopg insert + start_workflow in the handler",
        ),
        Figure("POST to workflow running p95, vs bare POST + start", "ms", ours["p95"], bare["p95"]),
        cpu_figure(
            "POST to running CPU per complaint, vs bare POST + start",
            cpu_spent(ours_from, after),
            cpu_spent(between, after_bare),
            total,
        ),
        # While the clock runs: the workflows' first steps that have not run by then are not in it.
        cpu_figure("POST to running CPU per complaint", cpu_spent(ours_from, after), cpu_spent(before, between), total),
    ]


class StartsWatched:
    """When each complaint's workflow is running, as the intake worker records it (`workflow_starts`, written
    in the poll's transaction once `start_workflow` returned), watched for every waiting complaint at once with
    one query each 20 ms. Polling Temporal's `describe` per complaint instead (16 lanes, every 20 ms) loaded
    the very server being measured with calls the raw baseline does not make."""

    def __init__(self, stack: Stack) -> None:
        self._url = stack.postgres.database_url("anxin")
        self._waiting: dict[str, asyncio.Future[None]] = {}
        self.seen: list[str] = []

    async def __aenter__(self) -> StartsWatched:
        self._conn = await psycopg.AsyncConnection.connect(self._url, autocommit=True, options="-c search_path=intake")
        self._task = asyncio.create_task(self._watch())
        return self

    async def __aexit__(self, *_: object) -> None:
        self._task.cancel()
        await self._conn.close()

    async def running(self, complaint_id: str) -> None:
        seen = asyncio.get_running_loop().create_future()
        self._waiting[complaint_id] = seen
        await asyncio.wait_for(seen, timeout=300)  # a watcher that died must not hang the bench

    async def _watch(self) -> None:
        while True:
            if self._waiting:
                cursor = await self._conn.execute(
                    "SELECT complaint_id FROM workflow_starts WHERE complaint_id = ANY(%s)", (list(self._waiting),)
                )
                for (complaint_id,) in await cursor.fetchall():
                    self.seen.append(complaint_id)
                    self._waiting.pop(complaint_id).set_result(None)
            await asyncio.sleep(0.02)


async def check_running(client: Client, complaint_ids: list[str]) -> None:
    """Every complaint recorded as started has its workflow on the server (after the clock: not timed)."""
    for complaint_id in complaint_ids:
        await client.get_workflow_handle(complaint_workflow_id(complaint_id)).describe()


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
