"""Listening to the NOTIFY channels (graphql_app.db.notifications): computation events and grant alert notices.

Each process holds one :class:`ComputationEventHub`: a dedicated listener connection (never through a
transaction-pooling PgBouncer) fanning events out to in-process subscribers. When the connection drops it
reconnects with backoff and sends every subscriber a *resync* event, because NOTIFY has no replay: a
subscriber then re-reads the state it follows.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from graphql_app.db.engine import connect_target
from graphql_app.db.notifications import (
    ALERTS_CHANNEL,
    ALERTS_RESYNC,
    CHANGES_CHANNEL,
    CHANNEL,
    RESYNC,
    ComputationEvent,
    GrantAlertNotice,
    parse_alert_notice,
    parse_event,
)
from graphql_app.db.url import DatabaseTarget, parse_database_url

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ComputationEventHub:
    """One LISTEN connection per process, fanned out to any number of subscribers."""

    def __init__(self, dsn: str | DatabaseTarget, *, queue_size: int = 256, health_interval: float = 5.0) -> None:
        """``dsn``: a database URL (libpq parameters allowed) or an already parsed :class:`DatabaseTarget`."""
        self.target = dsn if isinstance(dsn, DatabaseTarget) else parse_database_url(dsn)
        self.queue_size = queue_size
        self.health_interval = health_interval
        self._subscribers: set[asyncio.Queue[ComputationEvent]] = set()
        self._alert_subscribers: set[asyncio.Queue[GrantAlertNotice]] = set()
        self._task: asyncio.Task | None = None
        self._connected = asyncio.Event()
        self._sequence = 0
        self._listeners: list[Callable[[], None]] = []
        self._reads: dict[int, asyncio.Future] = {}
        self.reconnects = 0

    @property
    def subscriber_count(self) -> int:
        return len(self._subscribers) + len(self._alert_subscribers)

    @property
    def connected(self) -> bool:
        """True while the LISTEN connection is up (readiness)."""
        return self._connected.is_set()

    async def start(self, *, wait: float = 10.0) -> None:
        """Start listening; returns once the first connection is up (or after ``wait`` seconds)."""
        self._task = asyncio.create_task(self._listen_forever(), name="computation-event-hub")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._connected.wait(), wait)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[ComputationEvent]]:
        """A queue receiving every computation event from now on, until the block exits."""
        return self._subscription(self._subscribers)

    def subscribe_alerts(self) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[GrantAlertNotice]]:
        """A queue receiving every grant alert notice from now on, until the block exits."""
        return self._subscription(self._alert_subscribers)

    @contextlib.asynccontextmanager
    async def _subscription(self, subscribers: set[asyncio.Queue[T]]) -> AsyncIterator[asyncio.Queue[T]]:
        queue: asyncio.Queue[T] = asyncio.Queue(self.queue_size)
        subscribers.add(queue)
        try:
            yield queue
        finally:
            subscribers.discard(queue)

    def publish(self, event: ComputationEvent) -> None:
        _publish(self._subscribers, event, RESYNC)

    def publish_alert_notice(self, notice: GrantAlertNotice) -> None:
        _publish(self._alert_subscribers, notice, ALERTS_RESYNC)

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` on every event, data-change notice and reconnection (cache invalidation)."""
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def _on_alert_notice(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        notice = parse_alert_notice(payload)
        if notice is not None:
            self.publish_alert_notice(notice)

    def _on_data_change(self, _conn: object, _pid: int, _channel: str, _payload: str) -> None:
        self._changed()

    def _on_notify(self, _conn: object, _pid: int, _channel: str, payload: str) -> None:
        self._changed()
        event = parse_event(payload)
        if event is not None:
            self._sequence += 1
            self.publish(dataclasses.replace(event, sequence=self._sequence, received_at=time.perf_counter()))

    async def state_for(self, event: ComputationEvent, load: Callable[[], Awaitable[T]]) -> T:
        """The state an event refers to, read once per event however many subscribers ask (fan-out cost)."""
        key = event.sequence
        future = self._reads.get(key)
        if future is None:
            future = asyncio.ensure_future(load())
            self._reads[key] = future
            while len(self._reads) > 64:  # only the latest few events are being read at any time
                self._reads.pop(next(iter(self._reads)))
        return await asyncio.shield(future)

    async def _listen_forever(self) -> None:
        delay = 0.2
        first = True
        while True:
            conn = None
            try:
                conn = await connect_target(self.target, "matchgraph-events")
                lost = asyncio.Event()
                conn.add_termination_listener(lambda _c, lost=lost: lost.set())
                await conn.add_listener(CHANNEL, self._on_notify)
                await conn.add_listener(CHANGES_CHANNEL, self._on_data_change)
                await conn.add_listener(ALERTS_CHANNEL, self._on_alert_notice)
                if not first:
                    self._changed()  # anything may have changed while we were not listening
                    self.reconnects += 1
                    logger.info("computation event listener reconnected")
                    self.publish(RESYNC)
                    self.publish_alert_notice(ALERTS_RESYNC)
                first, delay = False, 0.2
                self._connected.set()
                while not lost.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(lost.wait(), self.health_interval)
                    if not lost.is_set():
                        await asyncio.wait_for(conn.fetchval("SELECT 1"), self.health_interval)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("computation event listener lost its connection (%r); reconnecting", exc)
            finally:
                self._connected.clear()
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 5.0)


def _publish(subscribers: set[asyncio.Queue[T]], event: T, resync: T) -> None:
    for queue in list(subscribers):
        try:
            queue.put_nowait(event)
        except asyncio.QueueFull:
            # A slow subscriber: drop its backlog and tell it to re-read (it cannot know what it missed).
            while not queue.empty():
                queue.get_nowait()
            queue.put_nowait(resync)
