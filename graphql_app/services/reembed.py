"""Re-embedding every stored text with another model, while the API keeps answering with the current vectors.

1. **Stage** (slow, resumable): for companies, grants, members (bio) and organisations (culture statement), the
   new model's vectors go to ``embedding_staging`` in committed batches, each with the hash of its text. An
   interrupted run resumes where it stopped; vectors staged for another model are dropped first.
2. **Prepare** (only for a model of another dimension): each vector column gets a twin ``<column>_next`` of the
   new dimension, filled from the staging table, with its HNSW index built concurrently. Reads and writes go on.
3. **Swap** (one transaction): the four tables are locked against writes, rows whose text changed or that were
   added since they were staged are embedded there and then, and every vector is replaced from the staging table
   (same dimension) or the twins take the columns' place (``DROP COLUMN``, ``RENAME``: reads wait for that
   short moment); ``embedding_models`` names the new model and the staging table is emptied. Readers see the old
   vectors until the commit and the new ones after it, never a mix.

API processes check the model at start: restart them with the new ``MATCHGRAPH_EMBEDDING_MODEL`` after the swap
(until then, those running the old model write its vectors, or fail to once the dimension changed).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects.postgresql import insert

from graphql_app.db.engine import Database
from graphql_app.db.models import EmbeddingStaging, companies, grants, members, organisations
from graphql_app.db.notifications import CHANGES_CHANNEL
from graphql_app.db.setup import vector_dimension
from graphql_app.matching.embeddings import Embedder
from graphql_app.services.catalogue import _company_embedding_text, _grant_embedding_text

staging = EmbeddingStaging.__table__


class ReembedError(RuntimeError):
    """Re-embedding cannot go ahead (the message says why)."""


@dataclass(frozen=True)
class Source:
    """One table whose rows carry an embedding of a text."""

    name: str
    table: Table
    column: str
    text_of: Callable[[dict[str, Any]], str]
    #: Its HNSW index (cosine), if it has one.
    index: str | None = None

    @property
    def next_column(self) -> str:
        return f"{self.column}_next"

    @property
    def text_columns(self) -> list:
        return [c for c in self.table.c if c.name != self.column]

    @property
    def next_index(self) -> str | None:
        return f"{self.index}_next" if self.index else None


SOURCES = (
    Source("companies", companies, "embedding", _company_embedding_text, "ix_companies_embedding_hnsw"),
    Source("grants", grants, "embedding", _grant_embedding_text, "ix_grants_embedding_hnsw"),
    Source("members", members, "bio_embedding", lambda row: row.get("bio") or ""),
    Source("organisations", organisations, "culture_embedding", lambda row: row.get("culture_statement") or ""),
)


def text_hash(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


async def current_model(db: Database) -> tuple[str, int] | None:
    """The model the stored vectors were made with (None: nothing recorded yet)."""
    async with db.reader() as conn:
        row = (await conn.execute(text("SELECT model_id, dimension FROM embedding_models"))).first()
    return None if row is None else (row.model_id, row.dimension)


async def stored_dimension(db: Database) -> int | None:
    """The dimension of the vector columns now."""
    async with db.reader() as conn:
        return await vector_dimension(conn)


async def _encode(embedder: Embedder, texts: Sequence[str]) -> list[list[float] | None]:
    """Vectors of ``texts``; None for blank texts (stored as NULL, like the write paths do)."""
    wanted = [i for i, value in enumerate(texts) if value.strip()]
    vectors = await asyncio.to_thread(embedder.encode, [texts[i] for i in wanted]) if wanted else []
    out: list[list[float] | None] = [None] * len(texts)
    for i, vector in zip(wanted, vectors, strict=True):
        out[i] = [float(x) for x in vector]
    return out


async def stage_counts(db: Database, model_id: str) -> dict[str, tuple[int, int]]:
    """(rows, rows already staged for ``model_id``) of each source."""
    counts = {}
    async with db.reader() as conn:
        for source in SOURCES:
            rows = await conn.scalar(select(func.count()).select_from(source.table))
            staged = await conn.scalar(
                select(func.count()).where(staging.c.source == source.name, staging.c.model_id == model_id)
            )
            counts[source.name] = (rows, staged)
    return counts


async def stage(
    db: Database,
    embedder: Embedder,
    *,
    batch_size: int = 256,
    progress: Callable[[str, int, int], Any] | None = None,
) -> dict[str, int]:
    """Stage the new model's vector of every row not staged yet; returns how many were embedded per source.

    ``progress(source, total, already)`` returns an object with ``update(n)`` and ``close()`` (a tqdm bar)."""
    async with db.transaction() as conn:
        await conn.execute(delete(staging).where(staging.c.model_id != embedder.model_id))
    counts = await stage_counts(db, embedder.model_id)
    embedded: dict[str, int] = {}
    for source in SOURCES:
        total, already = counts[source.name]
        bar = progress(source.name, total, already) if progress else None
        embedded[source.name] = 0
        last_id = None
        while True:
            query = (
                select(*source.text_columns)
                .outerjoin(staging, (staging.c.source == source.name) & (staging.c.row_id == source.table.c.id))
                .where(staging.c.row_id.is_(None))
                .order_by(source.table.c.id)
                .limit(batch_size)
            )
            if last_id is not None:
                query = query.where(source.table.c.id > last_id)
            async with db.reader() as conn:
                rows = [dict(r._mapping) for r in await conn.execute(query)]
            if not rows:
                break
            last_id = rows[-1]["id"]
            texts = [source.text_of(row) for row in rows]
            vectors = await _encode(embedder, texts)
            values = [
                {
                    "source": source.name,
                    "row_id": row["id"],
                    "model_id": embedder.model_id,
                    "text_hash": text_hash(value),
                    "embedding": vector,
                }
                for row, value, vector in zip(rows, texts, vectors, strict=True)
            ]
            async with db.transaction() as conn:
                statement = insert(staging).values(values)
                await conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=[staging.c.source, staging.c.row_id],
                        set_={c: statement.excluded[c] for c in ("model_id", "text_hash", "embedding")},
                    )
                )
            embedded[source.name] += len(rows)
            if bar is not None:
                bar.update(len(rows))
        if bar is not None:
            bar.close()
    return embedded


async def _column_dimension(conn, table: str, column: str) -> int | None:
    """The declared dimension of ``table.column`` (None: no such column)."""
    return await conn.scalar(
        text(
            "SELECT atttypmod FROM pg_attribute "
            "WHERE attrelid = CAST(:t AS regclass) AND attname = :c AND NOT attisdropped"
        ),
        {"t": table, "c": column},
    )


async def prepare_columns(db: Database, embedder: Embedder) -> bool:
    """For a model of another dimension: fill a ``<column>_next`` twin of each vector column from the staging
    table and build its HNSW index concurrently, with reads and writes going on. False when not needed."""
    if embedder.dimension == await stored_dimension(db):
        return False
    dim = int(embedder.dimension)
    for source in SOURCES:
        table, column = source.table.name, source.next_column
        async with db.transaction() as conn:
            existing = await _column_dimension(conn, table, column)
            if existing is not None and existing != dim:  # left by a run for another model
                await conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {column}"))
            await conn.execute(text(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {column} vector({dim})"))
        async with db.transaction() as conn:
            await conn.execute(
                text(
                    f"UPDATE {table} AS t SET {column} = s.embedding FROM embedding_staging AS s "
                    "WHERE s.source = :source AND s.model_id = :model AND s.row_id = t.id"
                ),
                {"source": source.name, "model": embedder.model_id},
            )
        if source.index:
            async with db.reader() as conn:  # autocommit: CONCURRENTLY runs outside a transaction
                await conn.execute(text(f"DROP INDEX CONCURRENTLY IF EXISTS {source.next_index}"))
                await conn.execute(
                    text(
                        f"CREATE INDEX CONCURRENTLY {source.next_index} ON {table} "
                        f"USING hnsw ({column} vector_cosine_ops)"
                    )
                )
    return True


async def swap(db: Database, embedder: Embedder) -> dict[str, int]:
    """Replace every vector by its staged one in one transaction; rows changed or added since they were staged
    are embedded inside it. Returns how many rows were embedded at the swap, per source."""
    late: dict[str, int] = {}
    async with db.transaction() as conn:
        # Writers wait (reads go on) until the commit; a second reembed swapping at once waits too.
        await conn.execute(
            text("LOCK TABLE companies, grants, members, organisations, embedding_models IN SHARE ROW EXCLUSIVE MODE")
        )
        row = (await conn.execute(text("SELECT model_id FROM embedding_models"))).first()
        if row is not None and row.model_id == embedder.model_id:
            raise ReembedError(f"the stored vectors are already {embedder.model_id}'s")
        resize = embedder.dimension != await vector_dimension(conn)
        if resize:
            for source in SOURCES:
                found = await _column_dimension(conn, source.table.name, source.next_column)
                if found != embedder.dimension:
                    raise ReembedError(f"{source.table.name}.{source.next_column} is not prepared: run reembed again")
        for source in SOURCES:
            stored = {
                r.row_id: r.text_hash
                for r in await conn.execute(
                    select(staging.c.row_id, staging.c.text_hash).where(
                        staging.c.source == source.name, staging.c.model_id == embedder.model_id
                    )
                )
            }
            rows = [dict(r._mapping) for r in await conn.execute(select(*source.text_columns))]
            stale = [(row, source.text_of(row)) for row in rows]
            stale = [(row, value) for row, value in stale if stored.get(row["id"]) != text_hash(value)]
            late[source.name] = len(stale)
            stale_ids = [row["id"] for row, _ in stale]
            if stale:
                vectors = await _encode(embedder, [value for _, value in stale])
                statement = insert(staging).values(
                    [
                        {
                            "source": source.name,
                            "row_id": row["id"],
                            "model_id": embedder.model_id,
                            "text_hash": text_hash(value),
                            "embedding": vector,
                        }
                        for (row, value), vector in zip(stale, vectors, strict=True)
                    ]
                )
                await conn.execute(
                    statement.on_conflict_do_update(
                        index_elements=[staging.c.source, staging.c.row_id],
                        set_={c: statement.excluded[c] for c in ("model_id", "text_hash", "embedding")},
                    )
                )
            if not resize:
                await conn.execute(
                    text(
                        f"UPDATE {source.table.name} AS t SET {source.column} = s.embedding "
                        "FROM embedding_staging AS s WHERE s.source = :source AND s.row_id = t.id"
                    ),
                    {"source": source.name},
                )
                continue
            if stale_ids:  # the twin was filled when prepared: only what changed since
                await conn.execute(
                    text(
                        f"UPDATE {source.table.name} AS t SET {source.next_column} = s.embedding "
                        "FROM embedding_staging AS s WHERE s.source = :source AND s.row_id = t.id "
                        "AND t.id = ANY(:ids)"
                    ),
                    {"source": source.name, "ids": stale_ids},
                )
            table = source.table.name
            await conn.execute(text(f"ALTER TABLE {table} DROP COLUMN {source.column}"))  # drops its index too
            await conn.execute(text(f"ALTER TABLE {table} RENAME COLUMN {source.next_column} TO {source.column}"))
            if source.index:
                await conn.execute(text(f"ALTER INDEX {source.next_index} RENAME TO {source.index}"))
        await conn.execute(text("DELETE FROM embedding_models"))
        await conn.execute(
            text("INSERT INTO embedding_models (model_id, dimension) VALUES (:m, :d)"),
            {"m": embedder.model_id, "d": embedder.dimension},
        )
        await conn.execute(delete(staging))
        await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANGES_CHANNEL})  # response caches
    return late
