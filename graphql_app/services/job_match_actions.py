"""What happens to a job match: reading it as the access rules allow, the organisation's status moves, the
member's interest, outcomes (which teach the organisation's belonging weights), feedback at 30/90/180 days, and
starting the computations that score matches and word explanations (docs/matching.md)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access, validation
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import computations, job_matches, jobs, members, organisations, placement_feedback
from graphql_app.db.models import placement_outcomes as outcomes
from graphql_app.errors import BadUserInput, Conflict, Forbidden, not_found
from graphql_app.matching.learning import LearnedWeights, outcome_label, update_weights
from graphql_app.services.computation_records import (
    JOB_MATCHES,
    MATCH_EXPLANATION,
    insert_computation,
    start_computation,
)
from graphql_app.services.job_match_pages import JobMatchFilter, count_job_matches, fetch_job_match_pages
from graphql_app.services.pages import MatchPage, PageRequest
from graphql_app.services.talent import visible_member

#: The organisation's moves. ORG_DECLINED, PLACED and WITHDRAWN are final.
STATUS_TRANSITIONS: dict[str, frozenset[str]] = {
    "PENDING_REVIEW": frozenset({"ORG_INTERESTED", "ORG_DECLINED", "WITHDRAWN"}),
    "ORG_INTERESTED": frozenset({"INTERVIEWING", "WITHDRAWN"}),
    "INTERVIEWING": frozenset({"OFFERED", "WITHDRAWN"}),
    "OFFERED": frozenset({"PLACED", "WITHDRAWN"}),
}
#: Days after the placement start from which each feedback stage may be given.
FEEDBACK_STAGE_DAYS = {"DAY_30": 30, "DAY_90": 90, "DAY_180": 180}
#: Outcome dates further off would put the feedback stages out of reach (or past the calendar's end).
EARLIEST_OUTCOME_DATE = date(1970, 1, 1)
LATEST_START_AHEAD = timedelta(days=366)
LATEST_END_AHEAD = timedelta(days=3660)


# --- reading ---------------------------------------------------------------------------------------------------


async def visible_match(conn: AsyncConnection, principal: Principal, match_id: uuid.UUID, *, lock: bool = False) -> Row:
    """A job match the principal may see (locked when asked); NOT_FOUND otherwise."""
    query = select(job_matches).where(job_matches.c.id == match_id, access.visible_job_matches(job_matches, principal))
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Job match", match_id)
    return row


async def get_job_match(db: Database, principal: Principal, match_id: uuid.UUID) -> Row:
    async with db.reader() as conn:
        return await visible_match(conn, principal, match_id)


async def job_match_page(
    db: Database, principal: Principal, job_row: Row | None, job_id: uuid.UUID, flt: JobMatchFilter, page: PageRequest
) -> MatchPage:
    """A job's matches (its organisation and platform admins; NOT_FOUND for anyone else)."""
    if job_row is None or not access.is_org_user(principal, job_row.tenant_id):
        raise not_found("Job", job_id)
    return await _parent_page(db, principal, "job_id", job_id, flt, page)


async def member_match_page(
    db: Database, principal: Principal, member_id: uuid.UUID, flt: JobMatchFilter, page: PageRequest
) -> MatchPage:
    """A member's matches: the member's own; an organisation's own among them; platform admins all."""
    if not access.may_list_member_matches(principal, member_id):
        raise not_found("Member", member_id)
    return await _parent_page(db, principal, "member_id", member_id, flt, page)


async def _parent_page(db, principal, key, parent_id, flt, page) -> MatchPage:
    result = (await fetch_job_match_pages(db, principal, key, [parent_id], flt, page)).get(parent_id)
    if result is None:  # empty page: past the end of the list, the total still counts the whole list
        total = 0
        if page.after:
            async with db.reader() as conn:
                total = await count_job_matches(conn, principal, key, parent_id, flt)
        result = MatchPage(total_count=total, has_previous_page=page.after is not None)
    return result


async def match_feedback(db: Database, principal: Principal, match_id: uuid.UUID) -> Row:
    """The match whose feedback is asked for, if the principal may see it (the feedback itself is loaded by
    match id)."""
    return await get_job_match(db, principal, match_id)


# --- computations ----------------------------------------------------------------------------------------------


