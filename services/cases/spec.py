"""What the cases service is: its name, schema, ports and the engines each of its processes needs."""

from pathlib import Path

from services.common.service import ServiceSpec

SPEC = ServiceSpec(
    name="cases",
    title="Cases (案件台账)",
    description=(
        "The case ledger: complaints aggregated by employer and project, inspector actions answered at once, queues, timelines and statistics."
    ),
    migrations=Path(__file__).parent / "migrations",
    api_port=8002,
    relay_port=8102,
    worker_port=8202,
    api_needs_kafka=True,
    api_needs_temporal=True,
    has_worker=True,
    openapi_tags=[
        {"name": "ledger", "description": "The case ledger (台账): queue, case, timeline, merge and split."},
        {"name": "actions", "description": "Inspector actions, validated against the live process."},
        {"name": "lifecycle", "description": "Requests of the lifecycle activities, idempotent by Idempotency-Key."},
        {"name": "reports", "description": "Statistics, CSV export, charts and the scheduled reports."},
    ],
)
