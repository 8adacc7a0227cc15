"""Event broadcast: one task per process and event source executes each event once per audience, encodes its
``payload`` once and writes every subscriber's frame straight to its socket.

An *audience* is everything a subscription event's result depends on: the document text, the operation name, the
variables (``schema.execution``: only documents selecting plain fields below the root field qualify) and the
viewer's visibility scope (the source's ``scope``, e.g. the tenant, or everything for a platform admin). Each
subscriber's frame is a pre-built prefix (its operation id and message type, per protocol) around the shared
payload, so no per-subscription Strawberry stream wakes for an event.

A subscription joins from inside its resolver (it still runs through Strawberry's handler: document rules,
validation, limits, permissions, the subscription limit) and parks there: its stream yields only what the
broadcast hands back to it — results with errors, and events for a socket that is not keeping up (its writes
are paused by the transport's flow control), so those take the ordinary path and its own bounded queue, exactly
as before. It ends when the viewer's token expires, or when the client completes the operation (Strawberry
cancels it).

Frames are written without awaiting, through uvicorn's websockets (sans-I/O) protocol, found from the ``send``
callable the server handed to the app (:class:`RawSendMiddleware`). Under another server, or with middleware that
watches WebSocket frames (tracing), there is no such protocol and every event takes the ordinary path.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

import orjson

from graphql_app import metrics
from graphql_app.auth import Principal
from graphql_app.services.computation_events import next_event
from schema.execution import current_subscription

try:  # uvicorn's default WebSocket protocol when `websockets` is installed
    from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
except ImportError:  # pragma: no cover
    WebSocketsSansIOProtocol = None  # type: ignore[assignment,misc]

logger = logging.getLogger(__name__)

#: What :meth:`BroadcastTarget.write` uses of uvicorn's protocol (set once the handshake is done).
_PROTOCOL_ATTRIBUTES = ("conn", "transport", "writable", "disconnected", "close_sent")
#: Where the ASGI server's own ``send`` is kept in a WebSocket scope.
RAW_SEND_KEY = "matchgraph.raw_send"
#: Events a parked subscriber may have waiting for the ordinary path; beyond that its backlog is dropped
#: (as the event hub drops a slow subscriber's backlog).
FALLBACK_QUEUE_SIZE = 256


class RawSendMiddleware:
    """Outermost middleware: keeps the server's own ``send`` in a WebSocket scope for :class:`BroadcastTarget`."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "websocket":
            scope[RAW_SEND_KEY] = send
        await self.app(scope, receive, send)


@dataclass(slots=True)
class BroadcastTarget:
    """Where one WebSocket operation's events go: the socket's protocol, and the frame up to its payload."""

    #: ``{"id":…,"type":"next",`` (graphql-transport-ws) or ``{"id":…,"type":"data",`` (graphql-ws).
    prefix: bytes
    #: False once the operation is completed or replaced (nothing may be sent for it any more).
    is_live: Callable[[], bool]
    protocol: Any

    @classmethod
    def for_operation(cls, scope: dict, operation_id: str, message_type: str, is_live: Callable[[], bool]):
        """The target of one operation, or None when its socket cannot be written directly."""
        raw_send = scope.get(RAW_SEND_KEY)
        protocol = getattr(raw_send, "__self__", None)
        if WebSocketsSansIOProtocol is None or not isinstance(protocol, WebSocketsSansIOProtocol):
            return None
        if not all(hasattr(protocol, name) for name in _PROTOCOL_ATTRIBUTES):  # another uvicorn version
            return None
        prefix = b'{"id":' + orjson.dumps(operation_id) + b',"type":"' + message_type.encode() + b'",'
        return cls(prefix, is_live, protocol)

    def write(self, payload_part: bytes) -> bool | None:
        """Write the frame now: True when written, None when nothing may be sent (operation or socket gone),
        False when the socket is not keeping up (its transport paused writing)."""
        protocol = self.protocol
        if not self.is_live() or protocol.disconnected or protocol.close_sent:
            return None
        if not protocol.writable.is_set():
            return False
        # What uvicorn's `send` does for a text message, minus the await on `writable` checked above.
        protocol.conn.send_text(self.prefix + payload_part)
        protocol.transport.write(b"".join(protocol.conn.data_to_send()))
        return True


#: The broadcast target of the WebSocket operation running in this task (set by the protocol handlers).
current_target: ContextVar[BroadcastTarget | None] = ContextVar("matchgraph_broadcast_target", default=None)


@dataclass(frozen=True, slots=True)
class BroadcastSource:
    """One kind of subscription event: ``name`` the subscription field, ``row_for`` the state an event refers
    to (None: nothing to send), ``scope`` what ``visible`` depends on in a viewer, ``payload`` the value the
    document runs against."""

    name: str
    subscribe: Callable[[], contextlib.AbstractAsyncContextManager[asyncio.Queue]]
    row_for: Callable[[Any], Awaitable[Any]]
    scope: Callable[[Principal], Hashable]
    visible: Callable[[Principal, Any], bool]
    payload: Callable[[Any], Any]


