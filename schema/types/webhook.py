"""The `Webhook` type: an organisation's endpoint for events (its secret is never shown here)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app import validation
from graphql_app.services.webhooks import list_webhook_deliveries
from schema.connections import Connection
from schema.enums import WebhookEvent
from schema.types.webhook_delivery import WebhookDelivery, delivery_connection


@strawberry.type(description="An endpoint of your organisation that receives events (docs/webhooks.md).")
class Webhook:
    id: strawberry.ID = strawberry.field(description="The webhook's UUID.")
    url: str = strawberry.field(description="Where events are POSTed.")
    events: list[WebhookEvent] = strawberry.field(description="The events it receives.")
    created_at: datetime = strawberry.field(description="When it was registered.")
    db_id: strawberry.Private[uuid.UUID]

    @classmethod
    def from_row(cls, row: Row) -> Webhook:
        return cls(
            id=str(row.id),
            url=row.url,
            events=[WebhookEvent(event) for event in row.events],
            created_at=row.created_at,
            db_id=row.id,
        )

    @strawberry.field(description="Its delivery log, newest first.")
    async def deliveries(
        self,
        info: Info,
        first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    ) -> Connection[WebhookDelivery]:
        page = await list_webhook_deliveries(
            info.context.db, info.context.viewer, self.db_id, first=validation.page_size(first), after=after
        )
        return delivery_connection(page)
