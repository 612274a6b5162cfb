"""What the `anxin` read commands print: tables that wrap at the terminal's width without cutting anything (a
Chinese character takes two columns), and with --json one document in the shape `operations/json_shapes.py`
gives. The commands' sources (Temporal, the databases, Kafka) are replaced by their answers here; the
integration tests run the same commands against a stack."""

from __future__ import annotations

import json
import unicodedata
from datetime import UTC, date, datetime, timedelta
from io import StringIO
from typing import Any

import jsonschema_rs
import pytest
import typer
from rich.console import Console
from typer.testing import CliRunner

from operations import case_cli, cli, ledger_audit_cli
from operations.audit_chain import ChainReport
from operations.calendar import CalendarStatus, ProvisionalDeadline
from operations.json_shapes import SHAPES
from operations.ledger_audit import Disagreement
from operations.stories import Story, StoryLine
from operations.views import render_story

WIDTH = 80
T0 = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def _story(
    subject: str,
    texts: list[tuple[str, str]],
    deadlines: list[tuple[str, str, str]],
    waiting: list[str],
    summary: dict[str, Any],
) -> Story:
    workflow_id = ("case:" if subject.startswith("C-") else "complaint:") + subject
    return Story(
        subject=subject,
        workflow_id=workflow_id,
        status="RUNNING",
        summary=summary,
        deadlines=deadlines,
        waiting_for=waiting,
        lines=[StoryLine(T0 + timedelta(hours=i), source, text) for i, (source, text) in enumerate(texts)],
    )


REFUSED = _story(
    "C-20260302-000017",
    [
        ("workflow", "workflow execution started"),
        ("timeline", "下达限期改正指令书（L-130402-2026-000123）：12 人、345600.00 元，送达后 5 个工作日内支付"),
        ("timeline", "期限「order.payment_limit_after_service」已到期；用人单位逾期拒不支付，案件进入移送审查"),
        ("timeline", "作出加付赔偿金决定（D-130402-2026-000045）：按未付金额的 100% 加付"),
        (
            "timeline",
            "暂停：referrals.file_criminal_referral 被服务拒绝（the referrals service refused the request: "
            "police department code 130402000000 is not configured），待运维处理后重试",
        ),
        ("event", "case.order_refused.v2 (from cases-relay)"),
    ],
    [
        ("order.payment_limit_after_service", "2026-03-09T16:00:00+00:00", "expired"),
        ("referral.report_approval_by_bureau_head", "2026-03-16T16:00:00+00:00", "pending"),
    ],
    ["deadline referral.report_approval_by_bureau_head due 2026-03-16T16:00:00+00:00"],
    {"stage": "criminal_referral_review", "status": "open", "overdue": False},
)

REFERRED = _story(
    "TS-20260302-000042",
    [
        (
            "complaint TS-20260302-000042",
            "不属于劳动保障监察事项，交办住房和城乡建设局依法处理（交办函 H-130402-2026-000007）",
        ),
        (
            "timeline",
            "住房和城乡建设局 经全部催督程序仍未答复，已报根治欠薪办；期限「handoff.answer_after_second_reminder」已到期",
        ),
        ("timeline", "期限「handoff.answer_after_second_reminder」重新计算：2026-04-15（暂定）"),
    ],
    [("handoff.answer_after_second_reminder", "2026-04-15T16:00:00+00:00", "pending")],
    [
        "deadline handoff.answer_after_second_reminder due 2026-04-15T16:00:00+00:00 (provisional: the 2026 "
        "calendar has not been entered; `anxin calendar load`)"
    ],
    {"stage": "handoff", "status": "open", "overdue": True},
)

LISTED = _story(
    "C-20260302-000018",
    [
        ("timeline", "作出列入决定（冀石人社失信决〔2026〕17号），已公布并推送信用平台，期满日 2029-03-02"),
        (
            "timeline",
            "依据《拖欠农民工工资失信联合惩戒对象名单管理暂行办法》（人力资源社会保障部令第45号）的规定，"
            "决定将你单位及下列人员列入拖欠农民工工资失信联合惩戒对象名单",
        ),
        ("timeline", "列入重大劳动保障违法行为季度公布（P-130402-2026Q1-000003）"),
    ],
    [("listing.expiry_three_years_after_decision", "2029-03-02T16:00:00+00:00", "pending")],
    ["deadline listing.expiry_three_years_after_decision due 2029-03-02T16:00:00+00:00"],
    {"stage": "listed", "status": "open", "overdue": False, "case_stage": "sanctions"},
)


