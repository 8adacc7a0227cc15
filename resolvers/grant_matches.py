"""Root fields and mutations for grant matches (docs/matching.md, docs/api.md): arguments in, one service call,
rows out as GraphQL types."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.services import grant_match_actions as actions
from graphql_app.services.grant_match_pages import (
    GrantMatchFilter,
    get_grant_match,
    grant_match_page,
    grant_match_statistics,
)
from graphql_app.services.pages import MatchCursor, PageRequest
from graphql_app.services.scoring_pool import compute_live_page
from schema.connections import Connection, page_connection
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
    """Stored grant matches, best first: the frontend's page (one SELECT, its grants and companies joined)."""
    cid = validation.parse_uuid(company_id, "companyId") if company_id is not None else None
    flt = GrantMatchFilter(status.value if status else None, validation.score_threshold(min_score))
    page = PageRequest(validation.page_size(first), MatchCursor.decode(after) if after else None)
    result = await grant_match_page(info.context.db, info.context.viewer, cid, flt, page, info.context.clock.now())
    return grant_match_connection(result)


async def grant_match(info: Info, id: MatchIdArg) -> GrantMatch:
    return GrantMatch.from_row(await get_grant_match(info.context.db, info.context.viewer, validation.parse_uuid(id)))


async def grant_match_stats(
    info: Info,
    company_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="One company (else the whole tenant).")
    ] = None,
) -> GrantMatchStats:
    """Counts, average and top score and a histogram of the stored matches whose grant is open."""
    cid = validation.parse_uuid(company_id, "companyId") if company_id is not None else None
    stats = await grant_match_statistics(info.context.db, info.context.viewer, cid, info.context.clock.now())
    return GrantMatchStats(
        total=stats.total,
        saved=stats.saved,
        dismissed=stats.dismissed,
        viewed=stats.viewed,
        average_score=stats.average_score,
        top_score=stats.top_score,
        histogram=[
            ScoreBucket(lower=round(i / 10, 1), upper=round((i + 1) / 10, 1), count=count)
            for i, count in enumerate(stats.histogram)
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
    page = await compute_live_page(
        info.context.services.scoring_pool,
        info.context.db,
        info.context.viewer,
        validation.parse_uuid(company_id, "companyId"),
        validation.score_threshold(min_score) or 0.0,
        validation.page_size(first),
        after,
        info.context.clock.now(),
    )
    matches = [LiveGrantMatch.from_computed(m, g) for m, g in zip(page.matches, page.grants, strict=True)]
    return page_connection(page, matches)


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
    cid = validation.parse_uuid(company_id, "companyId")
    refresh = await actions.refresh_matches(
        info.context.db,
        info.context.viewer,
        cid,
        save=save_results,
        limit=validation.page_size(limit, field="limit"),
        now=info.context.clock.now(),
    )
    return GrantMatchRefresh(
        company_id=str(cid),
        saved=save_results,
        candidate_count=refresh.candidate_count,
        matches=[LiveGrantMatch.from_computed(m) for m in refresh.matches],
        stored_matches=[GrantMatch.from_row(r) for r in refresh.stored],
    )


async def calculate_grant_matches(info: Info, company_id: CompanyIdArg) -> Computation:
    """Queue the computation of a company's grant matches; returns the QUEUED computation to follow."""
    cid = validation.parse_uuid(company_id, "companyId")
    return Computation.from_row(await actions.start_grant_match_computation(info.context.db, info.context.viewer, cid))


def _pair(company_id: str, grant_id: str):
    return validation.parse_uuid(company_id, "companyId"), validation.parse_uuid(grant_id, "grantId")


async def apply_grant_match_action(
    info: Info,
    match_id: MatchIdArg,
    action: Annotated[GrantMatchAction, strawberry.argument(description="SAVE, DISMISS or RESTORE.")],
) -> GrantMatch:
    """SAVE sets saved and clears dismissed; DISMISS the reverse; RESTORE clears both."""
    mid = validation.parse_uuid(match_id, "matchId")
    return GrantMatch.from_row(await actions.apply_action(info.context.db, info.context.viewer, mid, action.value))


async def mark_grant_match_viewed(info: Info, company_id: CompanyIdArg, grant_id: GrantIdArg) -> GrantMatch:
    row = await actions.mark_viewed(info.context.db, info.context.viewer, *_pair(company_id, grant_id))
    return GrantMatch.from_row(row)


async def set_grant_match_saved(
    info: Info,
    company_id: CompanyIdArg,
    grant_id: GrantIdArg,
    saved: Annotated[bool, strawberry.argument(description="Saved (true) or not (false).")] = True,
) -> GrantMatch:
    """Saving also clears dismissed (a match is never both)."""
    row = await actions.set_saved(info.context.db, info.context.viewer, *_pair(company_id, grant_id), saved)
    return GrantMatch.from_row(row)


async def set_grant_match_dismissed(
    info: Info,
    company_id: CompanyIdArg,
    grant_id: GrantIdArg,
    dismissed: Annotated[bool, strawberry.argument(description="Dismissed (true) or not (false).")] = True,
) -> GrantMatch:
    """Dismissing also clears saved (a match is never both)."""
    row = await actions.set_dismissed(info.context.db, info.context.viewer, *_pair(company_id, grant_id), dismissed)
    return GrantMatch.from_row(row)
