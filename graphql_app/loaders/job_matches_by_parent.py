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
            totals: dict[uuid.UUID, int] = {}
            past_the_end = [parent_id for parent_id in ids if parent_id not in pages] if page.after else []
            if past_the_end:  # their totals still count the whole lists
                async with self.db.reader() as conn:
                    for parent_id in past_the_end:
                        totals[parent_id] = await count_job_matches(conn, self.principal, self.parent, parent_id, flt)
            for parent_id in ids:
                results[(parent_id, flt, page)] = pages.get(parent_id) or MatchPage(
                    total_count=totals.get(parent_id, 0), has_previous_page=page.after is not None
                )
        return [results[key] for key in keys]
