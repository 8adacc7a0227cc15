"""SQLAlchemy async engines.

Two views of one connection pool:

* ``engine`` — transactional, for writes (``async with db.transaction() as conn``).
* ``read_engine`` — the same pool in AUTOCOMMIT, for read paths: one SELECT is one round trip, with no
  BEGIN/ROLLBACK around it (keep read paths to one statement per batch; docs/architecture.md).

Every statement sent is counted in a context variable so tests can assert statement budgets.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TypeVar

import asyncpg
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from graphql_app.db.url import DatabaseTarget, parse_database_url

T = TypeVar("T")

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


#: extra_float_digits=1: float8 as text (compiled plans' JSON) in the shortest exact form, whatever the server's
#: default.
SERVER_SETTINGS = {"application_name": "matchgraph", "extra_float_digits": "1"}


async def _keep_session(conn: asyncpg.Connection) -> None:
    """No reset on release: compiled plans run single autocommit SELECTs and leave no session state."""


async def connect_target(target: DatabaseTarget, application_name: str) -> asyncpg.Connection:
    """One plain asyncpg connection to ``target`` (its own application_name unless the URL sets one)."""
    return await asyncpg.connect(target.dsn, **target.connect_kwargs({"application_name": application_name}))


class Database:
    """Owns the engines of one database URL."""

    def __init__(self, url: str, *, pool_size: int = 10, statement_timeout: float | None = None) -> None:
        """``statement_timeout`` (seconds) bounds every statement on these connections (PostgreSQL cancels it).

        ``url`` may carry libpq parameters (sslmode, options, …): see graphql_app.db.url."""
        self.url = url
        self.target: DatabaseTarget = parse_database_url(url)
        self.pool_size = pool_size
        self.server_settings = dict(SERVER_SETTINGS)
        if statement_timeout:
            self.server_settings["statement_timeout"] = str(int(statement_timeout * 1000))
        self._fast_pool: asyncpg.Pool | None = None
        #: Set by graphql_app.tracing.instrument_database: a context manager around each compiled plan's statement.
        self.statement_span = None
        self.traced = False
        self._fast_pool_lock = asyncio.Lock()
        self.engine: AsyncEngine = create_async_engine(
            self.target.sqlalchemy_url,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_pre_ping=False,
            connect_args=self.target.connect_kwargs(self.server_settings),
        )
        _install_statement_counter(self.engine)
        self.read_engine: AsyncEngine = self.engine.execution_options(isolation_level="AUTOCOMMIT")

    @property
    def asyncpg_dsn(self) -> str:
        """The bare DSN for plain asyncpg connections; pass :attr:`target` where the URL's parameters matter."""
        return self.target.dsn

    async def connect(self, application_name: str) -> asyncpg.Connection:
        """A plain asyncpg connection outside the pools (listeners, the queue worker), with the URL's settings."""
        return await connect_target(self.target, application_name)

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
        """One value of one read-only statement (compiled query plans), on a plain asyncpg pool of its own.

        No SQLAlchemy checkout, no statement compilation, prepared statements cached by SQL text, and no reset
        round trip on release (these connections never change session state). Beyond ``pool_size`` concurrent
        statements, callers queue for a connection instead of opening and closing extra ones.
        """
        return await self._on_fast_pool(sql, lambda conn: conn.fetchval(sql, *params))

    async def fetch_rows(self, sql: str, *params: object) -> list[asyncpg.Record]:
        """The rows of one read-only statement already rendered to SQL text (``graphql_app.db.statements``), on
        the same pool as :meth:`fetch_value`."""
        return await self._on_fast_pool(sql, lambda conn: conn.fetch(sql, *params))

    async def _on_fast_pool(self, sql: str, run: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        _record(sql)
        pool = self._fast_pool or await self._open_fast_pool()
        if self.statement_span is None:
            async with pool.acquire() as conn:
                return await run(conn)
        with self.statement_span(sql):
            async with pool.acquire() as conn:
                return await run(conn)

    async def _open_fast_pool(self) -> asyncpg.Pool:
        async with self._fast_pool_lock:
            if self._fast_pool is None:
                self._fast_pool = await asyncpg.create_pool(
                    self.target.dsn,
                    min_size=0,  # no floor to restore in the background (noisy while the database restarts)
                    max_size=self.pool_size,
                    reset=_keep_session,
                    **self.target.connect_kwargs(self.server_settings),
                )
        return self._fast_pool

    def pool_connections(self) -> dict[str, tuple[int, int]]:
        """(in use, idle) connections of each pool: ``resolvers`` (SQLAlchemy) and ``plans`` (compiled plans and
        the resolvers' match pages, ``fetch_rows``)."""
        pool = self.engine.sync_engine.pool
        stats = {"resolvers": (pool.checkedout(), pool.checkedin())}
        if self._fast_pool is not None:
            idle = self._fast_pool.get_idle_size()
            stats["plans"] = (self._fast_pool.get_size() - idle, idle)
        return stats

    async def reset_connections(self) -> None:
        """Forget every pooled connection (the server restarted): later checkouts connect afresh."""
        await self.engine.dispose(close=False)
        if self._fast_pool is not None:
            await self._fast_pool.expire_connections()

    async def dispose(self) -> None:
        if self._fast_pool is not None:
            await self._fast_pool.close()
            self._fast_pool = None
        await self.engine.dispose()
