"""Root fields and mutations of the talent domain: organisations, jobs, members, job matches (docs/matching.md).
Arguments in, one service call, rows out as GraphQL types."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.services import job_match_actions as actions
from graphql_app.services import talent
from graphql_app.services.job_match_pages import JobMatchFilter
from graphql_app.services.pages import MatchCursor, PageRequest, fetch_offset_page
from resolvers.common import input_fields, offset_connection
from schema.connections import Connection
from schema.enums import JobMatchStatus, MemberInterest, QualityTier
from schema.inputs_talent import (
    FeedbackInput,
    JobInput,
    JobUpdateInput,
    MemberInput,
    MemberUpdateInput,
    OrganisationInput,
    OrganisationUpdateInput,
    OutcomeInput,
)
from schema.types.computation import Computation
from schema.types.job import Job
from schema.types.job_match import JobMatch, job_match_connection
from schema.types.member import Member
from schema.types.organisation import Organisation
from schema.types.placement import PlacementFeedback

MatchIdArg = Annotated[strawberry.ID, strawberry.argument(description="The job match's UUID.")]
JobIdArg = Annotated[strawberry.ID, strawberry.argument(description="The job's UUID.")]
MemberIdArg = Annotated[strawberry.ID, strawberry.argument(description="The member's UUID.")]
FirstArg = Annotated[int, strawberry.argument(description="Page size, 1–100.")]
AfterArg = Annotated[str | None, strawberry.argument(description="Cursor to continue after.")]

# --- organisations, jobs, members ---------------------------------------------------------------------------


async def my_organisation(info: Info) -> Organisation:
    return Organisation.from_row(await talent.my_organisation(info.context.db, info.context.viewer))


async def create_organisation(
    info: Info, input: Annotated[OrganisationInput, strawberry.argument(description="The organisation.")]
) -> Organisation:
    services = info.context.services
    row = await talent.upsert_organisation(
        services.db, await services.get_embedder(), info.context.viewer, input_fields(input), create=True
    )
    return Organisation.from_row(row)


async def update_organisation(
    info: Info, input: Annotated[OrganisationUpdateInput, strawberry.argument(description="Fields to change.")]
) -> Organisation:
    services = info.context.services
    row = await talent.upsert_organisation(
        services.db, await services.get_embedder(), info.context.viewer, input_fields(input), create=False
    )
    return Organisation.from_row(row)


async def job(info: Info, id: JobIdArg) -> Job:
    job_id = validation.parse_uuid(id)
    row = await info.context.loaders.job_by_id.load(job_id)
    return Job.from_row(talent.visible_job(info.context.viewer, row, job_id))


async def jobs_page(
    info: Info,
    first: FirstArg = 20,
    after: AfterArg = None,
    include_closed: Annotated[bool, strawberry.argument(description="Also your organisation's closed jobs.")] = False,
) -> Connection[Job]:
    """Open jobs of every organisation (and, on request, your organisation's closed ones): your organisation's
    first, then newest first."""
    query = talent.jobs_list(info.context.viewer, include_closed)
    page = await fetch_offset_page(info.context.db, query, first=validation.page_size(first), after=after)
    return offset_connection(page, Job.from_row)


async def create_job(info: Info, input: Annotated[JobInput, strawberry.argument(description="The job.")]) -> Job:
    return Job.from_row(await talent.create_job(info.context.db, info.context.viewer, input_fields(input)))


async def update_job(
    info: Info, id: JobIdArg, input: Annotated[JobUpdateInput, strawberry.argument(description="Fields to change.")]
) -> Job:
    row = await talent.update_job(info.context.db, info.context.viewer, validation.parse_uuid(id), input_fields(input))
    return Job.from_row(row)


async def member(info: Info, id: MemberIdArg) -> Member:
    """Yourself; or, for an organisation, a member it has a match with; platform admins: anyone."""
    return Member.from_row(await talent.get_member(info.context.db, info.context.viewer, validation.parse_uuid(id)))


async def create_member(
    info: Info, input: Annotated[MemberInput, strawberry.argument(description="The member profile.")]
) -> Member:
    services = info.context.services
    row = await talent.create_member(
        services.db, await services.get_embedder(), info.context.viewer, input_fields(input)
    )
    return Member.from_row(row)


async def update_member(
    info: Info,
    id: MemberIdArg,
    input: Annotated[MemberUpdateInput, strawberry.argument(description="Fields to change.")],
) -> Member:
    services = info.context.services
    row = await talent.update_member(
        services.db, await services.get_embedder(), info.context.viewer, validation.parse_uuid(id), input_fields(input)
    )
    return Member.from_row(row)


# --- matches ----------------------------------------------------------------------------------------------------


async def job_match(info: Info, id: MatchIdArg) -> JobMatch:
    return JobMatch.from_row(
        await actions.get_job_match(info.context.db, info.context.viewer, validation.parse_uuid(id))
    )


def _page(first: int, after: str | None) -> PageRequest:
    return PageRequest(validation.page_size(first), MatchCursor.decode(after) if after else None)


async def member_matches(
    info: Info,
    member_id: MemberIdArg,
    status: Annotated[JobMatchStatus | None, strawberry.argument(description="Only this status.")] = None,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> Connection[JobMatch]:
    """A member's matches, best first: members see their own; organisations only theirs; admins all."""
    mid = validation.parse_uuid(member_id, "memberId")
    flt = JobMatchFilter(None, status.value if status else None)
    page = await actions.member_match_page(info.context.db, info.context.viewer, mid, flt, _page(first, after))
    return job_match_connection(page)


async def job_matches_page(
    info: Info,
    job_id: JobIdArg,
    quality: Annotated[QualityTier | None, strawberry.argument(description="Only this tier.")] = None,
    status: Annotated[JobMatchStatus | None, strawberry.argument(description="Only this status.")] = None,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> Connection[JobMatch]:
    """A job's matches, best first (the job's organisation and platform admins)."""
    jid = validation.parse_uuid(job_id, "jobId")
    flt = JobMatchFilter(quality.value if quality else None, status.value if status else None)
    job_row = await info.context.loaders.job_by_id.load(jid)
    page = await actions.job_match_page(info.context.db, info.context.viewer, job_row, jid, flt, _page(first, after))
    return job_match_connection(page)


async def compute_job_matches(
    info: Info,
    job_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Score this job (against every member).")
    ] = None,
    member_id: Annotated[
        strawberry.ID | None, strawberry.argument(description="Score this member (against every open job).")
    ] = None,
) -> Computation:
    """Queue a job-match computation: `jobId` alone, `memberId` alone, or both for one pair."""
    jid = validation.parse_uuid(job_id, "jobId") if job_id is not None else None
    mid = validation.parse_uuid(member_id, "memberId") if member_id is not None else None
    record = await actions.start_job_match_computation(info.context.db, info.context.viewer, jid, mid)
    return Computation.from_row(record)


async def update_job_match_status(
    info: Info,
    match_id: MatchIdArg,
    status: Annotated[JobMatchStatus, strawberry.argument(description="The new status.")],
) -> JobMatch:
    """Move a match along the transition table (ORG_ADMIN of its organisation, or PLATFORM_ADMIN)."""
    mid = validation.parse_uuid(match_id, "matchId")
    row = await actions.update_status(info.context.db, info.context.viewer, mid, status.value, info.context.clock.now())
    return JobMatch.from_row(row)


async def set_match_interest(
    info: Info,
    match_id: MatchIdArg,
    interest: Annotated[MemberInterest, strawberry.argument(description="Your interest.")],
) -> JobMatch:
    """The member's own interest in a match (members only, on their own matches)."""
    mid = validation.parse_uuid(match_id, "matchId")
    return JobMatch.from_row(await actions.set_interest(info.context.db, info.context.viewer, mid, interest.value))


async def record_placement_outcome(
    info: Info,
    match_id: MatchIdArg,
    input: Annotated[OutcomeInput, strawberry.argument(description="What happened.")],
) -> JobMatch:
    """Record (or correct) a match's outcome and update the organisation's learned belonging weights."""
    mid = validation.parse_uuid(match_id, "matchId")
    today = info.context.clock.now().date()
    row = await actions.record_outcome(info.context.db, info.context.viewer, mid, input_fields(input), today)
    return JobMatch.from_row(row)


async def submit_placement_feedback(
    info: Info,
    match_id: MatchIdArg,
    input: Annotated[FeedbackInput, strawberry.argument(description="The feedback.")],
) -> PlacementFeedback:
    """Feedback at 30/90/180 days after the placement start, once per respondent and stage."""
    mid = validation.parse_uuid(match_id, "matchId")
    fields = input_fields(input)
    feedback = actions.Feedback(fields["stage"], fields["rating"], fields.get("comments") or "")
    today = info.context.clock.now().date()
    return PlacementFeedback.from_row(
        await actions.submit_feedback(info.context.db, info.context.viewer, mid, feedback, today)
    )


async def match_feedback(info: Info, match_id: MatchIdArg) -> list[PlacementFeedback]:
    """All feedback on a match (its member, its organisation, platform admins)."""
    mid = validation.parse_uuid(match_id, "matchId")
    match = await actions.match_feedback(info.context.db, info.context.viewer, mid)
    return [PlacementFeedback.from_row(r) for r in await info.context.loaders.feedback_by_match.load(match.id)]
