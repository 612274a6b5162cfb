"""Attacks through clue import, performed on the real stack and refused (docs/security.md lists them):

- a clerk imports clues into another county (its inspectors would then read those workers' identities);
- a clerk imports a row that repeats another county's clue, to learn that county's complaint number.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from tests.support.factories import ComplaintTemplate, seed

CLUES = ComplaintTemplate(
    employer_name="邯郸市线索导入测试劳务有限公司",
    project_name="线索导入测试安置房项目",
    period=("2026-05-01", "2026-08-31"),
    description="五月到八月在该项目干活，工资一直没有结清。",
    phone_prefix="137",
    credit_series="MC",
)


def _import(client: httpx.Client, *rows: dict[str, Any]) -> list[dict[str, Any]]:
    lines = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n"
    response = client.post(
        "/v1/clues/import",
        files={"file": ("clues.jsonl", lines.encode(), "application/x-ndjson")},
        data={"source": "national-platform"},
    )
    assert response.status_code == 200, response.text
    return list(response.json()["results"])


def test_a_clerk_imports_clues_for_its_own_county_only(client: Callable[[str, str | None], httpx.Client]) -> None:
    clerk, city = client("intake-api", "clerk-130402"), client("intake-api", "city-office")
    # 130403's clue, imported by the city office (which imports for every county).
    theirs = CLUES.body(seed(), county="130403")
    [first] = _import(city, theirs)
    assert first["result"] == "filed", first
    their_id = first["complaint_id"]

    # The attack: 130402's clerk imports a row for 130403, and a row repeating 130403's clue under its own
    # county (same worker, employer, project and period: the fingerprint does not include the county).
    own = CLUES.body(seed(), county="130402")
    into_other = CLUES.body(seed(), county="130403")
    repeat = {**theirs, "county_code": "130402"}
    results = _import(clerk, own, into_other, repeat)
    assert [r["result"] for r in results] == ["filed", "refused", "duplicate"], results
    assert results[1]["errors"][0]["code"] == "out_of_scope" and "complaint_id" not in results[1]
    assert "complaint_id" not in results[2] and their_id not in json.dumps(results)

    # Nothing was filed for the refused row (the city office's import of it is new), and the importer who
    # sees the first complaint's county still learns which complaint the repeat was.
    assert [r["result"] for r in _import(city, into_other)] == ["filed"]
    assert _import(city, repeat) == [{"row": 1, "result": "duplicate", "complaint_id": their_id}]
