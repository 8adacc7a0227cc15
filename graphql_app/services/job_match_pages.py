"""Cursor pages of job matches, by job or by member (batched), ordered by belonging probability."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import Select, any_, bindparam, func, select
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import job_matches
from graphql_app.db.statements import ShapedStatements
from graphql_app.services.pages import (
    MatchPage,
    PageRequest,
    fetch_ranked_pages,
    ranked_page_values,
    ranked_pages_statement,
)

JOB_MATCH_COLUMNS = [c for c in job_matches.c if c.name != "explanation"] + [job_matches.c.explanation]
#: The parents' ids of a batch of pages (db.statements: pages are built once per shape).
PARENT_IDS = "parent_ids"
_PAGE_STATEMENTS = ShapedStatements()


@dataclass(frozen=True)
class JobMatchFilter:
    quality: str | None = None
    status: str | None = None


async def fetch_job_match_pages(
    db: Database,
    principal: Principal,
    key: str,
    ids: list[uuid.UUID],
    flt: JobMatchFilter,
    page: PageRequest,
) -> dict[object, MatchPage]:
    """Pages keyed by ``key`` (``job_id`` or ``member_id``) for each of ``ids``, only matches the viewer may see."""
    shape = (*access.viewer_shape(principal), key, flt.quality is not None, flt.status is not None, bool(page.after))
    statement = _PAGE_STATEMENTS.get(shape, lambda: _pages_statement(principal, key, flt, page))
    values = {**access.viewer_values(principal, None), **ranked_page_values(page), PARENT_IDS: ids}
    values.update(quality=flt.quality, status=flt.status)
    return await fetch_ranked_pages(db, statement, values, partition=key, page=page)


def _pages_statement(principal: Principal, key: str, flt: JobMatchFilter, page: PageRequest) -> Select:
    base = select(*JOB_MATCH_COLUMNS, job_matches.c.belonging_probability.label("score")).where(
        job_matches.c[key] == any_(bindparam(PARENT_IDS, type_=ARRAY(UUID(as_uuid=True)))),
        *access.job_match_list(job_matches, principal, flt.quality, flt.status),
    )
    return ranked_pages_statement(base, score="score", partition=key, after=page.after is not None)


async def count_job_matches(
    conn: AsyncConnection, principal: Principal, key: str, parent_id: uuid.UUID, flt: JobMatchFilter
) -> int:
    """The filtered total of one parent's list, for a page that came back empty (a cursor past the end)."""
    query = select(func.count()).where(
        job_matches.c[key] == parent_id, *access.job_match_list(job_matches, principal, flt.quality, flt.status)
    )
    return int(await conn.scalar(query) or 0)
