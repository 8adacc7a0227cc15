"""Cursor pages of stored grant matches, for one company, many companies (batched) or a whole tenant.

Keyset pagination over ``(score DESC, id ASC)``: a cursor names the last row seen, so pages stay stable
while other rows change. One statement returns the page rows *and* the filtered total (a window count taken
before the cursor condition), so a frontend page costs a single SELECT.
"""

from __future__ import annotations

import functools
import operator
import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Select, and_, any_, bindparam, func, select, true
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import catalogue_version, companies, grant_matches, grants
from graphql_app.db.statements import ShapedStatements
from graphql_app.errors import not_found
from graphql_app.services.catalogue import (
    COMPANY_COLUMNS,
    GRANT_COLUMNS,
    visible_company,
    visible_company_conditions,
)
from graphql_app.services.grant_catalogue import CATALOGUE_KEY, CatalogueColumns
from graphql_app.services.grant_matching import (
    ComputedMatch,
    computed_matches,
    listed_match_indices,
    score_catalogue_for_company,
)
from graphql_app.services.pages import (
    MatchPage,
    PageRequest,
    decode_offset_cursor,
    encode_offset_cursor,
    fetch_ranked_pages,
    ranked_page_values,
    ranked_pages_statement,
)

MATCH_COLUMNS = list(grant_matches.c)
#: Prefixes of the matched grant's and company's columns on a page row: a page reads them in its own statement,
#: so the nested `grant` and `company` fields cost no statement of their own.
GRANT_PREFIX, COMPANY_PREFIX = "grant__", "company__"
#: Bind parameters of a page's filter values (db.statements: pages are built once per shape).
MIN_SCORE, COMPANY_IDS = "min_score", "company_ids"
_PAGE_STATEMENTS = ShapedStatements()


@dataclass(frozen=True)
class GrantMatchFilter:
    """Filters of a grant-match list. ``status``: ACTIVE (not dismissed), SAVED, DISMISSED or None (all)."""

    status: str | None = None
    min_score: float | None = None


def list_conditions(principal: Principal, flt: GrantMatchFilter, now: datetime) -> list:
    """The list's rows (``access.grant_match_list``: tenant, open grants, status; ``grants`` joined) over
    ``min_score``."""
    conditions = access.grant_match_list(grant_matches, grants, principal, now, flt.status)
    if flt.min_score is not None:
        conditions.append(grant_matches.c.score >= bindparam(MIN_SCORE, flt.min_score, type_=Float))
    return conditions


def _page_base(principal: Principal, flt: GrantMatchFilter, now: datetime, by_company: bool) -> Select:
    """The filtered matches with their grant's and (visible) company's columns."""
    company_visible = and_(companies.c.id == grant_matches.c.company_id, access.tenant_rows(companies, principal))
    columns = [
        *MATCH_COLUMNS,
        *(column.label(GRANT_PREFIX + column.name) for column in GRANT_COLUMNS),
        *(column.label(COMPANY_PREFIX + column.name) for column in COMPANY_COLUMNS),
    ]
    joined = grant_matches.join(grants, grants.c.id == grant_matches.c.grant_id).outerjoin(companies, company_visible)
    base = select(*columns).select_from(joined).where(*list_conditions(principal, flt, now))
    if by_company:
        base = base.where(grant_matches.c.company_id == any_(bindparam(COMPANY_IDS, type_=ARRAY(UUID(as_uuid=True)))))
    return base


async def fetch_grant_match_pages(
    db: Database,
    principal: Principal,
    company_ids: list[uuid.UUID] | None,
    flt: GrantMatchFilter,
    page: PageRequest,
    now: datetime,
) -> dict[uuid.UUID | None, MatchPage]:
    """Pages keyed by company id (or ``None`` for the tenant-wide list when ``company_ids`` is None), of
    :data:`GrantMatchPageRow`: each row carries its grant's and (visible) company's columns."""
    by_company = company_ids is not None
    partition = "company_id" if by_company else None
    after = page.after is not None
    shape = (*access.viewer_shape(principal), flt.status, flt.min_score is not None, by_company, after)
    base = functools.partial(_page_base, principal, flt, now, by_company)
    statement = _PAGE_STATEMENTS.get(
        shape, lambda: ranked_pages_statement(base(), score="score", partition=partition, after=after)
    )
    values = {**access.viewer_values(principal, now), **ranked_page_values(page)}
    if flt.min_score is not None:
        values[MIN_SCORE] = flt.min_score
    if by_company:
        values[COMPANY_IDS] = company_ids
    return await fetch_ranked_pages(db, statement, values, partition=partition, page=page, row_reader=_page_row_reader)


