"""`make fuzz`: schemathesis against every service's OpenAPI, on the real running services.

A private stack is started under `.data/fuzz-stack/` (ports shifted by -8000), with the four service APIs
on the real PostgreSQL, Kafka and Temporal. For each service the OpenAPI document is read from the running
API and schemathesis generates requests for every operation (at least `--requests` per service, shared
among its operations). Each request carries a token of a development client whose role the route allows
(read from the route's own guard), so the requests reach the code behind the guard instead of stopping at
403. Every response is checked for:

- server errors (any 5xx is a bug);
- conformance to the schema: status code documented, content type documented, body matching the schema.

Results print as one row per service and are written to `bench/results/fuzz.json`, with every failure
(operation, status, check, the request that caused it) so it can be replayed.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
import schemathesis
from fastapi.routing import APIRoute
from hypothesis import HealthCheck, Phase, given, settings
from rich.console import Console
from rich.table import Table
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from deploy.engines import REPO_ROOT, SERVICES, Ports
from deploy.secrets import development_clients
from deploy.stack import Stack
from services.common.auth import Role, allowed_roles

OFFSET = -8000
PORTS = Ports.private(OFFSET)
DATA_DIR = REPO_ROOT / ".data" / "fuzz-stack"
RESULTS = REPO_ROOT / "bench" / "results"
CONFORMANCE = [status_code_conformance, content_type_conformance, response_schema_conformance]
# When a route admits several roles, the broadest one is used: it passes county/department scoping.
ROLE_PREFERENCE = [
    Role.operator,
    Role.city_office,
    Role.lifecycle,
    Role.county_inspector,
    Role.intake_clerk,
    Role.department,
    Role.credit_system,
    Role.police,
    Role.procuratorate,
    Role.court,
    Role.arbitration,
    Role.legal_aid,
]


@dataclass
class Failure:
    operation: str
    status: int
    kind: str  # "5xx" or "schema"
    message: str
    request: str


@dataclass
class ServiceResult:
    service: str
    operations: int = 0
    requests: int = 0
    server_errors: int = 0
    schema_mismatches: int = 0
    seconds: float = 0.0
    by_status: dict[str, int] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)


def route_roles(service: str) -> dict[tuple[str, str], Role | None]:
    """(method, path) → the role whose token the fuzzer sends (None: the route takes no token)."""
    api = importlib.import_module(f"services.{service}.api")
    chosen: dict[tuple[str, str], Role | None] = {}
    # A service with more than one router lists them all in `ROUTERS`.
    for route in (route for router in getattr(api, "ROUTERS", [api.router]) for route in router.routes):
        if not isinstance(route, APIRoute):
            continue
        roles = allowed_roles(route)
        role = next((r for r in ROLE_PREFERENCE if roles is not None and r in roles), None)
        for method in route.methods or ():
            chosen[(method.upper(), route.path)] = role
    return chosen


def client_tokens(stack: Stack) -> dict[Role, str]:
    """One token per role, by the clients' own flow: `POST /oauth/token` with the development secrets."""
    tokens: dict[Role, str] = {}
    base = stack.processes["issuer-api"].url
    with httpx.Client(base_url=base, timeout=30) as http:
        for client in development_clients(stack.data_dir).values():
            role = Role(client["role"])
            # The console's own client gets no token of its own (it asks for signed-in people's), and no route
            # admits its role.
            if role in tokens or role is Role.console:
                continue
            response = http.post(
                "/oauth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": client["client_id"],
                    "client_secret": client["client_secret"],
                },
            )
            response.raise_for_status()
            tokens[role] = response.json()["access_token"]
    return tokens


