"""Cursor pages of stored grant matches, for one company, many companies (batched) or a whole tenant.

Keyset pagination over ``(score DESC, id ASC)``: a cursor names the last row seen, so pages stay stable
while other rows change. One statement returns the page rows *and* the filtered total (a window count taken
before the cursor condition), so a frontend page costs a single SELECT.
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, func, literal_column, or_, select
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app.auth import Principal
from graphql_app.db.models import grant_matches, grants
from graphql_app.db.scoping import scoped
from graphql_app.errors import BadUserInput

MATCH_COLUMNS = list(grant_matches.c)


@dataclass(frozen=True)
class MatchCursor:
    score: float
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"gm1|{self.score!r}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> MatchCursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            tag, score, ident = raw.split("|")
            if tag != "gm1":
                raise ValueError(tag)
            return cls(float(score), uuid.UUID(ident))
        except (ValueError, UnicodeDecodeError):
            raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None


@dataclass(frozen=True)
class GrantMatchFilter:
    """Filters of a grant-match list. ``status``: ACTIVE (not dismissed), SAVED, DISMISSED or None (all)."""

    status: str | None = None
    min_score: float | None = None


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: MatchCursor | None = None


@dataclass
class MatchPage:
    rows: list[Row] = field(default_factory=list)
    total_count: int = 0
    has_next_page: bool = False
    has_previous_page: bool = False


def filter_conditions(flt: GrantMatchFilter, now: datetime) -> list:
    conditions = [or_(grants.c.deadline.is_(None), grants.c.deadline >= now)]  # closed grants never listed
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
    partition = [grant_matches.c.company_id] if company_ids is not None else []
    base = select(
        *MATCH_COLUMNS,
        func.count().over(partition_by=partition).label("total_count"),
    ).join(grants, grants.c.id == grant_matches.c.grant_id)
    base = scoped(base.where(*filter_conditions(flt, now)), grant_matches, principal)
    if company_ids is not None:
        base = base.where(grant_matches.c.company_id.in_(company_ids))
    filtered = base.subquery("filtered")
    after_cursor = filtered.c.score.isnot(None)
    if page.after is not None:
        after_cursor = or_(
            filtered.c.score < page.after.score,
            and_(filtered.c.score == page.after.score, filtered.c.id > page.after.id),
        )
    ranked = (
        select(
            filtered,
            func.row_number()
            .over(
                partition_by=[filtered.c.company_id] if company_ids is not None else [],
                order_by=[filtered.c.score.desc(), filtered.c.id],
            )
            .label("position"),
        )
        .where(after_cursor)
        .subquery("ranked")
    )
    query = (
        select(ranked)
        .where(ranked.c.position <= page.first + 1)
        .order_by(ranked.c.company_id, literal_column("position"))
    )
    pages: dict[uuid.UUID | None, MatchPage] = {}
    for row in await conn.execute(query):
        key = row.company_id if company_ids is not None else None
        current = pages.setdefault(
            key, MatchPage(total_count=row.total_count, has_previous_page=page.after is not None)
        )
        if row.position > page.first:
            current.has_next_page = True
        else:
            current.rows.append(row)
    return pages


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
