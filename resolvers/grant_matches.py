"""Root fields and mutations for grant matches (see docs/matching.md, docs/api.md)."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy import func, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection
from strawberry.types import Info

from graphql_app import validation
from graphql_app.auth import Principal
from graphql_app.db.models import companies, grant_matches, grants
from graphql_app.db.scoping import scoped
from graphql_app.errors import NotFound, not_found
from graphql_app.services import computations as computation_service
from graphql_app.services.grant_match_pages import (
    GrantMatchFilter,
    count_grant_matches,
    fetch_grant_match_pages,
    filter_conditions,
)
from graphql_app.services.grant_matching import (
    computed_match,
    listed_match_indices,
    recompute_and_store_matches,
    score_catalogue_for_company,
    top_matches,
)
from graphql_app.services.pages import (
    MatchCursor,
    MatchPage,
    PageRequest,
    decode_offset_cursor,
    encode_offset_cursor,
)
from schema.connections import Connection, build_connection
from schema.enums import GrantMatchAction, GrantMatchStatus
from schema.types.computation import Computation
from schema.types.grant_match import GrantMatch, grant_match_connection
from schema.types.grant_match_stats import GrantMatchStats, ScoreBucket
from schema.types.live_grant_match import LiveGrantMatch

CompanyIdArg = Annotated[strawberry.ID, strawberry.argument(description="The company's UUID.")]
GrantIdArg = Annotated[strawberry.ID, strawberry.argument(description="The grant's UUID.")]
MatchIdArg = Annotated[strawberry.ID, strawberry.argument(description="The grant match's UUID.")]
FirstArg = Annotated[int, strawberry.argument(description="Page size, 1–100.")]
AfterArg = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]
MinScoreArg = Annotated[float | None, strawberry.argument(description="Lowest total score, 0..1.")]


async def _company_row(conn: AsyncConnection, principal: Principal, company_id: uuid.UUID, *, lock: bool = False):
    query = scoped(select(companies).where(companies.c.id == company_id), companies, principal)
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Company", company_id)
    return row


async def grant_matches_page(
    info: Info,
    company_id: Annotated[
        strawberry.ID | None,
        strawberry.argument(description="Only this company's matches (else the whole tenant)."),
    ] = None,
    status: Annotated[GrantMatchStatus | None, strawberry.argument(description="ACTIVE, SAVED or DISMISSED.")] = None,
    min_score: MinScoreArg = None,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> Connection[GrantMatch]:
    """Stored grant matches, best first: the frontend's page (one SELECT, plus one per nested type)."""
    viewer = info.context.viewer
    cid = validation.parse_uuid(company_id, "companyId") if company_id is not None else None
    flt = GrantMatchFilter(status.value if status else None, validation.score_threshold(min_score))
    page = PageRequest(validation.page_size(first), MatchCursor.decode(after) if after else None)
    now = info.context.clock.now()
    keys = [cid] if cid is not None else None
    async with info.context.db.reader() as conn:
        pages = await fetch_grant_match_pages(conn, viewer, keys, flt, page, now)
        result = pages.get(cid)
        if result is None:  # empty page: tell "no matches" from "no such company", and count past the end
            if cid is not None:
                await _company_row(conn, viewer, cid)
            total = (await count_grant_matches(conn, viewer, keys, flt, now)).get(cid, 0) if page.after else 0
            result = MatchPage(total_count=total, has_previous_page=page.after is not None)
    return grant_match_connection(result)


async def grant_match(info: Info, id: MatchIdArg) -> GrantMatch:
    match_id = validation.parse_uuid(id)
    query = scoped(select(grant_matches).where(grant_matches.c.id == match_id), grant_matches, info.context.viewer)
    async with info.context.db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Grant match", id)
    return GrantMatch.from_row(row)