#: A grant's and a company's API columns, and a stored page's row with its grant and company: named tuples, read at
#: C speed (a SQLAlchemy row resolves each name in Python) and pickled fast (a live page's grants cross from a
#: scoring process as these; a ``Row`` carries its result metadata along).
GrantColumns = namedtuple("GrantColumns", [column.name for column in GRANT_COLUMNS])
CompanyColumns = namedtuple("CompanyColumns", [column.name for column in COMPANY_COLUMNS])
GrantMatchPageRow = namedtuple(
    "GrantMatchPageRow", [*(column.name for column in MATCH_COLUMNS), "total_count", "position", "grant", "company"]
)


@functools.cache
def _page_row_reader(fields: tuple[str, ...]) -> Callable[[Sequence[Any]], GrantMatchPageRow]:
    """Splits a page statement's record (its column names: ``fields``) into a :data:`GrantMatchPageRow`."""
    match = operator.itemgetter(*(fields.index(name) for name in (*(c.name for c in MATCH_COLUMNS), "total_count")))
    position = fields.index("position")
    grant = operator.itemgetter(*(fields.index(GRANT_PREFIX + name) for name in GrantColumns._fields))
    company = operator.itemgetter(*(fields.index(COMPANY_PREFIX + name) for name in CompanyColumns._fields))
    company_id = fields.index(COMPANY_PREFIX + "id")

    def read(row: Sequence[Any]) -> GrantMatchPageRow:
        visible_company = CompanyColumns._make(company(row)) if row[company_id] is not None else None
        return GrantMatchPageRow(*match(row), row[position], GrantColumns._make(grant(row)), visible_company)

    return read


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
    query = query.where(*list_conditions(principal, flt, now))
    if company_ids is not None:
        query = query.where(grant_matches.c.company_id.in_(company_ids)).group_by(key)
        return {row[0]: row[1] for row in await conn.execute(query)}
    return {None: int(await conn.scalar(query) or 0)}


async def grant_match_page(
    db: Database,
    principal: Principal,
    company_id: uuid.UUID | None,
    flt: GrantMatchFilter,
    page: PageRequest,
    now: datetime,
) -> MatchPage:
    """One company's (or the tenant's) page; NOT_FOUND for a company the principal cannot see."""
    keys = [company_id] if company_id is not None else None
    result = (await fetch_grant_match_pages(db, principal, keys, flt, page, now)).get(company_id)
    if result is None:  # empty page: tell "no matches" from "no such company", and count past the end
        async with db.reader() as conn:
            if company_id is not None:
                await visible_company(conn, principal, company_id)
            total = (await count_grant_matches(conn, principal, keys, flt, now)).get(company_id, 0) if page.after else 0
        result = MatchPage(total_count=total, has_previous_page=page.after is not None)
    return result


async def get_grant_match(db: Database, principal: Principal, match_id: uuid.UUID) -> Row:
    query = select(grant_matches).where(grant_matches.c.id == match_id, access.tenant_rows(grant_matches, principal))
    async with db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Grant match", match_id)
    return row


@dataclass
class GrantMatchStatistics:
    total: int
    saved: int
    dismissed: int
    viewed: int
    average_score: float | None
    top_score: float | None
    histogram: list[int]  # ten buckets of width 0.1 over 0..1 (the last includes 1)


