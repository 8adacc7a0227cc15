"""SQLAlchemy async engines.

Two views of one connection pool:

* ``engine`` — transactional, for writes (``async with db.transaction() as conn``).
* ``read_engine`` — the same pool in AUTOCOMMIT, for read paths: one SELECT is one round trip, with no
  BEGIN/ROLLBACK around it (DESIGN §9: keep read paths to one statement per batch).

Every statement sent is counted in a context variable so tests can assert statement budgets.
"""

from __future__ import annotations

import contextvars
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

#: Statements (including BEGIN/COMMIT/ROLLBACK) sent while a :class:`StatementLog` is active.
_active_log: contextvars.ContextVar[StatementLog | None] = contextvars.ContextVar("statement_log", default=None)


@dataclass
class StatementLog:
    """Collects the SQL statements sent inside ``with count_statements() as log``."""

    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


class count_statements:
    """Context manager counting statements sent by the current task and the tasks it spawns."""

    def __enter__(self) -> StatementLog:
        self.log = StatementLog()
        self._token = _active_log.set(self.log)
        return self.log

    def __exit__(self, *exc: object) -> None:
        _active_log.reset(self._token)


def _record(statement: str) -> None:
    log = _active_log.get()
    if log is not None:
        log.statements.append(statement)


def _sends_transaction_control(conn) -> bool:
    """False on AUTOCOMMIT connections: the asyncpg adapter then sends no BEGIN/COMMIT/ROLLBACK at all."""
    return getattr(conn.connection.dbapi_connection, "isolation_level", None) != "autocommit"


def _install_statement_counter(engine: AsyncEngine) -> None:
    """Record every statement that goes over the wire (transaction control included)."""
    sync_engine = engine.sync_engine

    @event.listens_for(sync_engine, "before_cursor_execute")
    def _on_execute(conn, cursor, statement, parameters, context, executemany):
        _record(statement)

    for name in ("begin", "commit", "rollback"):

        def _on_transaction_control(conn, _verb=name.upper()) -> None:
            if _active_log.get() is not None and _sends_transaction_control(conn):
                _record(_verb)

        event.listen(sync_engine, name, _on_transaction_control)


class Database:
    """Owns the engines of one database URL."""

    def __init__(self, url: str, *, pool_size: int = 10) -> None:
        self.url = url
        self.engine: AsyncEngine = create_async_engine(
            url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            # extra_float_digits=1: float8 as text (compiled plans' JSON) in the shortest exact form, whatever
            # the server's default.
            connect_args={"server_settings": {"application_name": "matchgraph", "extra_float_digits": "1"}},
        )
        _install_statement_counter(self.engine)
        self.read_engine: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def asyncpg_dsn(self) -> str:
        """The URL for plain asyncpg connections (listeners, the queue worker)."""
        return self.url.replace("postgresql+asyncpg://", "postgresql://", 1)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncConnection]:
        """A connection inside one transaction: committed on success, rolled back on error."""
        async with self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[AsyncConnection]:
        """An autocommit connection for read-only statements."""
        async with self.read_engine.connect() as conn:
            yield conn

    async def fetch_value(self, sql: str, *params: object) -> object:
        """One value of one read-only statement, sent straight through the pooled asyncpg connection (no
        SQLAlchemy statement compilation; asyncpg's prepared-statement cache keyed by the SQL text)."""
        _record(sql)
        async with self.read_engine.connect() as conn:
            raw = await conn.get_raw_connection()
            return await raw.driver_connection.fetchval(sql, *params)

    async def dispose(self) -> None:
        await self.engine.dispose()