def fuzz_service(
    service: str, base: str, tokens: dict[Role, str], target: int, log: Callable[[str], None]
) -> ServiceResult:
    result = ServiceResult(service)
    began = time.perf_counter()
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    roles = route_roles(service)
    # An operation schemathesis cannot read is a bug in the OpenAPI document: stop on it, loudly.
    operations = [op.ok() for op in schema.get_all_operations()]  # type: ignore[union-attr]
    result.operations = len(operations)

    def run(operation: Any, examples: int) -> int:
        label = f"{operation.method.upper()} {operation.path}"
        role = roles.get((operation.method.upper(), operation.path))
        headers = {"Authorization": f"Bearer {tokens[role]}"} if role is not None else {}
        sent = 0

        @settings(
            max_examples=examples,
            deadline=None,
            database=None,
            derandomize=False,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case: Any) -> None:
            nonlocal sent
            response = case.call(base_url=base, headers=headers, timeout=30)
            sent += 1
            status = response.status_code
            result.by_status[str(status)] = result.by_status.get(str(status), 0) + 1
            if status >= 500:
                result.server_errors += 1
                result.failures.append(Failure(label, status, "5xx", response.text[:500], case.as_curl_command()))
                return
            try:
                case.validate_response(response, checks=CONFORMANCE)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis reports its checks as a group
                result.schema_mismatches += 1
                result.failures.append(Failure(label, status, "schema", str(exc)[:800], case.as_curl_command()))

        check()
        return sent

    # First pass: the budget shared equally. Operations with few inputs (no parameters) run out of distinct
    # examples early; the rest of the budget then goes, in further passes, to those that still generate.
    productive = operations
    remaining = target
    for _ in range(6):
        if remaining <= 0 or not productive:
            break
        examples = max(5, math.ceil(remaining / len(productive)))
        still = []
        for operation in productive:
            sent = run(operation, examples)
            result.requests += sent
            if sent >= max(2, examples // 2):
                still.append(operation)
        remaining = target - result.requests
        productive = still
        log(f"  {service}: {result.requests} requests so far")
    result.seconds = time.perf_counter() - began
    return result


def report(results: list[ServiceResult], elapsed: float) -> None:
    table = Table(title=f"Fuzzing the service APIs (schemathesis {schemathesis.__version__}, {elapsed:.0f} s)")
    for column in ("service", "operations", "requests", "5xx", "schema mismatches", "seconds"):
        table.add_column(column, justify="left" if column == "service" else "right")
    for r in results:
        table.add_row(
            r.service,
            str(r.operations),
            str(r.requests),
            str(r.server_errors),
            str(r.schema_mismatches),
            f"{r.seconds:.0f}",
        )
    console = Console()
    console.print(table)
    for r in results:
        shown: set[tuple[str, str, int]] = set()
        for f in r.failures:
            key = (f.operation, f.kind, f.status)
            if key in shown:
                continue
            shown.add(key)
            console.print(f"[red]{r.service}[/red] {f.kind} {f.status} {f.operation}: {f.message[:300]}")


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000, help="generated requests per service (at least)")
    parser.add_argument("--services", nargs="*", default=SERVICES, choices=SERVICES)
    args = parser.parse_args()

    stack = Stack(DATA_DIR, PORTS, with_ui=False, environ={})
    # The lock first: a second `make fuzz` must fail here, not stop and wipe the first one's engines.
    stack.acquire_lock()
    stack.stop()  # engines left behind by a run killed before its teardown
    for entry in DATA_DIR.iterdir():
        if entry.name != "stack.lock":
            shutil.rmtree(entry) if entry.is_dir() else entry.unlink()
    began = time.perf_counter()
    results: list[ServiceResult] = []
    try:
        print(f"starting a private stack under {DATA_DIR} …", flush=True)
        stack.start_engines()
        stack.start_processes(["issuer-api", *(f"{s}-api" for s in SERVICES)], timeout=180)
        tokens = client_tokens(stack)
        for service in args.services:
            print(f"fuzzing {service} …", flush=True)
            results.append(
                fuzz_service(
                    service,
                    stack.processes[f"{service}-api"].url,
                    tokens,
                    args.requests,
                    lambda line: print(line, flush=True),
                )
            )
    finally:
        stack.stop()
    elapsed = time.perf_counter() - began
    report(results, elapsed)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "fuzz.json").write_text(
        json.dumps(
            {
                "schemathesis": schemathesis.__version__,
                "requests_per_service": args.requests,
                "seconds": round(elapsed, 1),
                "services": [asdict(r) for r in results],
            },
            indent=2,
            ensure_ascii=False,
        )
    )
    failed = any(r.server_errors or r.schema_mismatches for r in results)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
