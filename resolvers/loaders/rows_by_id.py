"""Rows of one table by primary key (unscoped: callers reach them through an already-authorised parent)."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader
from sqlalchemy import Column, Table, select
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database


class RowsByIdLoader(DataLoader[uuid.UUID, Row | None]):
    """One SELECT … WHERE id IN (…) per batch, selecting ``columns`` of ``table``."""

    def __init__(self, db: Database, table: Table, columns: list[Column]) -> None:
        super().__init__()
        self.db = db
        self.table = table
        self.columns = columns

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Row | None]:
        async with self.db.reader() as conn:
            rows = await conn.execute(select(*self.columns).where(self.table.c.id.in_(keys)))
            by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]
