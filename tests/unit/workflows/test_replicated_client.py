"""Commands to a service's replicas without a load balancer: a replica that refuses the connection is passed
over for the next (and the next is kept); a timeout is not, as the command may have arrived."""

from __future__ import annotations

import httpx
import pytest
from pydantic import BaseModel

from workflows.clients import HttpCommandClient, ReplicatedCommandClient


class Command(BaseModel):
    n: int


def replicas(down: set[str], calls: list[str], *, timeout_on: frozenset[str] = frozenset()) -> ReplicatedCommandClient:
    def handle(request: httpx.Request) -> httpx.Response:
        host = f"{request.url.host}:{request.url.port}"
        calls.append(host)
        if host in down:
            raise httpx.ConnectError("connection refused", request=request)
        if host in timeout_on:
            raise httpx.ReadTimeout("no answer", request=request)
        return httpx.Response(201, json={"at": host})

    http = httpx.AsyncClient(transport=httpx.MockTransport(handle))
    return ReplicatedCommandClient([HttpCommandClient(http, f"http://10.0.0.{i}:8002") for i in (1, 2)])


async def test_a_replica_that_refuses_the_connection_is_passed_over_and_the_next_kept() -> None:
    calls: list[str] = []
    client = replicas({"10.0.0.1:8002"}, calls)
    assert await client.post("/v1/notices", Command(n=1), "k1") == {"at": "10.0.0.2:8002"}
    assert await client.post("/v1/notices", Command(n=2), "k2") == {"at": "10.0.0.2:8002"}
    assert calls == ["10.0.0.1:8002", "10.0.0.2:8002", "10.0.0.2:8002"]


async def test_every_replica_down_raises_the_connection_error_for_temporal_to_retry() -> None:
    client = replicas({"10.0.0.1:8002", "10.0.0.2:8002"}, [])
    with pytest.raises(httpx.ConnectError):
        await client.get("/v1/cases/C-1")


async def test_a_timeout_is_not_sent_to_another_replica() -> None:
    calls: list[str] = []
    client = replicas(set(), calls, timeout_on=frozenset({"10.0.0.1:8002"}))
    with pytest.raises(httpx.ReadTimeout):
        await client.post("/v1/notices", Command(n=1), "k1")
    assert calls == ["10.0.0.1:8002"]