async def grant_match_stats(
    info: Info,
    company_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="One company (else the whole tenant).")
    ] = None,
) -> GrantMatchStats:
    """Counts, average and top score and a histogram of the stored matches whose grant is open."""
    viewer = info.context.viewer
    bucket = func.least(func.floor(grant_matches.c.score * 10), 9).label("bucket")
    query = select(
        bucket,
        func.count().label("n"),
        func.count().filter(grant_matches.c.is_saved).label("saved"),
        func.count().filter(grant_matches.c.is_dismissed).label("dismissed"),
        func.count().filter(grant_matches.c.is_viewed).label("viewed"),
        func.sum(grant_matches.c.score).label("score_sum"),
        func.max(grant_matches.c.score).label("top"),
    ).join(grants, grants.c.id == grant_matches.c.grant_id)
    query = scoped(query.where(*filter_conditions(GrantMatchFilter(), info.context.clock.now())), grant_matches, viewer)
    async with info.context.db.reader() as conn:
        if company_id is not None:
            cid = validation.parse_uuid(company_id, "companyId")
            await _company_row(conn, viewer, cid)
            query = query.where(grant_matches.c.company_id == cid)
        rows = list(await conn.execute(query.group_by(bucket)))
    counts = {int(r.bucket): r.n for r in rows}
    total = sum(r.n for r in rows)
    return GrantMatchStats(
        total=total,
        saved=sum(r.saved for r in rows),
        dismissed=sum(r.dismissed for r in rows),
        viewed=sum(r.viewed for r in rows),
        average_score=(sum(r.score_sum for r in rows) / total) if total else None,
        top_score=max((r.top for r in rows), default=None),
        histogram=[
            ScoreBucket(lower=round(i / 10, 1), upper=round((i + 1) / 10, 1), count=counts.get(i, 0)) for i in range(10)
        ],
    )


