"""`Job.matches` and `Member.matches` pages for many parents at once: one SELECT per distinct argument set."""

from __future__ import annotations

import uuid
from collections import defaultdict

from aiodataloader import DataLoader

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.services.job_match_pages import JobMatchFilter, count_job_matches, fetch_job_match_pages
from graphql_app.services.pages import MatchPage, PageRequest

Key = tuple[uuid.UUID, JobMatchFilter, PageRequest]


class JobMatchesByParentLoader(DataLoader[Key, MatchPage]):
    """Pages keyed by ``parent`` = ``job_id`` or ``member_id``."""

    def __init__(self, db: Database, principal: Principal, parent: str) -> None:
        super().__init__()
        self.db = db
        self.principal = principal
        self.parent = parent

    async def batch_load_fn(self, keys: list[Key]) -> list[MatchPage]:
        groups: dict[tuple[JobMatchFilter, PageRequest], list[uuid.UUID]] = defaultdict(list)
        for parent_id, flt, page in keys:
            groups[(flt, page)].append(parent_id)
        results: dict[Key, MatchPage] = {}
        for (flt, page), ids in groups.items():
            pages = await fetch_job_match_pages(self.db, self.principal, self.parent, ids, flt, page)
            for parent_id in ids:
                total = 0
                if parent_id not in pages and page.after:  # past the end: the total still counts the list
                    async with self.db.reader() as conn:
                        total = await count_job_matches(conn, self.principal, self.parent, parent_id, flt)
                results[(parent_id, flt, page)] = pages.get(parent_id) or MatchPage(
                    total_count=total, has_previous_page=page.after is not None
                )
        return [results[key] for key in keys]
