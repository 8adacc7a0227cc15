"""Rows of one table by primary key, optionally restricted by a scope (e.g. the viewer's tenant)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from aiodataloader import DataLoader
from sqlalchemy import Column, Select, Table, select
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database


class RowsByIdLoader(DataLoader[uuid.UUID, Row | None]):
    """One SELECT … WHERE id IN (…) per batch, selecting ``columns`` of ``table``; ``scope`` restricts the query
    (rows outside it load as None), otherwise callers reach the rows through an already-authorised parent."""

    def __init__(
        self, db: Database, table: Table, columns: list[Column], scope: Callable[[Select], Select] | None = None
    ) -> None:
        super().__init__()
        self.db = db
        self.table = table
        self.columns = columns
        self.scope = scope

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Row | None]:
        async with self.db.reader() as conn:
            query = select(*self.columns).where(self.table.c.id.in_(keys))
            rows = await conn.execute(self.scope(query) if self.scope else query)
            by_id = {row.id: row for row in rows}
        return [by_id.get(key) for key in keys]
