"""Statistics and reports: figures per county and city for a period, CSV, and a bar chart (Pillow)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw, ImageFont
from psycopg_pool import AsyncConnectionPool

from services.cases import periods, record_store, report_days, report_figures, store
from services.contracts.case_ledger_events import ReportProduced
from services.contracts.events import EventEnvelope

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
CHART_FIGURES = ("clues_received", "accepted", "confirmed_arrears", "resolved")
CHART_COLOURS = ("#4e79a7", "#59a14f", "#e15759", "#f28e2b")


async def figures(conn: store.Conn, period: periods.Period, county: str | None = None) -> dict[str, Any]:
    by_county = report_figures.compute_figures(await report_days.report_facts(conn, period, county))
    if county is not None:
        by_county.setdefault(county, report_figures.Figures())  # a county with nothing to count still has its row
    rows = report_figures.report_rows(by_county)
    if county is not None:
        # A county inspector sees their county only, not the city's sum of other counties.
        rows = [r for r in rows if r["level"] == "county"]
    return {
        "period": period.kind,
        "label": period.label,
        "start": period.start.isoformat(),
        "end": period.end.isoformat(),
        "rows": rows,
    }


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if CJK_FONT.exists():
        return ImageFont.truetype(str(CJK_FONT), size)
    return ImageFont.load_default()


def render_chart(title: str, rows: list[dict[str, Any]]) -> bytes:
    """A grouped bar chart, one group per area (counties, then cities), one bar per figure. PNG bytes."""
    areas = rows or [{"area": "—", **dict.fromkeys(CHART_FIGURES, 0)}]
    width = max(640, 140 + len(areas) * 150)
    height = 460
    left, right, top, bottom = 70, 30, 70, 90
    image = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(image)
    draw.text((left, 20), title, fill="black", font=_font(22))
    peak = max([int(r.get(f) or 0) for r in areas for f in CHART_FIGURES] + [1])
    plot_h = height - top - bottom
    # Axis and five gridlines with their values.
    draw.line((left, top, left, height - bottom), fill="black")
    draw.line((left, height - bottom, width - right, height - bottom), fill="black")
    small = _font(13)
    for i in range(6):
        value = peak * i / 5
        y = height - bottom - plot_h * i / 5
        draw.line((left - 4, y, width - right, y), fill="#dddddd")
        draw.text((8, y - 8), f"{value:.0f}", fill="black", font=small)
    group_w = (width - left - right) / len(areas)
    bar_w = group_w * 0.7 / len(CHART_FIGURES)
    for g, row in enumerate(areas):
        x0 = left + g * group_w + group_w * 0.15
        for b, (name, colour) in enumerate(zip(CHART_FIGURES, CHART_COLOURS, strict=True)):
            value = int(row.get(name) or 0)
            h = plot_h * value / peak
            x = x0 + b * bar_w
            draw.rectangle((x, height - bottom - h, x + bar_w - 2, height - bottom), fill=colour)
            draw.text((x, height - bottom - h - 16), str(value), fill="black", font=small)
        label = f"{row['area']}{'(市)' if row.get('level') == 'city' else ''}"
        draw.text((x0, height - bottom + 6), label, fill="black", font=small)
    # Legend.
    lx = left
    for name, colour in zip(CHART_FIGURES, CHART_COLOURS, strict=True):
        draw.rectangle((lx, height - 40, lx + 14, height - 26), fill=colour)
        draw.text((lx + 18, height - 42), report_figures.FIGURE_LABELS[name], fill="black", font=small)
        lx += 120
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


def report_id(period: periods.Period) -> str:
    return f"R-{period.kind}-{period.label}"


async def produce(pool: AsyncConnectionPool, period: periods.Period) -> dict[str, Any]:
    """Compute, render and store the period's report with its `report.produced` event (idempotent by period)."""
    async with pool.connection() as conn:
        result = await figures(conn, period)
        csv_text = report_figures.report_csv(period, result["rows"])
        title = f"欠薪线索办理情况 {period.label}（{period.start} 至 {period.end}）"
        chart = render_chart(title, result["rows"])
        rid = report_id(period)
        cities = [r for r in result["rows"] if r["level"] == "city"]
        totals: dict[str, Any] = cities[0] if len(cities) == 1 else {}
        event = EventEnvelope.wrap(
            ReportProduced(
                report_id=rid, kind=period.kind, period_start=period.start, period_end=period.end, totals=totals
            ),
            subject=rid,
            producer="cases",
        )
        async with conn.transaction():
            await record_store.save_report(
                conn, report_id=rid, period=period, figures=result, csv_text=csv_text, chart_png=chart, event=event
            )
    return {
        "report_id": rid,
        **result,
        "csv_url": f"/v1/reports/{rid}.csv",
        "chart_url": f"/v1/reports/{rid}/chart.png",
    }