async def start_job_match_computation(
    db: Database, principal: Principal, job_id: uuid.UUID | None, member_id: uuid.UUID | None
) -> Row:
    """Queue JOB_MATCHES: ``job_id`` alone scores the job against every member, ``member_id`` alone the member
    against every open job (an organisation: its own open jobs, for a member it can see), both one pair."""
    if job_id is None and member_id is None:
        raise BadUserInput("Give jobId, memberId or both.", field="jobId")
    params: dict[str, Any] = {
        "jobId": str(job_id) if job_id else None,
        "memberId": str(member_id) if member_id else None,
    }
    tenant_id = principal.tenant_id  # a member-wide run belongs to whoever asked (the member, or the organisation)
    async with db.reader() as conn:
        if job_id is not None:
            job = (await conn.execute(select(jobs).where(jobs.c.id == job_id))).first()
            if job is None or not access.is_org_user(principal, job.tenant_id):
                raise not_found("Job", job_id)
            tenant_id = job.tenant_id  # like a company's computation: the organisation's, whoever started it
            if (
                member_id is not None
                and await conn.scalar(select(members.c.id).where(members.c.id == member_id)) is None
            ):
                raise not_found("Member", member_id)
        else:
            await visible_member(conn, principal, member_id)
            if not (principal.is_platform_admin or access.is_member_self(principal, member_id)):
                organisation = await conn.scalar(
                    select(organisations.c.id).where(access.own_organisation(organisations, principal))
                )
                if organisation is None:
                    raise BadUserInput("Create your organisation (createOrganisation) before scoring members.")
                params["organisationId"] = str(organisation)
    return await start_computation(db, principal, tenant_id, JOB_MATCHES, job_id or member_id, params)


async def explanation_computations(
    db: Database, principal: Principal, match_ids: list[uuid.UUID]
) -> dict[uuid.UUID, Row]:
    """The MATCH_EXPLANATION computation for each match without an explanation: one already under way (not
    FAILED or CANCELLED) is reused; the others get ONE new computation for all of them, in one transaction — a page of
    matches costs one write at most. (Matches scored since explanations are written with the scores never get
    here; this serves matches stored before.) The record is kept under the asker's tenant, visible to them."""
    found: dict[uuid.UUID, Row] = {}
    async with db.transaction() as conn:
        current = {
            row.id: row.explanation_computation_id
            for row in await conn.execute(
                select(job_matches.c.id, job_matches.c.explanation_computation_id)
                .where(job_matches.c.id.in_(match_ids))
                .with_for_update()
            )
        }
        running = {
            row.id: row
            for row in await conn.execute(
                select(computations).where(
                    computations.c.id.in_([c for c in current.values() if c is not None]),
                    computations.c.status.not_in(("FAILED", "CANCELLED")),
                )
            )
        }
        missing = []
        for match_id in match_ids:
            record = running.get(current.get(match_id))
            if record is not None:
                found[match_id] = record
            else:
                missing.append(match_id)
        if missing:
            record = await insert_computation(
                conn,
                principal.subject,
                principal.tenant_id,
                MATCH_EXPLANATION,
                missing[0],
                {"matchIds": [str(m) for m in missing]},
            )
            await conn.execute(
                update(job_matches).where(job_matches.c.id.in_(missing)).values(explanation_computation_id=record.id)
            )
            found.update(dict.fromkeys(missing, record))
    return found


# --- the organisation's and the member's moves -------------------------------------------------------------------


async def update_status(db: Database, principal: Principal, match_id: uuid.UUID, status: str, now: datetime) -> Row:
    """Move a match along the transition table (ORG_ADMIN of its organisation, or PLATFORM_ADMIN); CONFLICT names
    the allowed moves."""
    async with db.transaction() as conn:
        current = await visible_match(conn, principal, match_id, lock=True)
        if not access.is_org_admin(principal, current.tenant_id):
            raise Forbidden(
                "Only the organisation's admins (ORG_ADMIN) or platform admins may change a match's status."
            )
        allowed = STATUS_TRANSITIONS.get(current.status, frozenset())
        if status not in allowed:
            options = ", ".join(sorted(allowed)) or "none (it is final)"
            raise Conflict(
                f"A match in {current.status} cannot move to {status}; allowed: {options}.",
                currentStatus=current.status,
            )
        values: dict[str, Any] = {"status": status, "updated_at": func.now()}
        if status == "PLACED":
            values["placed_at"] = now
        statement = update(job_matches).where(job_matches.c.id == match_id).values(**values)
        return (await conn.execute(statement.returning(*job_matches.c))).one()


async def set_interest(db: Database, principal: Principal, match_id: uuid.UUID, interest: str) -> Row:
    """The member's own interest in a match (members only, on their own matches)."""
    async with db.transaction() as conn:
        current = await visible_match(conn, principal, match_id, lock=True)
        if not access.is_member_self(principal, current.member_id):
            raise Forbidden("Only the member may set their interest in a match.")
        statement = (
            update(job_matches)
            .where(job_matches.c.id == match_id)
            .values(member_interest=interest, updated_at=func.now())
            .returning(*job_matches.c)
        )
        return (await conn.execute(statement)).one()


