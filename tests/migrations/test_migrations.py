"""Migrations: a linear chain that upgrades an empty database, downgrades and upgrades again, and matches the models."""

from __future__ import annotations

import asyncpg
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.ext.asyncio import create_async_engine

from graphql_app.db.models import Base
from graphql_app.db.setup import alembic_config, migrate
from tests.conftest import database_url

TABLES = {"companies", "grants", "grant_matches", "computations", "embedding_models", "pgqueuer", "pgqueuer_log"}


async def _fresh_database(socket_dir: str, name: str) -> str:
    conn = await asyncpg.connect(user="postgres", host=socket_dir, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url(socket_dir, name)


async def _tables(url: str) -> set[str]:
    engine = create_async_engine(url)
    async with engine.connect() as conn:
        names = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    await engine.dispose()
    return names


def test_the_revision_chain_is_linear():
    script = ScriptDirectory.from_config(alembic_config())
    assert len(script.get_heads()) == 1
    assert len(script.get_bases()) == 1


async def test_upgrade_downgrade_upgrade(pg_socket_dir):
    url = await _fresh_database(pg_socket_dir, "migration_roundtrip")
    await migrate(url, "head")
    assert await _tables(url) >= TABLES
    await migrate(url, "head")  # idempotent
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: _downgrade(c, "base"))
    await engine.dispose()
    assert not (TABLES & await _tables(url))
    await migrate(url, "head")
    assert await _tables(url) >= TABLES


def _ours(name, type_, parent_names) -> bool:
    """PgQueuer's own tables (installed by migration 0002 from its DDL) are not in our models."""
    return not (type_ == "table" and name.startswith("pgqueuer"))


def _downgrade(sync_conn, revision: str) -> None:
    from alembic import command

    cfg = alembic_config()
    cfg.attributes["connection"] = sync_conn
    command.downgrade(cfg, revision)


async def test_models_and_migrations_agree(template_database, pg_socket_dir):
    engine = create_async_engine(database_url(pg_socket_dir, template_database))
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda c: compare_metadata(
                MigrationContext.configure(c, opts={"compare_type": True, "include_name": _ours}),
                Base.metadata,
            )
        )
    await engine.dispose()
    assert diff == [], diff
