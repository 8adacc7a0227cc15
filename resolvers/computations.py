"""The `computation` query and the computation subscriptions (graphql-transport-ws, graphql-ws and SSE).

Subscriptions never use the connection's DataLoaders: a WebSocket context lives as long as the connection,
so every event reads fresh state.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.errors import MatchgraphError
from graphql_app.jobs.events import TERMINAL_STATUSES, ComputationEventHub
from graphql_app.services import computations as computation_service
from schema.types.computation import Computation

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The computation's UUID.")]


class SubscriptionsUnavailable(MatchgraphError):
    code = "SERVICE_UNAVAILABLE"


def _hub(info: Info) -> ComputationEventHub:
    hub = info.context.services.events
    if hub is None:
        raise SubscriptionsUnavailable("Subscriptions are not available on this server process.")
    return hub


async def _next_event(events, viewer):
    """The next event, or None once the viewer's token has expired (the subscription then ends: an SSE stream
    lives no longer than its token; a WebSocket is closed at the same moment)."""
    timeout = None if viewer.expires_at is None else viewer.expires_at - time.time()
    if timeout is not None and timeout <= 0:
        return None
    try:
        async with asyncio.timeout(timeout):
            return await events.get()
    except TimeoutError:
        return None


async def computation(info: Info, id: IdArg) -> Computation:
    row = await computation_service.get_computation(info.context.db, info.context.viewer, validation.parse_uuid(id))
    return Computation.from_row(row)


async def computation_updates(info: Info, id: IdArg) -> AsyncGenerator[Computation, None]:
    """Current state first, then every change; completes after SUCCEEDED or FAILED."""
    viewer = info.context.viewer
    computation_id = validation.parse_uuid(id)
    db = info.context.db
    # Subscribe before reading, so a change committed in between is not missed.
    hub = _hub(info)
    async with hub.subscribe() as events:
        row = await computation_service.get_computation(db, viewer, computation_id)
        yield Computation.from_row(row)
        seen = (row.status, row.updated_at)
        while row.status not in TERMINAL_STATUSES:
            event = await _next_event(events, viewer)
            if event is None:
                return
            if event.resync:
                row = await computation_service.get_computation(db, viewer, computation_id)
            elif event.computation_id == computation_id:
                row = await hub.state_for(
                    event, lambda e=event: computation_service.load_computation(db, e.computation_id)
                )
            else:
                continue
            if (row.status, row.updated_at) != seen:
                seen = (row.status, row.updated_at)
                yield Computation.from_row(row)


async def computations_completed(info: Info) -> AsyncGenerator[Computation, None]:
    """Every computation of the viewer's scope (tenant; all for platform admins) as it finishes."""
    viewer = info.context.viewer
    db = info.context.db
    hub = _hub(info)
    async with hub.subscribe() as events:
        while True:
            event = await _next_event(events, viewer)
            if event is None:
                return
            if event.resync or not event.is_terminal:
                continue
            row = await hub.state_for(event, lambda e=event: computation_service.load_computation(db, e.computation_id))
            if row is not None and computation_service.computation_visible(viewer, row):
                yield Computation.from_row(row)
