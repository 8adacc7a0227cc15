"""Companies by id, scoped to the viewer's tenant (another tenant's company loads as None)."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader
from sqlalchemy import select
from sqlalchemy.engine import Row

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import companies
from graphql_app.db.scoping import scoped

COMPANY_COLUMNS = [c for c in companies.c if c.name != "embedding"]


class CompanyByIdLoader(DataLoader[uuid.UUID, Row | None]):
    def __init__(self, db: Database, principal: Principal) -> None:
        super().__init__()
        self.db = db
        self.principal = principal

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Row | None]:
        query = scoped(select(*COMPANY_COLUMNS).where(companies.c.id.in_(keys)), companies, self.principal)
        async with self.db.reader() as conn:
            by_id = {row.id: row for row in await conn.execute(query)}
        return [by_id.get(key) for key in keys]
