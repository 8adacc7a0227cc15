"""Alembic environment: runs migrations on a connection handed in by Matchgraph, or on the configured URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy.ext.asyncio import create_async_engine

from graphql_app.db.models import Base

target_metadata = Base.metadata


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=target_metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


async def _run_on_url(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        await conn.run_sync(_run)
        await conn.commit()
    await engine.dispose()


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    from graphql_app.db.setup import resolve_database_url_sync

    asyncio.run(_run_on_url(resolve_database_url_sync()))


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run `matchgraph migrate`.")
run_migrations_online()
