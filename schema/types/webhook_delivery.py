"""The `WebhookDelivery` type: one event sent (or being sent) to one webhook, and how its attempts went."""

from __future__ import annotations

from datetime import datetime

import strawberry
from sqlalchemy.engine import Row

from graphql_app.services.webhooks import DeliveryPage
from schema.connections import Connection, page_connection
from schema.enums import WebhookDeliveryStatus, WebhookEvent


@strawberry.type(description="One event sent (or being sent) to a webhook: the delivery log.")
class WebhookDelivery:
    id: strawberry.ID = strawberry.field(description="The delivery's UUID (also the `X-Matchgraph-Delivery` header).")
    event: WebhookEvent = strawberry.field(description="The event delivered.")
    status: WebhookDeliveryStatus = strawberry.field(description="Where the delivery is.")
    attempts: int = strawberry.field(description="Attempts made so far.")
    last_status_code: int | None = strawberry.field(description="HTTP status of the last attempt's response, if any.")
    last_error: str | None = strawberry.field(description="Why the last attempt failed, if it did.")
    next_attempt_at: datetime | None = strawberry.field(description="When the next attempt is due (PENDING only).")
    delivered_at: datetime | None = strawberry.field(description="When the endpoint accepted it.")
    created_at: datetime = strawberry.field(description="When the event was queued.")
    body: str = strawberry.field(description="The exact JSON body sent and signed.")

    @classmethod
    def from_row(cls, row: Row) -> WebhookDelivery:
        return cls(
            id=str(row.id),
            event=WebhookEvent(row.event),
            status=WebhookDeliveryStatus(row.status),
            attempts=row.attempts,
            last_status_code=row.last_status_code,
            last_error=row.last_error,
            next_attempt_at=row.next_attempt_at,
            delivered_at=row.delivered_at,
            created_at=row.created_at,
            body=row.body,
        )


def delivery_connection(page: DeliveryPage) -> Connection[WebhookDelivery]:
    """A Connection of a page of the delivery log."""
    return page_connection(page, [WebhookDelivery.from_row(row) for row in page.rows])
