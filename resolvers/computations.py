"""The `computation` query and the computation subscriptions (graphql-transport-ws, graphql-ws and SSE).

Subscriptions never use the connection's DataLoaders: a WebSocket context lives as long as the connection,
so every event reads fresh state. `computationCompleted` over a WebSocket takes the broadcast path when its
document allows (graphql_app.web.broadcast): one task per process executes and writes each event.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncGenerator
from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import access, validation
from graphql_app.errors import MatchgraphError
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.services.computation_events import completed_computations, completed_row, follow_computation
from graphql_app.services.computation_records import get_computation
from graphql_app.web import broadcast
from schema.types.computation import Computation, shared_computation

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The computation's UUID.")]


class SubscriptionsUnavailable(MatchgraphError):
    code = "SERVICE_UNAVAILABLE"


def events_hub(info: Info) -> ComputationEventHub:
    hub = info.context.services.events
    if hub is None:
        raise SubscriptionsUnavailable("Subscriptions are not available on this server process.")
    return hub


async def computation(info: Info, id: IdArg) -> Computation:
    row = await get_computation(info.context.db, info.context.viewer, validation.parse_uuid(id))
    return Computation.from_row(row)


async def computation_updates(info: Info, id: IdArg) -> AsyncGenerator[Computation, None]:
    """Current state first, then every change; completes after SUCCEEDED, FAILED or CANCELLED."""
    rows = follow_computation(info.context.db, events_hub(info), info.context.viewer, validation.parse_uuid(id))
    async for row in rows:
        yield shared_computation(row)


def _completed_source(db, hub: ComputationEventHub) -> broadcast.BroadcastSource:
    return broadcast.BroadcastSource(
        name="computationCompleted",
        subscribe=hub.subscribe,
        row_for=lambda event: completed_row(db, hub, event),
        scope=access.computation_scope,
        visible=access.computation_visible,
        payload=shared_computation,
    )


async def computations_completed(info: Info) -> AsyncGenerator[Computation, None]:
    """Every computation of the viewer's scope (tenant; all for platform admins) as it finishes."""
    db, hub, viewer = info.context.db, events_hub(info), info.context.viewer
    rows = broadcast.rows_to_send(
        hub, _completed_source(db, hub), viewer, lambda: completed_computations(db, hub, viewer)
    )
    async with contextlib.aclosing(rows):
        async for row in rows:
            yield shared_computation(row)
