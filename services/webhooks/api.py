"""HTTP routes of the webhooks service: thin, HTTP in, command call, answer out (docs/api.md, "Webhooks").

- `POST|GET /v1/subscriptions`, `GET|PATCH|DELETE /v1/subscriptions/{id}`: an agency's subscriptions.
- `POST /v1/subscriptions/{id}/secret`: a new signing secret (the old one signs beside it for a grace period).
- `GET /v1/subscriptions/{id}/deliveries?status=dead`: its deliveries (cursor pages).
- `POST /v1/subscriptions/{id}/deliveries/{delivery_id}/replay`, `POST /v1/subscriptions/{id}/dead-letters/replay`:
  send a dead letter, or all of them, again.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from services.common.auth import Principal, require_roles
from services.common.pagination import Cursor, Limit
from services.webhooks.commands import Subscriptions
from services.webhooks.domain import SUBSCRIBER_ROLES, DeliveryStatus

router = APIRouter(prefix="/v1", tags=["subscriptions"])

SUBSCRIBERS = require_roles(*sorted(SUBSCRIBER_ROLES))


def subscriptions(request: Request) -> Subscriptions:
    return request.app.state.subscriptions  # type: ignore[no-any-return]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(
        max_length=2000,
        examples=["https://hr.example.gov.cn/anxin/webhooks"],
        description="Where the events are POSTed: https (http to loopback only where a development "
        "deployment allows it)",
    )
    event_types: list[str] = Field(
        max_length=100,
        examples=[["handoff.sent", "handoff.escalated"]],
        description="Event types (docs/events) within the caller's scope",
    )
    description: str | None = Field(None, max_length=500)


class SubscriptionChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(None, max_length=2000)
    event_types: list[str] | None = Field(None, max_length=100)
    description: str | None = Field(None, max_length=500)
    status: Literal["active", "disabled"] | None = Field(
        None, description="`active` again after the receiver answered 410 Gone or after a pause; `disabled` pauses it"
    )


@router.post(
    "/subscriptions",
    status_code=201,
    summary="Subscribe a URL to event types of the caller's scope; the "
    "answer holds the signing secret, shown this once",
)
async def post_subscription(request: Request, body: SubscriptionIn, principal: Principal = SUBSCRIBERS) -> JSONResponse:
    created = await subscriptions(request).subscribe(principal, body.url, body.event_types, body.description)
    return JSONResponse(created, status_code=201)


@router.get("/subscriptions", summary="The caller's subscriptions, newest first, paged by cursor")
async def list_subscriptions(
    request: Request, limit: Limit = 50, cursor: Cursor = None, principal: Principal = SUBSCRIBERS
) -> dict[str, Any]:
    return await subscriptions(request).list(principal, limit=limit, cursor=cursor)


@router.get("/subscriptions/{subscription_id}", summary="One of the caller's subscriptions")
async def get_subscription(
    request: Request, subscription_id: str, principal: Principal = SUBSCRIBERS
) -> dict[str, Any]:
    return await subscriptions(request).read(principal, subscription_id)


@router.patch(
    "/subscriptions/{subscription_id}", summary="Change a subscription's URL, event types, description or status"
)
async def patch_subscription(
    request: Request, subscription_id: str, body: SubscriptionChange, principal: Principal = SUBSCRIBERS
) -> dict[str, Any]:
    return await subscriptions(request).change(principal, subscription_id, body.model_dump(exclude_unset=True))


@router.delete("/subscriptions/{subscription_id}", status_code=204, summary="Delete a subscription and its deliveries")
async def delete_subscription(request: Request, subscription_id: str, principal: Principal = SUBSCRIBERS) -> Response:
    await subscriptions(request).delete(principal, subscription_id)
    return Response(status_code=204)


@router.post(
    "/subscriptions/{subscription_id}/secret",
    summary="Rotate the signing secret: a new one, the old one still signing beside it for the grace period",
)
async def rotate_secret(request: Request, subscription_id: str, principal: Principal = SUBSCRIBERS) -> dict[str, Any]:
    return await subscriptions(request).rotate_secret(principal, subscription_id)


@router.get(
    "/subscriptions/{subscription_id}/deliveries",
    summary="A subscription's deliveries, newest first; `status=dead` lists its dead letters",
)
async def list_deliveries(
    request: Request,
    subscription_id: str,
    status: DeliveryStatus | None = None,
    limit: Limit = 50,
    cursor: Cursor = None,
    principal: Principal = SUBSCRIBERS,
) -> dict[str, Any]:
    return await subscriptions(request).deliveries(principal, subscription_id, status, limit=limit, cursor=cursor)


@router.post(
    "/subscriptions/{subscription_id}/deliveries/{delivery_id}/replay",
    summary="Send a dead letter again, from its first attempt",
)
async def replay_delivery(
    request: Request, subscription_id: str, delivery_id: str, principal: Principal = SUBSCRIBERS
) -> dict[str, Any]:
    return await subscriptions(request).replay(principal, subscription_id, delivery_id)


@router.post(
    "/subscriptions/{subscription_id}/dead-letters/replay",
    summary="Send every dead letter of the subscription again, from their first attempt",
)
async def replay_dead_letters(
    request: Request, subscription_id: str, principal: Principal = SUBSCRIBERS
) -> dict[str, Any]:
    return await subscriptions(request).replay(principal, subscription_id, None)