async def grant_match_statistics(
    db: Database, principal: Principal, company_id: uuid.UUID | None, now: datetime
) -> GrantMatchStatistics:
    """Counts, mean and top score and a histogram of the stored matches whose grant is open."""
    bucket = func.least(func.floor(grant_matches.c.score * 10), 9).label("bucket")
    query = (
        select(
            bucket,
            func.count().label("n"),
            func.count().filter(grant_matches.c.is_saved).label("saved"),
            func.count().filter(grant_matches.c.is_dismissed).label("dismissed"),
            func.count().filter(grant_matches.c.is_viewed).label("viewed"),
            func.sum(grant_matches.c.score).label("score_sum"),
            func.max(grant_matches.c.score).label("top"),
        )
        .join(grants, grants.c.id == grant_matches.c.grant_id)
        .where(*list_conditions(principal, GrantMatchFilter(), now))
    )
    async with db.reader() as conn:
        if company_id is not None:
            await visible_company(conn, principal, company_id)
            query = query.where(grant_matches.c.company_id == company_id)
        rows = list(await conn.execute(query.group_by(bucket)))
    counts = {int(r.bucket): r.n for r in rows}
    total = sum(r.n for r in rows)
    return GrantMatchStatistics(
        total=total,
        saved=sum(r.saved for r in rows),
        dismissed=sum(r.dismissed for r in rows),
        viewed=sum(r.viewed for r in rows),
        average_score=(sum(r.score_sum for r in rows) / total) if total else None,
        top_score=max((r.top for r in rows), default=None),
        histogram=[counts.get(i, 0) for i in range(10)],
    )


@dataclass
class LiveMatchPage:
    matches: list[ComputedMatch]
    grants: list[GrantColumns]  # each match's grant
    cursors: list[str]
    total_count: int
    has_next_page: bool
    has_previous_page: bool


#: Most grant rows a catalogue copy keeps for live pages (beyond, it starts over): pages show the top grants of
#: each company, a small part of a large catalogue.
MAX_KEPT_GRANT_ROWS = 20_000


async def catalogue_grant_rows(
    conn: AsyncConnection, columns: CatalogueColumns, ids: list[uuid.UUID]
) -> list[GrantColumns]:
    """The grants ``ids`` (API columns), read once per copy of the catalogue (``CatalogueColumns.grant_rows``)."""
    kept = columns.grant_rows
    found = {grant_id: kept[grant_id] for grant_id in ids if grant_id in kept}
    missing = [grant_id for grant_id in ids if grant_id not in found]
    if missing:
        if len(kept) + len(missing) > MAX_KEPT_GRANT_ROWS:
            kept.clear()
        for row in await conn.execute(select(*GRANT_COLUMNS).where(grants.c.id.in_(missing))):
            found[row.id] = kept[row.id] = GrantColumns(*row)
    return [found[grant_id] for grant_id in ids]


async def _visible_company_and_catalogue_key(
    conn: AsyncConnection, principal: Principal, company_id: uuid.UUID
) -> tuple[Row, tuple]:
    """``visible_company`` and the catalogue's version key (``CATALOGUE_KEY``) in one statement."""
    query = (
        select(companies, *CATALOGUE_KEY.selected_columns)
        .select_from(companies.join(catalogue_version, true()))
        .where(*visible_company_conditions(principal, company_id))
    )
    row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Company", company_id)
    return row, tuple(row[len(companies.c) :])


async def live_grant_match_page(
    db: Database,
    principal: Principal,
    company_id: uuid.UUID,
    min_score: float,
    first: int,
    after: str | None,
    now: datetime,
    *,
    offload_cpu: bool = True,
) -> LiveMatchPage:
    """Matches computed now from the current catalogue and peers (nothing stored), offset-paged, with their grants.
    ``offload_cpu``: see ``score_catalogue_for_company``."""
    offset = decode_offset_cursor(after)
    async with db.reader() as conn:
        company, catalogue_key = await _visible_company_and_catalogue_key(conn, principal, company_id)
        scored = await score_catalogue_for_company(
            conn, company, now, offload_cpu=offload_cpu, catalogue_key=catalogue_key
        )
        indices = listed_match_indices(scored, min_score)
        window = indices[offset : offset + first]
        matches = computed_matches(scored, window)
        grant_rows = await catalogue_grant_rows(conn, scored.columns, [m.grant_id for m in matches])
    return LiveMatchPage(
        matches=matches,
        grants=grant_rows,
        cursors=[encode_offset_cursor(offset + i) for i in range(len(window))],
        total_count=len(indices),
        has_next_page=offset + first < len(indices),
        has_previous_page=offset > 0,
    )
