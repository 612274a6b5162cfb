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
        "project checks each month and raises early warnings (预警); and the payouts to workers from a project's "
        "wage deposit or the county's emergency fund (动用工资保证金, 应急周转金先行垫付), each a workflow from the "
        "city office's approval to the deposit's top-up or the advance's recovery, with each county's balances."
    ),
    migrations=Path(__file__).parent / "migrations",
    # The next ports free after the other processes': 8005 is the token issuer's, 8006 the console's.
    api_port=8007,
    relay_port=8107,
    worker_port=8207,
    has_worker=True,
    # The city office's decision on a payout and the payout's records are Temporal Updates of its workflow.
    api_needs_temporal=True,
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
        {
            "name": "payouts",
            "description": "Payouts to workers from a project's wage deposit or the county's emergency fund: the city "
            "office's decision, the bank's payout, the deposit's top-up and the advance's recovery.",
        },
        {
            "name": "funds",
            "description": "Each county's emergency fund (reserve, advanced, recovered, available) and wage deposits.",
        },
    ],
)
