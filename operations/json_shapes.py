"""The shapes of the JSON documents the `anxin` read commands print with `--json` (JSON Schema, draft 2020-12).

One document per run, on standard output; the exit code is the same as without `--json`. Scripts may rely on
the fields listed as required; new fields may be added. docs/operations.md ("Output for scripts") describes
them in words; tests/unit/test_operator_output.py checks every command's output against its shape.
"""

from __future__ import annotations

from typing import Any


def _object(properties: dict[str, Any], *, required: list[str] | None = None) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "required": list(properties) if required is None else required}


def _list_of(item: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "items": item}


STRING = {"type": "string"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
MAYBE_STRING = {"type": ["string", "null"]}
MAYBE_INTEGER = {"type": ["integer", "null"]}

SHAPES: dict[str, dict[str, Any]] = {
    "stack status": _object(
        {
            "engines": _list_of(_object({"name": STRING, "where": STRING, "up": BOOLEAN})),
            "processes": _list_of(_object({"name": STRING, "url": STRING, "ready": BOOLEAN, "http": MAYBE_INTEGER})),
        }
    ),
    "case show": _object(
        {
            "subject": STRING,
            "workflow_id": STRING,
            "status": STRING,  # the workflow's: RUNNING, COMPLETED, ...
            "summary": {"type": "object"},  # stage, status, overdue, case_stage, closure_reason, when the workflow runs
            "lines": _list_of(_object({"at": STRING, "source": STRING, "text": STRING})),  # in time order
            "deadlines": _list_of(_object({"name": STRING, "due": STRING, "outcome": STRING})),
            "waiting_for": _list_of(STRING),  # empty when the process is closed
        }
    ),
    "stuck": _object(
        {
            "stuck": _list_of(_object({"workflow_id": STRING, "why": STRING})),
        }
    ),
    "audit ledger": _object(
        {
            "compared": INTEGER,
            "audits": _list_of(
                _object({"what": {"enum": ["processes", "listings"]}, "compared": INTEGER, "disagree": INTEGER})
            ),
            "disagreements": _list_of(
                _object({"workflow_id": STRING, "case_id": STRING, "differences": _list_of(STRING), "running": BOOLEAN})
            ),
            "fix": BOOLEAN,  # whether the disagreeing workflows were asked to report again
        }
    ),
    "audit verify": _object(
        {
            "services": _list_of(
                _object(
                    {
                        "service": STRING,
                        "rows": INTEGER,
                        "intact": BOOLEAN,
                        "broken_at": MAYBE_INTEGER,
                        "reason": STRING,
                        "head": STRING,
                    }
                )
            ),
        }
    ),
    "trace": _object(
        {
            "subject": STRING,
            # Each span as the trace files hold it (OpenTelemetry's JSON export of a span).
            "spans": _list_of(
                _object(
                    {
                        "name": STRING,
                        "start_time": STRING,
                        "context": _object({"trace_id": STRING}, required=["trace_id"]),
                    },
                    required=["name", "start_time", "context"],
                )
            ),
        }
    ),
    "replay": _object(
        {
            "replayed": INTEGER,
            "failed": INTEGER,
            "results": _list_of(_object({"workflow_id": STRING, "result": STRING})),  # "ok" or "FAILED: why"
        }
    ),
    "calendar status": _object(
        {
            "package_years": {"type": "array", "items": INTEGER, "minItems": 2, "maxItems": 2},  # first, last
            "configured_years": _list_of(INTEGER),
            "fallback_from": INTEGER,
            "examined": INTEGER,
            "provisional": _list_of(
                _object({"workflow_id": STRING, "deadline": STRING, "due_date": MAYBE_STRING, "note": STRING})
            ),
            "unanswered": _list_of(STRING),
        }
    ),
}