async def record_outcome(
    db: Database, principal: Principal, match_id: uuid.UUID, fields: dict[str, Any], today: date
) -> Row:
    """Record (or correct) a match's outcome and refit the organisation's belonging weights on all its outcomes."""
    start, end = fields.get("start_date"), fields.get("end_date")
    validation.date_within(start, "startDate", earliest=EARLIEST_OUTCOME_DATE, latest=today + LATEST_START_AHEAD)
    validation.date_within(end, "endDate", earliest=EARLIEST_OUTCOME_DATE, latest=today + LATEST_END_AHEAD)
    if start and end and end < start:
        raise BadUserInput("endDate must not be before startDate.", field="endDate")
    async with db.transaction() as conn:
        match = await visible_match(conn, principal, match_id)
        if not access.is_org_admin(principal, match.tenant_id):
            raise Forbidden("Only the organisation's admins (ORG_ADMIN) or platform admins may record outcomes.")
        organisation_query = select(organisations).where(organisations.c.id == match.organisation_id)
        organisation = (await conn.execute(organisation_query.with_for_update())).one()
        values = {
            "outcome": fields["outcome"],
            "start_date": start,
            "end_date": end,
            "notes": (fields.get("notes") or "").strip(),
            "recorded_by": principal.subject,
        }
        statement = insert(outcomes).values(match_id=match_id, **values)
        await conn.execute(
            statement.on_conflict_do_update(index_elements=["match_id"], set_={**values, "updated_at": func.now()})
        )
        await _relearn_weights(conn, organisation)
        return (await conn.execute(select(job_matches).where(job_matches.c.id == match_id))).one()


async def _relearn_weights(conn: AsyncConnection, organisation: Row) -> None:
    """Refit the organisation's weights on all its labelled outcomes (the organisation row is locked)."""
    rows = list(
        await conn.execute(
            select(
                job_matches.c.authenticity, job_matches.c.acceptance, job_matches.c.complementarity, outcomes.c.outcome
            )
            .join(outcomes, outcomes.c.match_id == job_matches.c.id)
            .where(job_matches.c.organisation_id == organisation.id)
        )
    )
    labelled = [(r, outcome_label(r.outcome)) for r in rows]
    labelled = [(r, y) for r, y in labelled if y is not None]
    if not labelled:
        return
    features = np.array([[r.authenticity, r.acceptance, r.complementarity] for r, _ in labelled], dtype=np.float64)
    labels = np.array([y for _, y in labelled], dtype=np.float64)
    current = (
        LearnedWeights(tuple(organisation.belonging_weights), organisation.model_version, len(labelled))
        if organisation.belonging_weights
        else None
    )
    learned = update_weights(current, features, labels)
    await conn.execute(
        update(organisations)
        .where(organisations.c.id == organisation.id)
        .values(belonging_weights=list(learned.weights), model_version=learned.version, updated_at=func.now())
    )


@dataclass(frozen=True)
class Feedback:
    stage: str
    rating: int
    comments: str


async def submit_feedback(
    db: Database, principal: Principal, match_id: uuid.UUID, feedback: Feedback, today: date
) -> Row:
    """Feedback at 30/90/180 days after the placement start (the outcome's start date, else when it was placed),
    from the member or the organisation, once per stage each (a repeat is CONFLICT)."""
    if not 1 <= feedback.rating <= 5:
        raise BadUserInput("rating must be between 1 and 5.", field="rating")
    async with db.transaction() as conn:
        match = await visible_match(conn, principal, match_id)
        if access.is_member_self(principal, match.member_id):
            respondent = "MEMBER"
        elif access.belongs_to_organisation(principal, match.tenant_id):
            respondent = "ORGANISATION"
        else:
            raise Forbidden("Only the member or the organisation may give feedback on a placement.")
        if match.status != "PLACED":
            raise Conflict(f"Feedback is for placed matches; this one is {match.status}.")
        start_date = await conn.scalar(select(outcomes.c.start_date).where(outcomes.c.match_id == match_id))
        due = (start_date or match.placed_at.date()) + timedelta(days=FEEDBACK_STAGE_DAYS[feedback.stage])
        if today < due:
            raise BadUserInput(f"{feedback.stage} feedback opens on {due.isoformat()}.", field="stage")
        statement = (
            insert(placement_feedback)
            .values(
                match_id=match_id,
                stage=feedback.stage,
                respondent=respondent,
                rating=feedback.rating,
                comments=feedback.comments.strip(),
                submitted_by=principal.subject,
            )
            .on_conflict_do_nothing(constraint="uq_placement_feedback_once_per_stage")
            .returning(*placement_feedback.c)
        )
        row = (await conn.execute(statement)).first()
        if row is None:
            raise Conflict(f"{respondent.title()} feedback for {feedback.stage} was already submitted.")
        return row
