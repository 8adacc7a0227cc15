"""Grants by id (the catalogue is platform-wide, so unscoped). Embeddings are never loaded."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database
from graphql_app.db.models import grants

GRANT_COLUMNS = [c for c in grants.c if c.name != "embedding"]


class GrantByIdLoader(DataLoader[uuid.UUID, Row | None]):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Row | None]:
        async with self.db.reader() as conn:
            rows = await conn.execute(select(*GRANT_COLUMNS).where(grants.c.id.in_(keys)))
            by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]
