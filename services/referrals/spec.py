"""What the referrals service is: its name, schema, ports and the engines each of its processes needs."""

from pathlib import Path

from services.common.service import ServiceSpec

SPEC = ServiceSpec(
    name="referrals",
    title="Referrals (交办与移送)",
    description=(
        "Department handoffs with their follow-up ladder, the letters, criminal, legal-aid and arbitration referrals, "
        "and the ladder of letters against projects whose early warnings stay open."
    ),
    migrations=Path(__file__).parent / "migrations",
    api_port=8003,
    relay_port=8103,
    worker_port=8203,
    api_needs_kafka=True,
    api_needs_temporal=True,
    has_worker=True,
    openapi_tags=[
        {"name": "lifecycle", "description": "Requests of the lifecycle activities, idempotent by Idempotency-Key."},
        {"name": "letters", "description": "Numbered letters and forms as PDF documents, with their SHA-256."},
        {"name": "handoffs", "description": "Department handoffs (交办): inbox, acknowledge, respond, return."},
        {"name": "referrals", "description": "Police, procuratorate, arbitration and legal-aid referrals and replies."},
        {"name": "departments", "description": "The configured departments, deadlines and ladder settings."},
        {
            "name": "projects",
            "description": "The ladder against projects (四函两单): the letters an open early warning of a project climbs.",
        },
    ],
)
