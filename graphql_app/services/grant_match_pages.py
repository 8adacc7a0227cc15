"""Cursor pages of stored grant matches, for one company, many companies (batched) or a whole tenant.

Keyset pagination over ``(score DESC, id ASC)``: a cursor names the last row seen, so pages stay stable
while other rows change. One statement returns the page rows *and* the filtered total (a window count taken
before the cursor condition), so a frontend page costs a single SELECT.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app.auth import Principal
from graphql_app.db.models import grant_matches, grants
from graphql_app.db.scoping import scoped
from graphql_app.services.grant_matching import open_grant_condition
from graphql_app.services.pages import MatchPage, PageRequest, fetch_ranked_pages

MATCH_COLUMNS = list(grant_matches.c)


@dataclass(frozen=True)
class GrantMatchFilter:
    """Filters of a grant-match list. ``status``: ACTIVE (not dismissed), SAVED, DISMISSED or None (all)."""

    status: str | None = None
    min_score: float | None = None


def filter_conditions(flt: GrantMatchFilter, now: datetime) -> list:
    conditions = [open_grant_condition(now)]  # closed grants are never listed
    if flt.status == "ACTIVE":
        conditions.append(grant_matches.c.is_dismissed.is_(False))
    elif flt.status == "SAVED":
        conditions.append(grant_matches.c.is_saved.is_(True))
    elif flt.status == "DISMISSED":
        conditions.append(grant_matches.c.is_dismissed.is_(True))
    if flt.min_score is not None:
        conditions.append(grant_matches.c.score >= flt.min_score)
    return conditions


async def fetch_grant_match_pages(
    conn: AsyncConnection,
    principal: Principal,
    company_ids: list[uuid.UUID] | None,
    flt: GrantMatchFilter,
    page: PageRequest,
    now: datetime,
) -> dict[uuid.UUID | None, MatchPage]:
    """Pages keyed by company id (or ``None`` for the tenant-wide list when ``company_ids`` is None)."""
    base = select(*MATCH_COLUMNS).join(grants, grants.c.id == grant_matches.c.grant_id)
    base = scoped(base.where(*filter_conditions(flt, now)), grant_matches, principal)
    if company_ids is not None:
        base = base.where(grant_matches.c.company_id.in_(company_ids))
    return await fetch_ranked_pages(
        conn, base, score="score", partition="company_id" if company_ids is not None else None, page=page
    )


async def count_grant_matches(
    conn: AsyncConnection,
    principal: Principal,
    company_ids: list[uuid.UUID] | None,
    flt: GrantMatchFilter,
    now: datetime,
) -> dict[uuid.UUID | None, int]:
    """Filtered totals, for the pages that came back empty (a cursor past the end, or no matches)."""
    key = grant_matches.c.company_id if company_ids is not None else None
    columns = [key, func.count()] if key is not None else [func.count()]
    query = select(*columns).join(grants, grants.c.id == grant_matches.c.grant_id)
    query = scoped(query.where(*filter_conditions(flt, now)), grant_matches, principal)
    if company_ids is not None:
        query = query.where(grant_matches.c.company_id.in_(company_ids)).group_by(key)
        return {row[0]: row[1] for row in await conn.execute(query)}
    return {None: int(await conn.scalar(query) or 0)}
