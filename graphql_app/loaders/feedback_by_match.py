"""Placement feedback by job match id (many per match, oldest first)."""

from __future__ import annotations

import uuid
from collections import defaultdict

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database
from graphql_app.db.models import placement_feedback


class FeedbackByMatchLoader(DataLoader[uuid.UUID, list[Row]]):
    def __init__(self, db: Database) -> None:
        super().__init__()
        self.db = db

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[list[Row]]:
        query = (
            select(placement_feedback)
            .where(placement_feedback.c.match_id.in_(keys))
            .order_by(placement_feedback.c.created_at, placement_feedback.c.id)
        )
        by_match: dict[uuid.UUID, list[Row]] = defaultdict(list)
        async with self.db.reader() as conn:
            for row in await conn.execute(query):
                by_match[row.match_id].append(row)
        return [by_match.get(key, []) for key in keys]
