"""A flood of bad token requests against the token issuer's `/oauth/token`, and the latency of a page of another
process (the workers' form) sampled meanwhile: the security suite's flood test and `make bench`'s "token flood"
figure.

The flood runs in a process of its own (`python -m tests.support.token_flood URL RATE SECONDS`), so the sampler's
timings are not inflated by the attacker's own work on the same event loop. Each request comes from its own
loopback address (127.77.x.y; Linux routes all of 127/8 to the loopback interface) with a made-up client id, so
the per-address and per-client limits do not trip and what holds the service up is the bounded secret-check
pool — the attacker's best case.
"""

from __future__ import annotations

import asyncio
import collections
import json
import statistics
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import httpx

# The first loopback addresses the flood comes from; a test's other attacks use other /16s.
FLOOD_NETWORK = "127.77"


def flood_address(i: int) -> str:
    return f"{FLOOD_NETWORK}.{(i // 250) % 250}.{i % 250 + 1}"


async def _bad_token_request(host: str, port: int, source: str, statuses: collections.Counter[str]) -> None:
    body = f"grant_type=client_credentials&client_id=flood-{uuid.uuid4().hex[:12]}&client_secret=wrong"
    request = (
        f"POST /oauth/token HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n"
        f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n{body}"
    )
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port, local_addr=(source, 0)), 10)
        writer.write(request.encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 30)
        writer.close()
        statuses[status_line.split(b" ")[1].decode() if status_line.count(b" ") >= 2 else "no answer"] += 1
    except (OSError, TimeoutError) as error:
        statuses[type(error).__name__] += 1


async def flood(url: str, rate: float, seconds: float) -> dict[str, int]:
    """`rate` bad token requests a second for `seconds`, each from its own address; the answers' statuses."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    statuses: collections.Counter[str] = collections.Counter()
    tasks = []
    started = time.monotonic()
    for i in range(int(rate * seconds)):
        await asyncio.sleep(max(0.0, started + i / rate - time.monotonic()))
        tasks.append(asyncio.create_task(_bad_token_request(host, port, flood_address(i), statuses)))
    await asyncio.gather(*tasks)
    return dict(statuses)


@dataclass
class FloodFigures:
    idle_p95_ms: float
    flood_p95_ms: float
    statuses: dict[str, int] = field(default_factory=dict)
    samples: tuple[int, int] = (0, 0)

    @property
    def ratio(self) -> float:
        return self.flood_p95_ms / self.idle_p95_ms if self.idle_p95_ms else float("nan")


def p95_ms(latencies: list[float]) -> float:
    return statistics.quantiles(sorted(latencies), n=100, method="inclusive")[94] * 1000


def _sample(http: httpx.Client, path: str, seconds: float, interval: float) -> list[float]:
    latencies: list[float] = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.perf_counter()
        http.get(path).raise_for_status()
        latencies.append(time.perf_counter() - started)
        time.sleep(max(0.0, interval - (time.perf_counter() - started)))
    return latencies


def measure(
    page_url: str,
    token_url: str,
    *,
    rate: float = 50,
    seconds: float = 5,
    idle_seconds: float = 3,
    page: str = "/",
    interval: float = 0.05,
) -> FloodFigures:
    """`page` of `page_url`: its p95 while idle, then while `token_url`'s token endpoint takes `rate` bad requests
    a second."""
    with httpx.Client(base_url=page_url, timeout=30) as http:
        _sample(http, page, 0.5, interval)  # warm: connection, caches
        idle = _sample(http, page, idle_seconds, interval)
        # The attacker's own work runs at a lower priority: in a deployment it spends its own machine's CPU, not
        # the service's, and on this one machine it would otherwise take a core from the page being sampled.
        attacker = subprocess.Popen(
            ["nice", "-n", "10", sys.executable, "-m", "tests.support.token_flood", token_url, str(rate), str(seconds)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        try:
            assert attacker.stdout is not None
            assert attacker.stdout.readline().strip() == "flooding"
            under_flood = _sample(http, page, seconds, interval)
            out, _ = attacker.communicate(timeout=60)
        finally:
            if attacker.poll() is None:
                attacker.kill()
    return FloodFigures(p95_ms(idle), p95_ms(under_flood), json.loads(out), (len(idle), len(under_flood)))


if __name__ == "__main__":
    target, per_second, duration = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
    print("flooding", flush=True)
    print(json.dumps(asyncio.run(flood(target, per_second, duration))), flush=True)
