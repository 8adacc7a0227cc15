"""Webhooks: register, list and delete them, and read their delivery log (organisation admins, own tenant)."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.services import webhooks as webhook_service
from schema.connections import Connection
from schema.enums import WebhookEvent
from schema.types.webhook import Webhook
from schema.types.webhook_creation import WebhookCreation
from schema.types.webhook_delivery import WebhookDelivery, delivery_connection


async def webhooks(info: Info) -> list[Webhook]:
    rows = await webhook_service.list_webhooks(info.context.db, info.context.viewer)
    return [Webhook.from_row(row) for row in rows]


async def webhook_deliveries(
    info: Info,
    webhook_id: Annotated[strawberry.ID, strawberry.argument(description="The webhook's UUID.")],
    first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
    after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
) -> Connection[WebhookDelivery]:
    page = await webhook_service.list_webhook_deliveries(
        info.context.db,
        info.context.viewer,
        validation.parse_uuid(webhook_id, "webhookId"),
        first=validation.page_size(first),
        after=after,
    )
    return delivery_connection(page)


async def create_webhook(
    info: Info,
    url: Annotated[str, strawberry.argument(description="An https:// URL with a public host (≤ 2048 characters).")],
    events: Annotated[list[WebhookEvent], strawberry.argument(description="The events to receive (at least one).")],
) -> WebhookCreation:
    row, secret = await webhook_service.create_webhook(
        info.context.db,
        info.context.viewer,
        url,
        [event.value for event in events],
        webhook_service.WebhookPolicy.from_settings(info.context.services.settings),
    )
    return WebhookCreation(webhook=Webhook.from_row(row), secret=secret)


async def delete_webhook(
    info: Info, id: Annotated[strawberry.ID, strawberry.argument(description="The webhook's UUID.")]
) -> strawberry.ID:
    deleted = await webhook_service.delete_webhook(info.context.db, info.context.viewer, validation.parse_uuid(id))
    return strawberry.ID(str(deleted))