def display_width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _rendered(story: Story) -> str:
    console = Console(width=WIDTH, file=StringIO(), color_system=None, force_terminal=False)
    render_story(story, console)
    assert isinstance(console.file, StringIO)
    return console.file.getvalue()


def _tables(output: str, keys: list[int]) -> list[list[list[str]]]:
    """Each table's rows, each row's cells with their wrapped lines joined. A row starts where its column
    `keys[table]` (one that is never wrapped: the timestamp, the outcome) has text."""
    tables: list[list[list[str]]] = []
    for line in output.splitlines():
        if line.startswith("┏"):
            tables.append([])
        parts = line.split("│")
        if not tables or len(parts) < 3:
            continue
        cells = [part.strip() for part in parts[1:-1]]
        rows = tables[-1]
        if cells[keys[len(tables) - 1]] or not rows:
            rows.append(cells)
        else:
            rows[-1] = [f"{so_far} {more}".strip() for so_far, more in zip(rows[-1], cells, strict=True)]
    return tables


def _unspaced(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize("story", [REFUSED, REFERRED, LISTED], ids=["refused", "referred", "listed"])
def test_a_story_fits_80_columns_and_nothing_is_cut(story: Story) -> None:
    output = _rendered(story)
    assert "…" not in output
    assert all(display_width(line) <= WIDTH for line in output.splitlines()), output
    timeline, deadlines = [
        [tuple(_unspaced(cell) for cell in row) for row in table] for table in _tables(output, keys=[0, 2])
    ]
    # Every line of the story and every deadline whole, in its own row: the wrapped lines of each cell join
    # back to the text it was given.
    assert timeline == [
        (_unspaced(line.at.strftime("%Y-%m-%d %H:%M:%S")), _unspaced(line.source), _unspaced(line.text))
        for line in story.lines
    ]
    assert deadlines == [(_unspaced(name), due, outcome) for name, due, outcome in story.deadlines], output
    assert _unspaced("waiting for: " + "; ".join(story.waiting_for)) in _unspaced(output)


def test_a_line_is_wrapped_not_cut_where_the_text_is_chinese() -> None:
    output = _rendered(LISTED)
    decision = LISTED.lines[1].text
    assert display_width(decision) > WIDTH  # it cannot fit one line
    body = [line for line in output.splitlines() if line.startswith("│")]
    holding = [line for line in body if any(part in line for part in ("《拖欠农民工", "第45号", "惩戒对象名单"))]
    assert len(holding) >= 3, output  # it takes several lines of its column, each within the width
    assert all(display_width(line) == WIDTH for line in body)
    row = next(row for row in _tables(output, keys=[0, 2])[0] if _unspaced(row[2]).startswith("依据《"))
    assert _unspaced(row[2]) == _unspaced(decision)


def test_case_show_at_80_columns_through_the_command(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_temporal(monkeypatch)
    monkeypatch.setattr("operations.stories.tell_story", _returns(REFUSED))
    monkeypatch.setattr(cli.console, "width", WIDTH)
    result = CliRunner().invoke(cli.app, ["case", "show", REFUSED.subject, "--no-events"])
    assert result.exit_code == 0, result.output
    assert "…" not in result.output
    assert all(display_width(line) <= WIDTH for line in result.output.splitlines()), result.output
    timeline = _tables(result.output, keys=[0, 2])[0]
    assert [_unspaced(row[2]) for row in timeline] == [_unspaced(line.text) for line in REFUSED.lines]


# --- --json -----------------------------------------------------------------------------------------------


def _returns(value: Any) -> Any:
    async def answer(*_args: Any, **_kwargs: Any) -> Any:
        return value

    return answer


def _fake_temporal(monkeypatch: pytest.MonkeyPatch) -> None:
    for commands in (cli, case_cli, ledger_audit_cli):  # each module of commands that reads Temporal
        monkeypatch.setattr(commands, "temporal_client", _returns(object()))
        monkeypatch.setattr(commands, "operator_settings", lambda: None)


def _json_of(args: list[str], shape: str, exit_code: int = 0) -> Any:
    result = CliRunner().invoke(cli.app, [*args, "--json"])
    assert result.exit_code == exit_code, result.output
    document = json.loads(result.stdout)  # the whole of standard output is the one document
    jsonschema_rs.validate(SHAPES[shape], document)
    return document


def test_every_read_command_has_json_and_a_documented_shape() -> None:
    group = typer.main.get_command(cli.app)

    def with_json(command: Any, path: tuple[str, ...]) -> set[str]:
        if hasattr(command, "commands"):
            return set().union(*(with_json(sub, (*path, name)) for name, sub in command.commands.items()))
        return {" ".join(path)} if any("--json" in p.opts for p in command.params) else set()

    assert with_json(group, ()) == set(SHAPES)
    assert set(SHAPES) == {
        "stack status",
        "case show",
        "stuck",
        "audit ledger",
        "audit verify",
        "trace",
        "replay",
        "calendar status",
    }


def test_case_show_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_temporal(monkeypatch)
    monkeypatch.setattr("operations.stories.tell_story", _returns(REFERRED))
    document = _json_of(["case", "show", REFERRED.subject], "case show")
    assert document["workflow_id"] == "complaint:TS-20260302-000042"
    assert [line["text"] for line in document["lines"]] == [line.text for line in REFERRED.lines]
    assert datetime.fromisoformat(document["lines"][0]["at"]) == T0
    assert document["deadlines"][0] == {
        "name": "handoff.answer_after_second_reminder",
        "due": "2026-04-15T16:00:00+00:00",
        "outcome": "pending",
    }
    assert document["summary"]["overdue"] is True and document["waiting_for"] == REFERRED.waiting_for


def test_stuck_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_temporal(monkeypatch)
    monkeypatch.setattr(case_cli, "service_database_urls", lambda: {"cases": "postgresql://ledger"})
    monkeypatch.setattr(
        "operations.stuck_work.stuck", _returns([{"workflow_id": "complaint:TS-1", "why": "acceptance overdue"}])
    )
    monkeypatch.setattr(
        "operations.stuck_work.dead_letters",
        lambda urls, limit: [{"workflow_id": "C-2", "why": "case.joined set aside by cases/cases-ledger"}],
    )
    document = _json_of(["stuck"], "stuck")
    assert [row["workflow_id"] for row in document["stuck"]] == ["complaint:TS-1", "C-2"]


def test_audit_ledger_json_keeps_the_exit_code(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_temporal(monkeypatch)
    monkeypatch.setattr(ledger_audit_cli, "service_database_urls", lambda: {"cases": "c", "sanctions": "s"})
    monkeypatch.setattr(
        "operations.ledger_audit.audit_ledger",
        _returns((3, [Disagreement("case:C-1", "C-1", ["stage: ledger verification, workflow order"])])),
    )
    monkeypatch.setattr("operations.listing_audit.audit_listings", _returns((2, [])))
    document = _json_of(["audit", "ledger"], "audit ledger", exit_code=1)
    assert document["compared"] == 5 and document["fix"] is False
    assert document["audits"] == [
        {"what": "processes", "compared": 3, "disagree": 1},
        {"what": "listings", "compared": 2, "disagree": 0},
    ]
    assert document["disagreements"][0]["differences"] == ["stage: ledger verification, workflow order"]


def test_audit_verify_json(monkeypatch: pytest.MonkeyPatch) -> None:
    from deploy.engines import SERVICES

    monkeypatch.setattr("operations.audit_chain_cli.service_database_urls", lambda: dict.fromkeys(SERVICES, "db"))
    monkeypatch.setattr(
        "operations.audit_chain.verify_chain",
        lambda url, service: (
            ChainReport(service, 4, broken_at=3, reason="changed")
            if service == "cases"
            else ChainReport(service, 7, head=bytes.fromhex("ab" * 32))
        ),
    )
    document = _json_of(["audit", "verify"], "audit verify", exit_code=1)
    by_service = {row["service"]: row for row in document["services"]}
    assert set(by_service) == set(SERVICES)
    assert by_service["cases"]["intact"] is False and by_service["cases"]["broken_at"] == 3
    assert by_service["intake"] == {
        "service": "intake",
        "rows": 7,
        "intact": True,
        "broken_at": None,
        "reason": "",
        "head": "ab" * 32,
    }


def test_trace_json(monkeypatch: pytest.MonkeyPatch) -> None:
    span = {
        "name": "POST /v1/complaints",
        "start_time": "2026-03-02T01:30:00.000000Z",
        "context": {"trace_id": "0x" + "1" * 32, "span_id": "0x" + "2" * 16},
        "resource": {"attributes": {"service.name": "intake-api"}},
    }
    monkeypatch.setattr("operations.operator.spans_for", lambda data_dir, subject: [span])
    document = _json_of(["trace", "TS-1"], "trace")
    assert document == {"subject": "TS-1", "spans": [span]}


def test_replay_json(monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_temporal(monkeypatch)
    monkeypatch.setattr(cli, "all_workflow_types", list)
    monkeypatch.setattr(
        "operations.operator.replay",
        _returns(
            [
                {"workflow_id": "complaint:TS-1", "result": "ok"},
                {"workflow_id": "case:C-1", "result": "FAILED: nondeterminism"},
            ]
        ),
    )
    document = _json_of(["replay"], "replay", exit_code=1)
    assert (document["replayed"], document["failed"]) == (2, 1)


def test_calendar_status_json(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("operations.calendar_cli.temporal_client", _returns(object()))
    monkeypatch.setattr("operations.calendar_cli.operator_settings", lambda: None)
    status = CalendarStatus(
        (2004, 2026),
        [2027],
        2028,
        examined=3,
        unanswered=["case:C-9: timed out"],
        provisional=[
            ProvisionalDeadline(
                "complaint:TS-1", "acceptance", date(2028, 1, 10), "2028 年官方安排未录入，按周末及法定节假日暂定"
            )
        ],
    )
    monkeypatch.setattr("operations.calendar.calendar_status", _returns(status))
    document = _json_of(["calendar", "status"], "calendar status")
    assert document["package_years"] == [2004, 2026] and document["fallback_from"] == 2028
    assert document["provisional"][0]["due_date"] == "2028-01-10"
    assert document["provisional"][0]["note"].startswith("2028 年官方安排未录入")


def test_stack_status_json(monkeypatch: pytest.MonkeyPatch) -> None:
    class Ports:
        postgres, temporal, kafka = 54320, 7233, 9092

    class FakeStack:
        ports = Ports()

        def status(self) -> list[dict[str, object]]:
            return [
                {"name": "intake-api", "url": "http://127.0.0.1:8001", "ready": True, "http": 200},
                {"name": "cases-api", "url": "http://127.0.0.1:8002", "ready": False, "http": None},
            ]

    monkeypatch.setattr(cli, "development_stack", FakeStack)
    monkeypatch.setattr("deploy.engines.port_open", lambda host, port: port != 9092)
    document = _json_of(["stack", "status"], "stack status")
    assert [(e["name"], e["up"]) for e in document["engines"]] == [
        ("PostgreSQL", True),
        ("Temporal", True),
        ("Kafka", False),
    ]
    assert document["processes"][1] == {
        "name": "cases-api",
        "url": "http://127.0.0.1:8002",
        "ready": False,
        "http": None,
    }


def test_a_shape_refuses_what_it_does_not_describe() -> None:
    # The shapes are strict enough to fail: a line without its text is not a story.
    with pytest.raises(jsonschema_rs.ValidationError):
        jsonschema_rs.validate(
            SHAPES["case show"],
            {
                "subject": "TS-1",
                "workflow_id": "complaint:TS-1",
                "status": "RUNNING",
                "summary": {},
                "deadlines": [],
                "waiting_for": [],
                "lines": [{"at": "x", "source": "event"}],
            },
        )
