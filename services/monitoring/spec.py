"""What the monitoring service is: its name, schema, ports and the engines each of its processes needs."""

from pathlib import Path

from services.common.service import ServiceSpec

SPEC = ServiceSpec(
    name="monitoring",
    title="Monitoring (保障农民工工资支付监控)",
    description=(
        "The project register (在建项目台账): projects under construction with their companies, dedicated wage "
        "account, wage deposit and QR poster sites, entered by hand or imported from CSV/XLSX; and each "
        "project's monthly payroll and attendance feeds, with the month's summary; a monitoring workflow per "
        "project checks each month and raises early warnings (预警)."
    ),
    migrations=Path(__file__).parent / "migrations",
    # The next ports free after the other processes': 8005 is the token issuer's, 8006 the console's.
    api_port=8007,
    relay_port=8107,
    worker_port=8207,
    has_worker=True,
    openapi_tags=[
        {"name": "projects", "description": "The project register: register, read, change and import projects."},
        {
            "name": "feeds",
            "description": "The monthly payroll and attendance feeds of a project, and the month's summary.",
        },
        {
            "name": "warnings",
            "description": "The early warnings (预警) the monthly checks raise, and their resolution.",
        },
    ],
)
