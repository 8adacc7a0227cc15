"""Placeholder of the webhook service's contract (replaced by the webhooks branch)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection


@dataclass(frozen=True)
class WebhookEvent:
    tenant_id: str
    event: str
    data: dict


async def queue_webhook_events(conn: AsyncConnection, events: Sequence[WebhookEvent]) -> int:
    return 0
