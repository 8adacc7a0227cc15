"""A PgQueuer manager (queue worker or scheduler) on a connection of its own, run until stopped, reconnecting
with backoff when the database goes away."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import asyncpg

from graphql_app.db.engine import Database

logger = logging.getLogger(__name__)


class ReconnectingManager:
    """Subclasses build the manager on a fresh connection (:meth:`build`) and run it (:meth:`run_manager`); the
    manager has PgQueuer's ``shutdown`` event."""

    #: The connection's ``application_name`` (seen in ``pg_stat_activity``).
    connection_name = "matchgraph"

    def __init__(self, db: Database) -> None:
        self.db = db
        self._stopping = asyncio.Event()
        self._manager: Any = None

    def build(self, conn: asyncpg.Connection) -> Any:
        raise NotImplementedError

    async def run_manager(self, manager: Any) -> None:
        raise NotImplementedError

    async def run(self) -> None:
        """Run the manager until :meth:`stop`; reconnect with backoff when the connection fails."""
        delay = 0.5
        while not self._stopping.is_set():
            conn = None
            try:
                conn = await self.db.connect(self.connection_name)
                self._manager = self.build(conn)
                if self._stopping.is_set():
                    break
                delay = 0.5
                await self.run_manager(self._manager)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("%s stopped (%r); restarting in %.1fs", self.connection_name, exc, delay)
            finally:
                self._manager = None
                if conn is not None and not conn.is_closed():
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            if not self._stopping.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)
                delay = min(delay * 2, 10.0)

    def stop(self) -> None:
        self._stopping.set()
        if self._manager is not None:
            self._manager.shutdown.set()
