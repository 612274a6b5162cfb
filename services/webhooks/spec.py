"""What the webhooks service is: its name, schema, ports and the engines each of its processes needs."""

from pathlib import Path

from services.common.service import ServiceSpec

SPEC = ServiceSpec(
    name="webhooks",
    title="Webhooks (事件推送)",
    description=(
        "The agencies' webhook subscriptions: the events of their scope delivered to their URL, signed as the "
        "Standard Webhooks specification says, retried with backoff, dead letters listed and replayed."
    ),
    migrations=Path(__file__).parent / "migrations",
    # The next ports free after the monitoring service's (8007).
    api_port=8008,
    relay_port=8108,
    worker_port=8208,
    # It publishes no events (no relay); its dispatcher consumes every topic and sends the deliveries.
    has_worker=True,
    has_relay=False,
    worker_process="dispatcher",
    openapi_tags=[
        {"name": "subscriptions", "description": "Webhook subscriptions, their secrets, deliveries and replays."},
    ],
)
