"""Importing clues from another platform: one result per row, each row held to the importer's county.

A clerk imports for its own county only: a row naming another county is refused in its result (the rest of
the file goes on). A row that repeats a clue imported before answers `duplicate`; it names the first
complaint only when the importer may see that complaint's county, so an import cannot be used to learn
another county's complaint numbers.
"""

from __future__ import annotations

import io
from typing import Any, Literal

from services.common.auth import Principal
from services.intake import clue_parsing, store
from services.intake.submissions import Intake

OUT_OF_SCOPE = "This client imports clues for its own county only; the row names county {county}."
DUPLICATE_ELSEWHERE = "This clue was imported before, in a county this client does not see."


async def import_clues(
    service: Intake, principal: Principal, data: bytes, fmt: Literal["csv", "jsonl"], source: str
) -> dict[str, Any]:
    """File every valid row in the importer's scope; the report the route answers with."""
    results: list[dict[str, Any]] = []
    stream = io.StringIO(data.decode("utf-8-sig"))
    for parsed in clue_parsing.parse_clues(stream, fmt, counties=service.counties, today=service.today()):
        results.append(await _import_row(service, principal, parsed, source))
    counts: dict[str, int] = {}
    for r in results:
        counts[r["result"]] = counts.get(r["result"], 0) + 1
    return {"source": source, "rows": len(results), "counts": counts, "results": results}


async def _import_row(
    service: Intake, principal: Principal, parsed: clue_parsing.ParsedClue, source: str
) -> dict[str, Any]:
    if parsed.errors:
        return {
            "row": parsed.row,
            "result": "invalid",
            "errors": [{"field": e.field, "code": e.code, "message": e.message} for e in parsed.errors],
        }
    assert parsed.submission is not None
    county = parsed.submission.county_code
    if not principal.may_see_county(county):
        return {
            "row": parsed.row,
            "result": "refused",
            "errors": [{"field": "county_code", "code": "out_of_scope", "message": OUT_OF_SCOPE.format(county=county)}],
        }
    fingerprint = clue_parsing.clue_fingerprint(parsed.submission, key=service.reference_key)
    try:
        filed = await service.file(
            parsed.submission, evidence=[], client_ip=None, clue=(fingerprint, source), principal=principal
        )
    except store.DuplicateClue as dup:
        if principal.may_see_county(dup.county_code):
            return {"row": parsed.row, "result": "duplicate", "complaint_id": dup.complaint_id}
        return {"row": parsed.row, "result": "duplicate", "reason": DUPLICATE_ELSEWHERE}
    return {"row": parsed.row, "result": "filed", "complaint_id": filed.complaint_id}
