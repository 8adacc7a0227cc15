"""`Company.grantMatches` pages for many companies at once: one SELECT per distinct argument set."""

from __future__ import annotations

import uuid
from collections import defaultdict
from datetime import datetime

from aiodataloader import DataLoader

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.services.grant_match_pages import (
    GrantMatchFilter,
    count_grant_matches,
    fetch_grant_match_pages,
)
from graphql_app.services.pages import MatchPage, PageRequest

Key = tuple[uuid.UUID, GrantMatchFilter, PageRequest, datetime]


class GrantMatchesByCompanyLoader(DataLoader[Key, MatchPage]):
    def __init__(self, db: Database, principal: Principal) -> None:
        super().__init__()
        self.db = db
        self.principal = principal

    async def batch_load_fn(self, keys: list[Key]) -> list[MatchPage]:
        groups: dict[tuple[GrantMatchFilter, PageRequest, datetime], list[uuid.UUID]] = defaultdict(list)
        for company_id, flt, page, now in keys:
            groups[(flt, page, now)].append(company_id)
        results: dict[Key, MatchPage] = {}
        for (flt, page, now), company_ids in groups.items():
            pages = await fetch_grant_match_pages(self.db, self.principal, company_ids, flt, page, now)
            empty = [cid for cid in company_ids if cid not in pages]
            totals = {}
            if page.after and empty:  # past the end of these lists: their totals still count them
                async with self.db.reader() as conn:
                    totals = await count_grant_matches(conn, self.principal, empty, flt, now)
            for cid in company_ids:
                results[(cid, flt, page, now)] = pages.get(cid) or MatchPage(
                    total_count=totals.get(cid, 0), has_previous_page=page.after is not None
                )
        return [results[key] for key in keys]
