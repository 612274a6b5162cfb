"""The webhooks service's settings (read once in `main()`, passed down)."""

from __future__ import annotations

from pydantic import Field, field_validator

from services.common.service import ServiceSettings
from services.webhooks.domain import parse_schedule


class WebhooksSettings(ServiceSettings):
    # A receiver's URL is https. A development stack (`make run`, the tests) also takes http to 127.0.0.1/::1/
    # localhost, where its test receivers listen; a deployment leaves this false.
    allow_http_loopback: bool = Field(False, alias="ANXIN_WEBHOOKS_ALLOW_HTTP_LOOPBACK")
    # The pause after each failed attempt, in seconds; after the last, the delivery is a dead letter. The
    # default tries 7 times over about 7 hours.
    retry_schedule: str = Field("5,30,120,600,3600,21600", alias="ANXIN_WEBHOOKS_RETRY_SCHEDULE")
    # How long a rotated-out secret still signs beside the new one.
    secret_grace_seconds: int = Field(24 * 3600, alias="ANXIN_WEBHOOKS_SECRET_GRACE_SECONDS", ge=0)
    # A receiver that answers nothing within this is a failed attempt.
    delivery_timeout_seconds: float = Field(10.0, alias="ANXIN_WEBHOOKS_DELIVERY_TIMEOUT_SECONDS", gt=0)
    # How often the dispatcher looks for due deliveries when it is not woken, and how many it sends at once.
    dispatch_interval_seconds: float = Field(1.0, alias="ANXIN_WEBHOOKS_DISPATCH_INTERVAL_SECONDS", gt=0)
    dispatch_batch: int = Field(20, alias="ANXIN_WEBHOOKS_DISPATCH_BATCH", ge=1)

    @field_validator("retry_schedule")
    @classmethod
    def _schedule(cls, value: str) -> str:
        parse_schedule(value)
        return value

    @property
    def retry_pauses(self) -> tuple[float, ...]:
        return parse_schedule(self.retry_schedule)