async def live_grant_matches(
    info: Info,
    company_id: CompanyIdArg,
    min_score: MinScoreArg = None,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> Connection[LiveGrantMatch]:
    """Matches computed now from the current catalogue and peers; nothing is stored."""
    viewer = info.context.viewer
    cid = validation.parse_uuid(company_id, "companyId")
    threshold = validation.score_threshold(min_score) or 0.0
    limit = validation.page_size(first)
    offset = decode_offset_cursor(after)
    async with info.context.db.reader() as conn:
        company = await _company_row(conn, viewer, cid)
        scored = await score_catalogue_for_company(conn, company, info.context.clock.now())
    indices = listed_match_indices(scored, threshold)
    window = indices[offset : offset + limit]
    nodes = [LiveGrantMatch.from_computed(computed_match(scored, i)) for i in window]
    return build_connection(
        nodes,
        [encode_offset_cursor(offset + i) for i in range(len(window))],
        total_count=len(indices),
        has_next_page=offset + limit < len(indices),
        has_previous_page=offset > 0,
    )


@strawberry.type(description="What `refreshGrantMatches` computed (and stored, when asked to).")
class GrantMatchRefresh:
    company_id: strawberry.ID = strawberry.field(description="The company.")
    saved: bool = strawberry.field(description="Whether the matches were stored.")
    candidate_count: int = strawberry.field(description="Open grants the company is eligible for that were scored.")
    matches: list[LiveGrantMatch] = strawberry.field(description="The best matches, best first.")
    stored_matches: list[GrantMatch] = strawberry.field(
        description="The stored matches (ids and interaction flags), best first; empty when not saved."
    )


async def refresh_grant_matches(
    info: Info,
    company_id: CompanyIdArg,
    save_results: Annotated[bool, strawberry.argument(description="Store the results.")] = True,
    limit: Annotated[int, strawberry.argument(description="How many matches, 1–100.")] = 20,
) -> GrantMatchRefresh:
    """Recompute a company's matches now; stored ones keep their viewed/saved/dismissed flags."""
    viewer = info.context.viewer
    cid = validation.parse_uuid(company_id, "companyId")
    limit = validation.page_size(limit)
    now = info.context.clock.now()
    stored: list[Row] = []
    if save_results:
        async with info.context.db.transaction() as conn:
            company = await _company_row(conn, viewer, cid, lock=True)
            top, candidate_count = await recompute_and_store_matches(conn, company, now, limit)
            if top:
                by_grant = {
                    row.grant_id: row
                    for row in await conn.execute(
                        select(grant_matches).where(
                            grant_matches.c.company_id == cid,
                            grant_matches.c.grant_id.in_([m.grant_id for m in top]),
                        )
                    )
                }
                stored = [by_grant[m.grant_id] for m in top]
    else:
        async with info.context.db.reader() as conn:
            company = await _company_row(conn, viewer, cid)
            scored = await score_catalogue_for_company(conn, company, now)
        top, candidate_count = top_matches(scored, limit), len(scored.candidates.ids)
    return GrantMatchRefresh(
        company_id=str(cid),
        saved=save_results,
        candidate_count=candidate_count,
        matches=[LiveGrantMatch.from_computed(m) for m in top],
        stored_matches=[GrantMatch.from_row(r) for r in stored],
    )


async def calculate_grant_matches(info: Info, company_id: CompanyIdArg) -> Computation:
    """Queue the computation of a company's grant matches; returns the QUEUED computation to follow."""
    viewer = info.context.viewer
    cid = validation.parse_uuid(company_id, "companyId")
    async with info.context.db.reader() as conn:
        company = await _company_row(conn, viewer, cid)
    record = await computation_service.start_computation(
        info.context.db, viewer, company.tenant_id, computation_service.GRANT_MATCHES, cid, {"companyId": str(cid)}
    )
    return Computation.from_row(record)


_ACTION_VALUES = {
    GrantMatchAction.SAVE: {"is_saved": True, "is_dismissed": False},
    GrantMatchAction.DISMISS: {"is_saved": False, "is_dismissed": True},
    GrantMatchAction.RESTORE: {"is_saved": False, "is_dismissed": False},
}


async def _update_match(info: Info, where: list, values: dict, missing: NotFound) -> GrantMatch:
    statement = scoped(update(grant_matches).where(*where), grant_matches, info.context.viewer)  # type: ignore[arg-type]
    async with info.context.db.transaction() as conn:
        row = (
            await conn.execute(statement.values(**values, updated_at=func.now()).returning(*grant_matches.c))
        ).first()
    if row is None:
        raise missing
    return GrantMatch.from_row(row)


def _pair(company_id: str, grant_id: str) -> tuple[list, NotFound]:
    cid = validation.parse_uuid(company_id, "companyId")
    gid = validation.parse_uuid(grant_id, "grantId")
    missing = NotFound(
        f"No stored match of company {cid} and grant {gid}; run calculateGrantMatches first.",
        kind="GrantMatch",
    )
    return [grant_matches.c.company_id == cid, grant_matches.c.grant_id == gid], missing


async def apply_grant_match_action(
    info: Info,
    match_id: MatchIdArg,
    action: Annotated[GrantMatchAction, strawberry.argument(description="SAVE, DISMISS or RESTORE.")],
) -> GrantMatch:
    """SAVE sets saved and clears dismissed; DISMISS the reverse; RESTORE clears both."""
    mid = validation.parse_uuid(match_id, "matchId")
    return await _update_match(info, [grant_matches.c.id == mid], _ACTION_VALUES[action], not_found("Grant match", mid))


async def mark_grant_match_viewed(info: Info, company_id: CompanyIdArg, grant_id: GrantIdArg) -> GrantMatch:
    where, missing = _pair(company_id, grant_id)
    values = {"is_viewed": True, "viewed_at": func.coalesce(grant_matches.c.viewed_at, func.now())}
    return await _update_match(info, where, values, missing)


async def set_grant_match_saved(
    info: Info,
    company_id: CompanyIdArg,
    grant_id: GrantIdArg,
    saved: Annotated[bool, strawberry.argument(description="Saved (true) or not (false).")] = True,
) -> GrantMatch:
    """Saving also clears dismissed (a match is never both)."""
    where, missing = _pair(company_id, grant_id)
    values = _ACTION_VALUES[GrantMatchAction.SAVE] if saved else {"is_saved": False}
    return await _update_match(info, where, values, missing)


async def set_grant_match_dismissed(
    info: Info,
    company_id: CompanyIdArg,
    grant_id: GrantIdArg,
    dismissed: Annotated[bool, strawberry.argument(description="Dismissed (true) or not (false).")] = True,
) -> GrantMatch:
    """Dismissing also clears saved (a match is never both)."""
    where, missing = _pair(company_id, grant_id)
    values = _ACTION_VALUES[GrantMatchAction.DISMISS] if dismissed else {"is_dismissed": False}
    return await _update_match(info, where, values, missing)
