"""Database setup refuses clearly: a missing `vector` extension, a different embedding model."""

from __future__ import annotations

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import create_async_engine

from graphql_app.db.setup import DatabaseSetupError, check_embedding_model, ensure_vector_extension, migrate


async def test_a_different_embedding_model_is_refused(services):
    async with services.db.transaction() as conn:
        await check_embedding_model(conn, "sentence-transformers/all-MiniLM-L6-v2", 384)
    async with services.db.transaction() as conn:
        await check_embedding_model(conn, "sentence-transformers/all-MiniLM-L6-v2", 384)  # same model: fine
    with pytest.raises(DatabaseSetupError, match=r"all-mpnet-base-v2.*Mixing models"):
        async with services.db.transaction() as conn:
            await check_embedding_model(conn, "sentence-transformers/all-mpnet-base-v2", 768)


async def test_missing_vector_extension_is_explained(pg_socket_dir):
    admin = await asyncpg.connect(user="postgres", host=pg_socket_dir, database="postgres")
    try:
        await admin.execute("DROP DATABASE IF EXISTS no_vector")
        await admin.execute("DROP ROLE IF EXISTS app_user")
        await admin.execute("CREATE ROLE app_user LOGIN")
        await admin.execute("CREATE DATABASE no_vector OWNER app_user")
    finally:
        await admin.close()
    url = f"postgresql+asyncpg://app_user@/no_vector?host={pg_socket_dir}"
    engine = create_async_engine(url)
    with pytest.raises(DatabaseSetupError, match="CREATE EXTENSION vector"):
        async with engine.begin() as conn:
            await ensure_vector_extension(conn)
    await engine.dispose()
    with pytest.raises(DatabaseSetupError, match="vector"):
        await migrate(url)
