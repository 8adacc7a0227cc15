"""Following computations as they change: the current state first, then every change (for one computation), or
every computation of the viewer's scope as it finishes. Both end when the viewer's token expires."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator

from sqlalchemy.engine import Row

from graphql_app import access, metrics
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.notifications import TERMINAL_STATUSES, Notifications
from graphql_app.services.computation_records import get_computation, load_computation


async def next_event(events: asyncio.Queue, viewer: Principal):
    """The next event, or None once the viewer's token has expired (an SSE stream lives no longer than its
    token; a WebSocket is closed at the same moment)."""
    timeout = None if viewer.expires_at is None else viewer.expires_at - time.time()
    if timeout is not None and timeout <= 0:
        return None
    try:
        async with asyncio.timeout(timeout):
            return await events.get()
    except TimeoutError:
        return None


async def follow_computation(
    db: Database, hub: Notifications, viewer: Principal, computation_id: uuid.UUID
) -> AsyncIterator[Row]:
    """The computation's current state, then each change, until a terminal state (NOT_FOUND if not visible)."""
    # Subscribe before reading, so a change committed in between is not missed.
    async with hub.subscribe() as events:
        row = await get_computation(db, viewer, computation_id)
        yield row
        seen = (row.status, row.updated_at)
        while row.status not in TERMINAL_STATUSES:
            event = await next_event(events, viewer)
            if event is None:
                return
            if event.resync:
                row = await get_computation(db, viewer, computation_id)
            elif event.computation_id == computation_id:
                row = await hub.state_for(event, lambda e=event: load_computation(db, e.computation_id))
            else:
                continue
            if (row.status, row.updated_at) != seen:
                seen = (row.status, row.updated_at)
                metrics.record_fanout(event.received_at)
                yield row


async def completed_row(db: Database, hub: Notifications, event) -> Row | None:
    """The finished computation an event reports, read once per event however many ask; None for other events."""
    if event.resync or not event.is_terminal:
        return None
    return await hub.state_for(event, lambda: load_computation(db, event.computation_id))


async def completed_computations(db: Database, hub: Notifications, viewer: Principal) -> AsyncIterator[Row]:
    """Every computation the viewer may see (``access.computation_visible``), as it finishes."""
    async with hub.subscribe() as events:
        while True:
            event = await next_event(events, viewer)
            if event is None:
                return
            row = await completed_row(db, hub, event)
            if row is not None and access.computation_visible(viewer, row):
                metrics.record_fanout(event.received_at)
                yield row