@dataclass(eq=False, slots=True)
class Subscriber:
    """One parked subscription: its target, its viewer, and the events handed back to its ordinary stream."""

    target: BroadcastTarget
    viewer: Principal
    executor: Any
    handed_back: asyncio.Queue = field(default_factory=lambda: asyncio.Queue(FALLBACK_QUEUE_SIZE))
    #: True while its stream is busy with an event handed back (later frames wait behind it, in order).
    busy: bool = False

    def hand_back(self, row: Any) -> None:
        try:
            self.handed_back.put_nowait(row)
        except asyncio.QueueFull:
            while not self.handed_back.empty():
                self.handed_back.get_nowait()
            self.handed_back.put_nowait(row)

    async def handed_back_rows(self) -> AsyncIterator[Any]:
        """Rows for the ordinary path, until the viewer's token expires."""
        while True:
            self.busy = False
            row = await next_event(self.handed_back, self.viewer)
            if row is None:
                return
            self.busy = True
            yield row


#: How often the broadcast path ran (tests check it really did).
stats = {"events": 0, "audiences": 0, "frames": 0, "handed_back": 0}


class EventBroadcaster:
    """The subscribers of one source in one process, by audience, and the task delivering its events."""

    def __init__(self, source: BroadcastSource) -> None:
        self.source = source
        self.audiences: dict[tuple, dict[Subscriber, None]] = {}
        self._task: asyncio.Task | None = None

    async def join(self, viewer: Principal) -> Subscriber | None:
        """Park the subscription running in this task, or None when it cannot be broadcast."""
        target, executor = current_target.get(), current_subscription.get()
        if target is None or executor is None:
            return None
        audience = executor.audience()
        if audience is None:
            return None
        subscriber = Subscriber(target, viewer, executor)
        self.audiences.setdefault((audience, self.source.scope(viewer)), {})[subscriber] = None
        if self._task is None or self._task.done():
            subscribed = asyncio.get_running_loop().create_future()
            self._task = asyncio.create_task(self._deliver_forever(subscribed), name=f"broadcast-{self.source.name}")
            try:
                await subscribed  # events committed from now on reach this subscriber
            except BaseException:
                self.leave(subscriber)
                raise
        return subscriber

    def leave(self, subscriber: Subscriber) -> None:
        for key, members in list(self.audiences.items()):
            if subscriber in members:
                del members[subscriber]
                if not members:
                    del self.audiences[key]
        if not self.audiences and self._task is not None:
            self._task.cancel()  # its hub subscription ends with it
            self._task = None

    async def _deliver_forever(self, subscribed: asyncio.Future) -> None:
        async with self.source.subscribe() as events:
            subscribed.set_result(None)
            while True:
                event = await events.get()
                try:
                    row = await self.source.row_for(event)
                    if row is not None:
                        await self.deliver(row, getattr(event, "received_at", 0.0))
                except Exception:  # one event's failure must not end every subscriber's stream
                    logger.exception("broadcasting a %s event failed", self.source.name)

    async def deliver(self, row: Any, received_at: float = 0.0) -> None:
        """Send one event's row to every audience that may see it."""
        stats["events"] += 1
        now = time.time()
        for (_audience, _scope), members in list(self.audiences.items()):
            subscribers = list(members)
            if not subscribers or not self.source.visible(subscribers[0].viewer, row):
                continue
            stats["audiences"] += 1
            result = subscribers[0].executor.build_per_event_executor(self.source.payload(row)).execute_operation(False)
            if asyncio.iscoroutine(result) or hasattr(result, "__await__"):
                result = await result
            if result.errors or getattr(result, "extensions", None):
                for subscriber in subscribers:  # Strawberry's path formats errors (codes, masking) as always
                    subscriber.hand_back(row)
                continue
            payload_part = b'"payload":' + orjson.dumps({"data": result.data}) + b"}"
            # No await from here on: every frame is written (or handed back) in this one pass.
            for subscriber in subscribers:
                if subscriber.viewer.expires_at is not None and subscriber.viewer.expires_at <= now:
                    continue  # its socket is being closed (4403); its stream is ending
                if subscriber.busy or not subscriber.handed_back.empty():
                    written = False  # behind an event its stream is still sending: keep the order
                else:
                    written = subscriber.target.write(payload_part)
                if written:
                    stats["frames"] += 1
                    metrics.record_fanout(received_at)
                elif written is False:
                    stats["handed_back"] += 1
                    subscriber.hand_back(row)


def broadcaster(hub: Any, source: BroadcastSource) -> EventBroadcaster:
    """The broadcaster of ``source`` for ``hub`` (the process's event hub), kept on the hub itself."""
    by_name = hub.__dict__.setdefault("_matchgraph_broadcasters", {})
    found = by_name.get(source.name)
    if found is None:
        found = by_name[source.name] = EventBroadcaster(source)
    return found


async def rows_to_send(
    hub: Any, source: BroadcastSource, viewer: Principal, ordinary: Callable[[], AsyncIterator[Any]]
) -> AsyncIterator[Any]:
    """The rows this subscription's own stream must send: only those the broadcast hands back when the
    operation can be broadcast (until the viewer's token expires), else every row of ``ordinary()``."""
    hub_broadcaster = broadcaster(hub, source)
    subscriber = await hub_broadcaster.join(viewer)
    if subscriber is None:
        async with contextlib.aclosing(ordinary()) as rows:
            async for row in rows:
                yield row
        return
    try:
        async for row in subscriber.handed_back_rows():
            yield row
    finally:
        hub_broadcaster.leave(subscriber)
