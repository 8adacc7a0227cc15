"""Placement outcomes by job match id (one per match)."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database
from graphql_app.db.models import placement_outcomes


class OutcomeByMatchLoader(DataLoader[uuid.UUID, Row | None]):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Row | None]:
        async with self.db.reader() as conn:
            rows = await conn.execute(select(placement_outcomes).where(placement_outcomes.c.match_id.in_(keys)))
            by_match = {row.match_id: row for row in rows}
        return [by_match.get(key) for key in keys]
