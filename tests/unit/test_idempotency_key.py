"""A lifecycle command without an Idempotency-Key is refused before it touches anything."""

from __future__ import annotations

from typing import Annotated

from fastapi import FastAPI, Header
from fastapi.testclient import TestClient

from services.common.openapi import created_or_repeated, idempotency_key
from services.common.problems import install_problem_handlers


def test_a_command_without_an_idempotency_key_is_a_400_problem_and_is_not_applied() -> None:
    applied: list[str] = []
    api = FastAPI()
    install_problem_handlers(api)

    @api.post("/notices")
    def notice(key: Annotated[str | None, Header(alias="Idempotency-Key")] = None) -> object:
        applied.append(idempotency_key(key))
        return created_or_repeated({"key": key}, created=True)

    client = TestClient(api)
    for headers in ({}, {"Idempotency-Key": ""}):
        refused = client.post("/notices", headers=headers)
        assert refused.status_code == 400
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["title"] == "Idempotency-Key required"
    assert applied == []

    accepted = client.post("/notices", headers={"Idempotency-Key": "notice-1"})
    assert accepted.status_code == 201
    assert applied == ["notice-1"]
