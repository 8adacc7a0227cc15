"""Migrations: a linear chain that upgrades an empty database, downgrades and upgrades again, and matches the models."""

from __future__ import annotations

import json

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


async def test_0009_moves_the_breakdown_to_figures_and_back(pg_socket_dir):
    """A match stored with a JSON breakdown (migration 0008) renders the very same object after 0009, and
    downgrading rebuilds the JSON document; a match stored without a breakdown stays empty."""
    from graphql_app.matching.breakdown import render_breakdown
    from graphql_app.matching.grants import CompanyProfile, explain_grant_match, score_grants_for_company
    from tests.unit.test_grant_scoring import FULL_GRANT, candidates

    company = CompanyProfile("DE", ("M71.12",), "SMALL", frozenset({"renewable_energy"}))
    cands = candidates({**FULL_GRANT, "days_left": 12, "is_carbon_focused": True})
    breakdown = explain_grant_match(company, cands, score_grants_for_company(company, cands), 0).breakdown

    url = await _fresh_database(pg_socket_dir, "migration_breakdown")
    await migrate(url, "0008")
    conn = await asyncpg.connect(user="postgres", host=pg_socket_dir, database="migration_breakdown")
    try:
        company_id = await conn.fetchval(
            "INSERT INTO companies (tenant_id, name, country, size, employees) "
            "VALUES ('t', 'Solar GmbH', 'DE', 'SMALL', 30) RETURNING id"
        )
        grant_ids = [
            await conn.fetchval(
                "INSERT INTO grants (title, description) VALUES ($1, 'A call for solar projects.') RETURNING id",
                title,
            )
            for title in ("explained", "unexplained")
        ]
        insert = (
            "INSERT INTO grant_matches (tenant_id, company_id, grant_id, score, semantic_score, rule_score, "
            "carbon_score, collaborative_score, recency_score, score_breakdown) "
            "VALUES ('t', $1, $2, 0.9, 0.8, 1, 0.5, 0.5, 1, $3::jsonb)"
        )
        await conn.execute(insert, company_id, grant_ids[0], json.dumps(breakdown))
        await conn.execute(insert, company_id, grant_ids[1], "{}")

        await migrate(url, "head")
        rows = await conn.fetch(
            "SELECT breakdown_figures, carbon_bonus_applied, days_left_at_scoring FROM grant_matches "
            "ORDER BY array_position($1::uuid[], grant_id)",
            grant_ids,
        )
        assert [render_breakdown(*row) for row in rows] == [breakdown, {}]
        assert rows[0]["carbon_bonus_applied"] is True and rows[0]["days_left_at_scoring"] == 12

        engine = create_async_engine(url)
        async with engine.begin() as sa_conn:
            await sa_conn.run_sync(lambda c: _downgrade(c, "0008"))
        await engine.dispose()
        stored = await conn.fetch(
            "SELECT score_breakdown FROM grant_matches ORDER BY array_position($1::uuid[], grant_id)", grant_ids
        )
        assert [json.loads(row["score_breakdown"]) for row in stored] == [breakdown, {}]
    finally:
        await conn.close()
