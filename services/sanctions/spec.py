"""What the sanctions service is: its name, schema, ports and the engines each of its processes needs."""

from pathlib import Path

from services.common.service import ServiceSpec

SPEC = ServiceSpec(
    name="sanctions",
    title="Sanctions (失信惩戒)",
    description=(
        "The joint-discipline blacklist over its whole life, major-violation publication and the criminal-transfer register."
    ),
    migrations=Path(__file__).parent / "migrations",
    api_port=8004,
    relay_port=8104,
    worker_port=8204,
    api_needs_kafka=True,
    api_needs_temporal=True,
    has_worker=True,
    openapi_tags=[
        {"name": "lifecycle", "description": "Requests of the lifecycle activities, idempotent by Idempotency-Key."},
        {"name": "listings", "description": "The blacklist procedure: persons, statements, review, credit repair."},
        {"name": "publication", "description": "The quarterly list of major violations: drafted, approved, published."},
        {"name": "register", "description": "The criminal-transfer register (移送公安) and its statistics."},
        {
            "name": "interviews",
            "description": "Joint interviews (联合约谈) of employers with repeated cases: "
            "proposals, scheduling with letters, the record and the follow-up.",
        },
        {"name": "public", "description": "Public, without a token: the blacklist and the published major violations."},
    ],
)
