"""Bringing a database to a usable state: resolve the URL, check pgvector, apply migrations."""

from __future__ import annotations

import asyncio
import functools
import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from graphql_app.settings import Settings, load_settings

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Any constant will do: serialises concurrent `migrate` runs (several processes starting at once).
MIGRATION_LOCK_KEY = 7_391_004_211


class DatabaseSetupError(RuntimeError):
    """The database cannot be used (unreachable, no pgvector, wrong embedding model…)."""


def to_async_url(url: str) -> str:
    """Accept ``postgres://``/``postgresql://`` URLs and use the asyncpg driver."""
    for prefix in ("postgres://", "postgresql://", "postgresql+psycopg://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    return url


def to_asyncpg_dsn(url: str) -> str:
    """A plain ``postgresql://`` DSN for asyncpg from any URL form :func:`to_async_url` accepts."""
    return to_async_url(url).replace("postgresql+asyncpg://", "postgresql://", 1)


async def resolve_database_url(settings: Settings) -> str:
    """The SQLAlchemy URL to use: the configured one, or the embedded server (started on demand)."""
    if settings.database_url:
        from graphql_app.db.url import DatabaseUrlError, parse_database_url

        try:
            parse_database_url(settings.database_url)
        except DatabaseUrlError as exc:
            raise DatabaseSetupError(f"MATCHGRAPH_DATABASE_URL: {exc}") from None
        return to_async_url(settings.database_url)
    from graphql_app.db.embedded import ensure_database, start_embedded_postgres

    server_uri = await asyncio.to_thread(start_embedded_postgres, settings.data_dir)
    return await ensure_database(server_uri)


def resolve_database_url_sync() -> str:
    return asyncio.run(resolve_database_url(load_settings()))


def alembic_config() -> Config:
    cfg = Config(str(PROJECT_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    return cfg


@functools.cache
def migration_head() -> str:
    """The revision the migrations end at (read once from the migration scripts)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def migration_revision(conn: AsyncConnection) -> str | None:
    """The revision the database is migrated to (None: never migrated)."""
    exists = await conn.scalar(text("SELECT to_regclass('alembic_version') IS NOT NULL"))
    if not exists:
        return None
    return await conn.scalar(text("SELECT version_num FROM alembic_version"))


async def ensure_vector_extension(conn: AsyncConnection) -> None:
    """Create the `vector` extension, or explain clearly why it cannot be."""
    available = await conn.scalar(text("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'"))
    if not available:
        raise DatabaseSetupError(
            "The PostgreSQL server has no `vector` extension (pgvector). Install pgvector on the server "
            "(e.g. the postgresql-16-pgvector package, or enable it in your managed Postgres) and retry."
        )
    try:
        await conn.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
    except Exception as exc:
        raise DatabaseSetupError(
            f"Could not create the `vector` extension: {exc}. Ask a superuser to run "
            "`CREATE EXTENSION vector` in this database, then retry."
        ) from exc


async def migrate(url: str, revision: str = "head") -> None:
    """Apply Alembic migrations up to ``revision`` under an advisory lock."""
    from graphql_app.db.url import parse_database_url

    target = parse_database_url(url)
    engine = create_async_engine(target.sqlalchemy_url, connect_args=target.connect_kwargs())
    try:
        async with engine.begin() as conn:
            await conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": MIGRATION_LOCK_KEY})
            await ensure_vector_extension(conn)

            def _upgrade(sync_conn) -> None:
                cfg = alembic_config()
                cfg.attributes["connection"] = sync_conn
                command.upgrade(cfg, revision)

            await conn.run_sync(_upgrade)
    except DatabaseSetupError:
        raise
    except OSError as exc:
        raise DatabaseSetupError(f"Cannot reach the database: {exc}") from exc
    finally:
        await engine.dispose()


async def check_embedding_model(conn: AsyncConnection, model_id: str, dimension: int) -> None:
    """Record the embedding model on first use; refuse a different one instead of mixing vectors."""
    row = (await conn.execute(text("SELECT model_id, dimension FROM embedding_models"))).first()
    if row is None:
        await conn.execute(
            text("INSERT INTO embedding_models (model_id, dimension) VALUES (:m, :d) ON CONFLICT DO NOTHING"),
            {"m": model_id, "d": dimension},
        )
        return
    if row.model_id != model_id or row.dimension != dimension:
        raise DatabaseSetupError(
            f"The stored embeddings were computed with {row.model_id} ({row.dimension}-d) but "
            f"MATCHGRAPH_EMBEDDING_MODEL is {model_id} ({dimension}-d). Mixing models would make every "
            "similarity meaningless: set the old model back, or re-embed the data with the new one."
        )


async def load_checked_embedder(db, model_id: str):
    """Load the embedding model (in a thread) and check it against the database: the stored vectors' dimension,
    and the model they were made with (recorded on first use). Raises :class:`DatabaseSetupError`."""
    from graphql_app.matching.embeddings import load_embedder

    embedder = await asyncio.to_thread(load_embedder, model_id)
    async with db.transaction() as conn:
        stored = await vector_dimension(conn)
        if stored is not None and embedder.dimension != stored:
            raise DatabaseSetupError(
                f"{model_id} makes {embedder.dimension}-d vectors; this database stores {stored}-d vectors."
            )
        await check_embedding_model(conn, model_id, embedder.dimension)
    return embedder


async def vector_dimension(conn: AsyncConnection) -> int | None:
    """The dimension of the stored vectors' columns (companies.embedding's type; None: not declared)."""
    typmod = await conn.scalar(
        text("SELECT atttypmod FROM pg_attribute WHERE attrelid = 'companies'::regclass AND attname = 'embedding'")
    )
    return typmod if typmod and typmod > 0 else None


async def check_embedding_model_id(conn: AsyncConnection, model_id: str) -> None:
    """At start, before the model is loaded: refuse a model other than the one the stored vectors were made with."""
    row = (await conn.execute(text("SELECT model_id, dimension FROM embedding_models"))).first()
    if row is not None and row.model_id != model_id:
        raise DatabaseSetupError(
            f"The stored embeddings were computed with {row.model_id} ({row.dimension}-d) but "
            f"MATCHGRAPH_EMBEDDING_MODEL is {model_id}. Mixing models would make every similarity meaningless: set "
            "the old model back, or re-embed the data with the new one."
        )
