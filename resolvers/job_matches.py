"""Root fields and mutations of the talent domain: organisations, jobs, members, job matches (docs/matching.md)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated

import strawberry
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app import validation
from graphql_app.auth import Role
from graphql_app.db.models import computations, job_matches, jobs, members, organisations, placement_feedback
from graphql_app.db.models import placement_outcomes as outcomes
from graphql_app.errors import BadUserInput, Conflict, Forbidden, not_found
from graphql_app.matching.learning import LearnedWeights, outcome_label, update_weights
from graphql_app.services import computations as computation_service
from graphql_app.services import talent
from graphql_app.services.job_match_pages import JobMatchFilter, fetch_job_match_pages
from graphql_app.services.pages import MatchCursor, MatchPage, PageRequest
from resolvers.common import input_fields, offset_page
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

#: The organisation's moves (docs/matching.md). ORG_DECLINED, PLACED and WITHDRAWN are final.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "PENDING_REVIEW": frozenset({"ORG_INTERESTED", "ORG_DECLINED", "WITHDRAWN"}),
    "ORG_INTERESTED": frozenset({"INTERVIEWING", "WITHDRAWN"}),
    "INTERVIEWING": frozenset({"OFFERED", "WITHDRAWN"}),
    "OFFERED": frozenset({"PLACED", "WITHDRAWN"}),
}
FEEDBACK_STAGE_DAYS = {"DAY_30": 30, "DAY_90": 90, "DAY_180": 180}


# --- organisations, jobs, members ---------------------------------------------------------------------------


async def my_organisation(info: Info) -> Organisation:
    viewer = info.context.viewer
    async with info.context.db.reader() as conn:
        row = (
            await conn.execute(
                select(*talent.ORGANISATION_COLUMNS).where(organisations.c.tenant_id == viewer.tenant_id)
            )
        ).first()
    if row is None:
        raise not_found("Organisation", viewer.tenant_id)
    return Organisation.from_row(row)


async def create_organisation(
    info: Info, input: Annotated[OrganisationInput, strawberry.argument(description="The organisation.")]
) -> Organisation:
    services = info.context.services
    row = await talent.upsert_organisation(
        services.db, services.require_embedder(), info.context.viewer, input_fields(input), create=True
    )
    return Organisation.from_row(row)


async def update_organisation(
    info: Info, input: Annotated[OrganisationUpdateInput, strawberry.argument(description="Fields to change.")]
) -> Organisation:
    services = info.context.services
    row = await talent.upsert_organisation(
        services.db, services.require_embedder(), info.context.viewer, input_fields(input), create=False
    )
    return Organisation.from_row(row)


async def job(info: Info, id: JobIdArg) -> Job:
    row = await info.context.loaders.job_by_id.load(validation.parse_uuid(id))
    if row is None or not talent.job_visible(info.context.viewer, row):
        raise not_found("Job", id)
    return Job.from_row(row)


async def jobs_page(
    info: Info,
    first: FirstArg = 20,
    after: AfterArg = None,
    include_closed: Annotated[bool, strawberry.argument(description="Also your organisation's closed jobs.")] = False,
) -> Connection[Job]:
    """Open jobs of every organisation (and, on request, your organisation's closed ones): your organisation's
    first, then newest first."""
    viewer = info.context.viewer
    visible = jobs.c.is_open
    if include_closed:
        visible = (
            jobs.c.id.is_not(None) if viewer.is_platform_admin else visible | (jobs.c.tenant_id == viewer.tenant_id)
        )
    own_first = (jobs.c.tenant_id == viewer.tenant_id).desc()
    query = select(*jobs.c).where(visible).order_by(own_first, jobs.c.created_at.desc(), jobs.c.id)
    return await offset_page(info.context.db, query, first=first, after=after, to_node=Job.from_row)


async def create_job(info: Info, input: Annotated[JobInput, strawberry.argument(description="The job.")]) -> Job:
    return Job.from_row(await talent.create_job(info.context.db, info.context.viewer, input_fields(input)))


async def update_job(
    info: Info, id: JobIdArg, input: Annotated[JobUpdateInput, strawberry.argument(description="Fields to change.")]
) -> Job:
    row = await talent.update_job(info.context.db, info.context.viewer, validation.parse_uuid(id), input_fields(input))
    return Job.from_row(row)


async def member(info: Info, id: MemberIdArg) -> Member:
    """Yourself; or, for an organisation, a member it has a match with; platform admins: anyone."""
    async with info.context.db.reader() as conn:
        row = await talent.visible_member(conn, info.context.viewer, validation.parse_uuid(id))
    return Member.from_row(row)


async def create_member(
    info: Info, input: Annotated[MemberInput, strawberry.argument(description="The member profile.")]
) -> Member:
    services = info.context.services
    row = await talent.create_member(services.db, services.require_embedder(), info.context.viewer, input_fields(input))
    return Member.from_row(row)


async def update_member(
    info: Info,
    id: MemberIdArg,
    input: Annotated[MemberUpdateInput, strawberry.argument(description="Fields to change.")],
) -> Member:
    services = info.context.services
    row = await talent.update_member(
        services.db, services.require_embedder(), info.context.viewer, validation.parse_uuid(id), input_fields(input)
    )
    return Member.from_row(row)


# --- matches ----------------------------------------------------------------------------------------------------


async def job_match(info: Info, id: MatchIdArg) -> JobMatch:
    async with info.context.db.reader() as conn:
        row = await talent.visible_match(conn, info.context.viewer, validation.parse_uuid(id))
    return JobMatch.from_row(row)


async def _parent_page(info: Info, key: str, parent_id: uuid.UUID, flt: JobMatchFilter, first: int, after: str | None):
    page = PageRequest(validation.page_size(first), MatchCursor.decode(after) if after else None)
    async with info.context.db.reader() as conn:
        pages = await fetch_job_match_pages(conn, info.context.viewer, key, [parent_id], flt, page)
    return job_match_connection(pages.get(parent_id) or MatchPage(has_previous_page=page.after is not None))


async def member_matches(
    info: Info,
    member_id: MemberIdArg,
    status: Annotated[JobMatchStatus | None, strawberry.argument(description="Only this status.")] = None,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> Connection[JobMatch]:
    """A member's matches, best first: members see their own; organisations only theirs; admins all."""
    viewer = info.context.viewer
    mid = validation.parse_uuid(member_id, "memberId")
    if not (
        viewer.is_platform_admin
        or talent.is_member_self(viewer, mid)
        or viewer.has_any_role({Role.ORG_USER, Role.ORG_ADMIN})
    ):
        raise not_found("Member", member_id)
    return await _parent_page(
        info, "member_id", mid, JobMatchFilter(None, status.value if status else None), first, after
    )


async def job_matches_page(
    info: Info,
    job_id: JobIdArg,
    quality: Annotated[QualityTier | None, strawberry.argument(description="Only this tier.")] = None,
    status: Annotated[JobMatchStatus | None, strawberry.argument(description="Only this status.")] = None,
    first: FirstArg = 20,
    after: AfterArg = None,
) -> Connection[JobMatch]:
    """A job's matches, best first (the job's organisation and platform admins)."""
    viewer = info.context.viewer
    jid = validation.parse_uuid(job_id, "jobId")
    row = await info.context.loaders.job_by_id.load(jid)
    if row is None or not talent.is_org_user(viewer, row.tenant_id):
        raise not_found("Job", job_id)
    flt = JobMatchFilter(quality.value if quality else None, status.value if status else None)
    return await _parent_page(info, "job_id", jid, flt, first, after)


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
    viewer = info.context.viewer
    if job_id is None and member_id is None:
        raise BadUserInput("Give jobId, memberId or both.", field="jobId")
    jid = validation.parse_uuid(job_id, "jobId") if job_id is not None else None
    mid = validation.parse_uuid(member_id, "memberId") if member_id is not None else None
    params = {"jobId": str(jid) if jid else None, "memberId": str(mid) if mid else None}
    async with info.context.db.reader() as conn:
        if jid is not None:
            job_row = (await conn.execute(select(jobs).where(jobs.c.id == jid))).first()
            if job_row is None or not talent.is_org_user(viewer, job_row.tenant_id):
                raise not_found("Job", job_id)
            if mid is not None and await conn.scalar(select(members.c.id).where(members.c.id == mid)) is None:
                raise not_found("Member", member_id)
        else:
            await talent.visible_member(conn, viewer, mid)
            if not (viewer.is_platform_admin or talent.is_member_self(viewer, mid)):
                # An organisation scores a member it can see against its own open jobs only.
                params["jobsOfTenant"] = viewer.tenant_id
    record = await computation_service.start_computation(
        info.context.db, viewer, viewer.tenant_id, computation_service.JOB_MATCHES, jid or mid, params
    )
    return Computation.from_row(record)


async def update_job_match_status(
    info: Info,
    match_id: MatchIdArg,
    status: Annotated[JobMatchStatus, strawberry.argument(description="The new status.")],
) -> JobMatch:
    """Move a match along the transition table (ORG_ADMIN of its organisation, or PLATFORM_ADMIN)."""
    viewer = info.context.viewer
    mid = validation.parse_uuid(match_id, "matchId")
    async with info.context.db.transaction() as conn:
        current = await talent.visible_match(conn, viewer, mid, lock=True)
        if not talent.is_org_admin(viewer, current.tenant_id):
            raise Forbidden(
                "Only the organisation's admins (ORG_ADMIN) or platform admins may change a match's status."
            )
        allowed = STATUS_TRANSITIONS.get(current.status, frozenset())
        if status.value not in allowed:
            options = ", ".join(sorted(allowed)) or "none (it is final)"
            raise Conflict(
                f"A match in {current.status} cannot move to {status.value}; allowed: {options}.",
                currentStatus=current.status,
            )
        values = {"status": status.value, "updated_at": func.now()}
        if status.value == "PLACED":
            values["placed_at"] = info.context.clock.now()
        row = (
            await conn.execute(
                update(job_matches).where(job_matches.c.id == mid).values(**values).returning(*job_matches.c)
            )
        ).one()
    return JobMatch.from_row(row)


async def set_match_interest(
    info: Info,
    match_id: MatchIdArg,
    interest: Annotated[MemberInterest, strawberry.argument(description="Your interest.")],
) -> JobMatch:
    """The member's own interest in a match (members only, on their own matches)."""
    viewer = info.context.viewer
    mid = validation.parse_uuid(match_id, "matchId")
    async with info.context.db.transaction() as conn:
        current = await talent.visible_match(conn, viewer, mid, lock=True)
        if not talent.is_member_self(viewer, current.member_id):
            raise Forbidden("Only the member may set their interest in a match.")
        row = (
            await conn.execute(
                update(job_matches)
                .where(job_matches.c.id == mid)
                .values(member_interest=interest.value, updated_at=func.now())
                .returning(*job_matches.c)
            )
        ).one()
    return JobMatch.from_row(row)


async def record_placement_outcome(
    info: Info,
    match_id: MatchIdArg,
    input: Annotated[OutcomeInput, strawberry.argument(description="What happened.")],
) -> JobMatch:
    """Record (or correct) a match's outcome and update the organisation's learned belonging weights."""
    viewer = info.context.viewer
    mid = validation.parse_uuid(match_id, "matchId")
    fields = input_fields(input)
    today = info.context.clock.now().date()
    # Far-off dates would push the feedback stages out of reach (or past the calendar's end).
    earliest = date(1970, 1, 1)
    validation.date_within(fields.get("start_date"), "startDate", earliest=earliest, latest=today + timedelta(days=366))
    validation.date_within(fields.get("end_date"), "endDate", earliest=earliest, latest=today + timedelta(days=3660))
    if fields.get("start_date") and fields.get("end_date") and fields["end_date"] < fields["start_date"]:
        raise BadUserInput("endDate must not be before startDate.", field="endDate")
    async with info.context.db.transaction() as conn:
        match = await talent.visible_match(conn, viewer, mid)
        if not talent.is_org_admin(viewer, match.tenant_id):
            raise Forbidden("Only the organisation's admins (ORG_ADMIN) or platform admins may record outcomes.")
        org = (
            await conn.execute(
                select(organisations).where(organisations.c.id == match.organisation_id).with_for_update()
            )
        ).one()
        values = {
            "outcome": fields["outcome"],
            "start_date": fields.get("start_date"),
            "end_date": fields.get("end_date"),
            "notes": validation.storable_text((fields.get("notes") or "").strip(), "notes"),
            "recorded_by": viewer.subject,
        }
        statement = insert(outcomes).values(match_id=mid, **values)
        await conn.execute(
            statement.on_conflict_do_update(index_elements=["match_id"], set_={**values, "updated_at": func.now()})
        )
        await _relearn_weights(conn, org)
        row = (await conn.execute(select(job_matches).where(job_matches.c.id == mid))).one()
    return JobMatch.from_row(row)


async def _relearn_weights(conn, org: Row) -> None:
    """Refit the organisation's weights on all its labelled outcomes (the org row is locked by the caller)."""
    import numpy as np

    rows = list(
        await conn.execute(
            select(
                job_matches.c.authenticity, job_matches.c.acceptance, job_matches.c.complementarity, outcomes.c.outcome
            )
            .join(outcomes, outcomes.c.match_id == job_matches.c.id)
            .where(job_matches.c.organisation_id == org.id)
        )
    )
    labelled = [(r, outcome_label(r.outcome)) for r in rows]
    labelled = [(r, y) for r, y in labelled if y is not None]
    if not labelled:
        return
    features = np.array([[r.authenticity, r.acceptance, r.complementarity] for r, _ in labelled], dtype=np.float64)
    labels = np.array([y for _, y in labelled], dtype=np.float64)
    current = (
        LearnedWeights(tuple(org.belonging_weights), org.model_version, len(labelled))
        if org.belonging_weights
        else None
    )
    learned = update_weights(current, features, labels)
    await conn.execute(
        update(organisations)
        .where(organisations.c.id == org.id)
        .values(belonging_weights=list(learned.weights), model_version=learned.version, updated_at=func.now())
    )


async def submit_placement_feedback(
    info: Info,
    match_id: MatchIdArg,
    input: Annotated[FeedbackInput, strawberry.argument(description="The feedback.")],
) -> PlacementFeedback:
    """Feedback at 30/90/180 days after the placement start, once per respondent and stage."""
    viewer = info.context.viewer
    mid = validation.parse_uuid(match_id, "matchId")
    fields = input_fields(input)
    if not 1 <= fields["rating"] <= 5:
        raise BadUserInput("rating must be between 1 and 5.", field="rating")
    async with info.context.db.transaction() as conn:
        match = await talent.visible_match(conn, viewer, mid)
        if talent.is_member_self(viewer, match.member_id):
            respondent = "MEMBER"
        elif viewer.tenant_id == match.tenant_id and viewer.has_any_role({Role.ORG_USER, Role.ORG_ADMIN}):
            respondent = "ORGANISATION"
        else:
            raise Forbidden("Only the member or the organisation may give feedback on a placement.")
        if match.status != "PLACED":
            raise Conflict(f"Feedback is for placed matches; this one is {match.status}.")
        start_date = await conn.scalar(select(outcomes.c.start_date).where(outcomes.c.match_id == mid))
        start = start_date or match.placed_at.date()
        due = start + timedelta(days=FEEDBACK_STAGE_DAYS[fields["stage"]])
        if info.context.clock.now().date() < due:
            raise BadUserInput(f"{fields['stage']} feedback opens on {due.isoformat()}.", field="stage")
        statement = (
            insert(placement_feedback)
            .values(
                match_id=mid,
                stage=fields["stage"],
                respondent=respondent,
                rating=fields["rating"],
                comments=validation.storable_text((fields.get("comments") or "").strip(), "comments"),
                submitted_by=viewer.subject,
            )
            .on_conflict_do_nothing(constraint="uq_placement_feedback_once_per_stage")
            .returning(*placement_feedback.c)
        )
        row = (await conn.execute(statement)).first()
        if row is None:
            raise Conflict(f"{respondent.title()} feedback for {fields['stage']} was already submitted.")
    return PlacementFeedback.from_row(row)


async def match_feedback(info: Info, match_id: MatchIdArg) -> list[PlacementFeedback]:
    """All feedback on a match (its member, its organisation, platform admins)."""
    async with info.context.db.reader() as conn:
        match = await talent.visible_match(conn, info.context.viewer, validation.parse_uuid(match_id, "matchId"))
    return [PlacementFeedback.from_row(r) for r in await info.context.loaders.feedback_by_match.load(match.id)]


async def pending_explanation(info: Info, match: Row) -> Computation:
    """The MATCH_EXPLANATION computation for a match without a cached explanation, started once."""
    async with info.context.db.transaction() as conn:
        current = (
            await conn.execute(
                select(job_matches.c.explanation_computation_id).where(job_matches.c.id == match.id).with_for_update()
            )
        ).one()
        if current.explanation_computation_id is not None:
            record = (
                await conn.execute(select(computations).where(computations.c.id == current.explanation_computation_id))
            ).first()
            if record is not None and record.status != "FAILED":
                return Computation.from_row(record)
        record = await computation_service.insert_computation(
            conn,
            info.context.viewer.subject,
            info.context.viewer.tenant_id,  # visible to whoever asked (a member is of another tenant than the org)
            computation_service.MATCH_EXPLANATION,
            match.id,
            {"matchId": str(match.id)},
        )
        await conn.execute(
            update(job_matches).where(job_matches.c.id == match.id).values(explanation_computation_id=record.id)
        )
    return Computation.from_row(record)
