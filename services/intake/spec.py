"""What the intake service is: its name, schema, ports and the engines each of its processes needs."""

from pathlib import Path

from services.common.service import ServiceSpec

SPEC = ServiceSpec(
    name="intake",
    title="Intake (受理入口)",
    description=(
        "Where complaints enter: the worker's scan-to-complain form, the clerks' API, clue imports and site QR posters. A complaint is committed with its event in one transaction, so nothing is lost even when the rest of the system is down."
    ),
    migrations=Path(__file__).parent / "migrations",
    api_port=8001,
    relay_port=8101,
    worker_port=8201,
    api_needs_kafka=False,
    api_needs_temporal=True,
    has_worker=True,
)
