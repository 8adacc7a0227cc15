"""Members ↔ jobs: organisations, jobs and members (validated, embedded), access rules, and the computations
that score job matches and write explanations (see docs/matching.md)."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import exists, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import validation as v
from graphql_app.auth import ORGANISATION_ROLES, Principal, Role
from graphql_app.db.engine import Database
from graphql_app.db.models import job_matches, jobs, members, organisations
from graphql_app.errors import BadUserInput, Conflict, Forbidden, not_found
from graphql_app.matching.belonging import (
    DEFAULT_BELONGING_WEIGHTS,
    JobProfile,
    MemberCohort,
    quality_tier,
    rank_members,
    score_members_for_job,
)
from graphql_app.matching.embeddings import Embedder
from graphql_app.matching.explanations import explain_belonging
from graphql_app.matching.traits import WORK_STYLE_TRAITS
from graphql_app.services.runs import ComputationFailed, RunContext

#: How many of the best members a job-wide computation stores (plus refreshed scores of stored ones).
STORED_MATCHES_PER_JOB = 200
MEMBER_COLUMNS = [c for c in members.c if c.name != "bio_embedding"]
ORGANISATION_COLUMNS = [c for c in organisations.c if c.name != "culture_embedding"]


# --- validation -------------------------------------------------------------------------------------------


def _words(values: Sequence[str] | None, field: str) -> list[str]:
    out: list[str] = []
    for value in values or []:
        word = v.storable_text(value.strip().lower(), field)
        if not word:
            raise BadUserInput(f"{field} must not contain blank entries.", field=field)
        if word not in out:
            out.append(word)
    return out


def _unit(value: float, field: str) -> float:
    if not 0.0 <= value <= 1.0:
        raise BadUserInput(f"{field} must be between 0 and 1; got {value}.", field=field)
    return float(value)


def _trait_map(items: Sequence[dict] | None, field: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items or []:
        trait = item["trait"]
        if trait not in WORK_STYLE_TRAITS:
            raise BadUserInput(
                f"{trait!r} is not a work-style trait; use one of: {', '.join(WORK_STYLE_TRAITS)}.", field=field
            )
        out[trait] = _unit(item["value"], f"{field}.{trait}")
    return out


def validate_organisation(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "name" in fields or not partial:
        out["name"] = v.non_blank(fields.get("name"), "name", 300)
    if "values" in fields:
        out["values"] = _words(fields["values"], "values")
    if "culture_statement" in fields:
        out["culture_statement"] = v.storable_text((fields["culture_statement"] or "").strip(), "cultureStatement")
    if "team_skills" in fields:
        out["team_skills"] = _words(fields["team_skills"], "teamSkills")
    if "team_trait_norms" in fields:
        norms: dict[str, dict[str, float]] = {}
        for item in fields["team_trait_norms"] or []:
            if item["trait"] not in WORK_STYLE_TRAITS:
                raise BadUserInput(f"{item['trait']!r} is not a work-style trait.", field="teamTraitNorms")
            tolerance = item["tolerance"]
            if not 0.0 < tolerance <= 1.0:
                raise BadUserInput("A trait norm's tolerance must be in (0, 1].", field="teamTraitNorms")
            norms[item["trait"]] = {"mean": _unit(item["mean"], "teamTraitNorms.mean"), "tolerance": float(tolerance)}
        out["team_trait_norms"] = norms
    return out


def validate_job(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "title" in fields or not partial:
        out["title"] = v.non_blank(fields.get("title"), "title", 300)
    if "description" in fields:
        out["description"] = v.storable_text((fields["description"] or "").strip(), "description")
    if "required_skills" in fields:
        skills: dict[str, float] = {}
        for item in fields["required_skills"] or []:
            name = _words([item["skill"]], "requiredSkills")[0]
            if not 0.0 < item["weight"] <= 10.0:
                raise BadUserInput("A required skill's weight must be in (0, 10].", field="requiredSkills")
            skills[name] = float(item["weight"])
        out["required_skills"] = skills
    if "desired_traits" in fields:
        out["desired_traits"] = _trait_map(fields["desired_traits"], "desiredTraits")
    if "is_open" in fields and fields["is_open"] is not None:
        out["is_open"] = bool(fields["is_open"])
    return out


def validate_member(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "display_name" in fields or not partial:
        out["display_name"] = v.non_blank(fields.get("display_name"), "displayName", 200)
    for name in ("headline", "bio"):
        if name in fields:
            out[name] = v.storable_text((fields[name] or "").strip(), name)
    for name in ("skills", "values"):
        if name in fields:
            out[name] = _words(fields[name], name)
    if "traits" in fields:
        out["traits"] = _trait_map(fields["traits"], "traits")
    if "profile_completeness" in fields and fields["profile_completeness"] is not None:
        out["profile_completeness"] = _unit(fields["profile_completeness"], "profileCompleteness")
    return out


# --- access ------------------------------------------------------------------------------------------------


def is_org_user(principal: Principal, tenant_id: str) -> bool:
    return principal.is_platform_admin or (
        principal.tenant_id == tenant_id and principal.has_any_role(ORGANISATION_ROLES)
    )


def is_org_admin(principal: Principal, tenant_id: str) -> bool:
    return principal.is_platform_admin or (principal.tenant_id == tenant_id and Role.ORG_ADMIN in principal.roles)


def is_member_self(principal: Principal, member_id: uuid.UUID) -> bool:
    return principal.member_id == member_id and Role.MEMBER in principal.roles


def match_visibility(principal: Principal):
    """Who sees a job match (the scoping helper for job matches): a member their own matches, organisation
    users their organisation's, platform admins all."""
    if principal.is_platform_admin:
        return job_matches.c.id.is_not(None)
    conditions = []
    if principal.member_id is not None and Role.MEMBER in principal.roles:
        conditions.append(job_matches.c.member_id == principal.member_id)
    if principal.has_any_role(ORGANISATION_ROLES):
        conditions.append(job_matches.c.tenant_id == principal.tenant_id)
    return or_(*conditions) if conditions else job_matches.c.id.is_(None)


async def visible_match(conn: AsyncConnection, principal: Principal, match_id: uuid.UUID, *, lock: bool = False) -> Row:
    query = select(job_matches).where(job_matches.c.id == match_id, match_visibility(principal))
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Job match", match_id)
    return row


def member_visibility(principal: Principal):
    """Who sees a member profile: the member themself; an organisation the members it has a match with;
    platform admins everyone."""
    if principal.is_platform_admin:
        return members.c.id.is_not(None)
    conditions = []
    if principal.member_id is not None and Role.MEMBER in principal.roles:
        conditions.append(members.c.id == principal.member_id)
    if principal.has_any_role({Role.ORG_USER, Role.ORG_ADMIN}):
        conditions.append(
            exists().where(job_matches.c.member_id == members.c.id, job_matches.c.tenant_id == principal.tenant_id)
        )
    return or_(*conditions) if conditions else members.c.id.is_(None)


async def visible_member(conn: AsyncConnection, principal: Principal, member_id: uuid.UUID) -> Row:
    """The member profile, if the principal may see it; NOT_FOUND otherwise."""
    query = select(*MEMBER_COLUMNS).where(members.c.id == member_id, member_visibility(principal))
    row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Member", member_id)
    return row


def job_visible(principal: Principal, job: Row) -> bool:
    """Open jobs are visible to every authenticated caller (members browse them); closed ones to the org."""
    return job.is_open or is_org_user(principal, job.tenant_id)


# --- writes ------------------------------------------------------------------------------------------------


async def _embed(embedder: Embedder, text_value: str) -> list[float] | None:
    if not text_value.strip():
        return None
    return (await asyncio.to_thread(embedder.encode, [text_value]))[0]


async def upsert_organisation(
    db: Database, embedder: Embedder, principal: Principal, fields: dict[str, Any], *, create: bool
) -> Row:
    changes = validate_organisation(fields, partial=not create)
    if "culture_statement" in changes:
        changes["culture_embedding"] = await _embed(embedder, changes["culture_statement"])
    async with db.transaction() as conn:
        if create:
            existing = await conn.scalar(
                select(organisations.c.id).where(organisations.c.tenant_id == principal.tenant_id)
            )
            if existing is not None:
                raise Conflict("This organisation account already has an organisation; update it instead.")
            return (
                await conn.execute(
                    insert(organisations).values(tenant_id=principal.tenant_id, **changes).returning(*organisations.c)
                )
            ).one()
        row = (
            await conn.execute(
                update(organisations)
                .where(organisations.c.tenant_id == principal.tenant_id)
                .values(**changes, updated_at=func.now())
                .returning(*organisations.c)
            )
        ).first()
        if row is None:
            raise not_found("Organisation", principal.tenant_id)
        return row


async def create_job(db: Database, principal: Principal, fields: dict[str, Any]) -> Row:
    values = validate_job(fields, partial=False)
    async with db.transaction() as conn:
        org_id = await conn.scalar(select(organisations.c.id).where(organisations.c.tenant_id == principal.tenant_id))
        if org_id is None:
            raise BadUserInput("Create your organisation (createOrganisation) before adding jobs.")
        return (
            await conn.execute(
                insert(jobs).values(tenant_id=principal.tenant_id, organisation_id=org_id, **values).returning(*jobs.c)
            )
        ).one()


async def update_job(db: Database, principal: Principal, job_id: uuid.UUID, fields: dict[str, Any]) -> Row:
    changes = validate_job(fields, partial=True)
    async with db.transaction() as conn:
        query = update(jobs).where(jobs.c.id == job_id)
        if not principal.is_platform_admin:
            query = query.where(jobs.c.tenant_id == principal.tenant_id)
        row = (await conn.execute(query.values(**changes, updated_at=func.now()).returning(*jobs.c))).first()
        if row is None:
            raise not_found("Job", job_id)
        return row


async def create_member(db: Database, embedder: Embedder, principal: Principal, fields: dict[str, Any]) -> Row:
    values = validate_member(fields, partial=False)
    values["bio_embedding"] = await _embed(embedder, values.get("bio", ""))
    if not principal.is_platform_admin:
        if principal.member_id is None or Role.MEMBER not in principal.roles:
            raise Forbidden("Only a member (a token with member_id) or a platform admin may create a member profile.")
        values["id"] = principal.member_id
    async with db.transaction() as conn:
        if "id" in values and await conn.scalar(select(members.c.id).where(members.c.id == values["id"])):
            raise Conflict("Your member profile exists already; update it instead.")
        return (await conn.execute(insert(members).values(**values).returning(*MEMBER_COLUMNS))).one()


async def update_member(
    db: Database, embedder: Embedder, principal: Principal, member_id: uuid.UUID, fields: dict[str, Any]
) -> Row:
    if not (principal.is_platform_admin or is_member_self(principal, member_id)):
        raise not_found("Member", member_id)
    changes = validate_member(fields, partial=True)
    if "bio" in changes:
        changes["bio_embedding"] = await _embed(embedder, changes["bio"])
    async with db.transaction() as conn:
        row = (
            await conn.execute(
                update(members)
                .where(members.c.id == member_id)
                .values(**changes, updated_at=func.now())
                .returning(*MEMBER_COLUMNS)
            )
        ).first()
        if row is None:
            raise not_found("Member", member_id)
        return row


# --- computing matches ---------------------------------------------------------------------------------------


def job_profile(job: Row, org: Row) -> JobProfile:
    culture = np.asarray(org.culture_embedding, dtype=np.float32) if org.culture_embedding is not None else None
    return JobProfile(  # the culture embedding is unused when the cohort carries culture_similarity
        required_skills=dict(job.required_skills or {}),
        desired_traits=dict(job.desired_traits or {}),
        org_values=frozenset(org._mapping["values"] or ()),
        culture_embedding=culture,
        team_trait_norms={t: (n["mean"], n["tolerance"]) for t, n in (org.team_trait_norms or {}).items()},
        team_skills=frozenset(org.team_skills or ()),
    )


def organisation_weights(org: Row) -> tuple[tuple[float, float, float], int]:
    """The belonging weights in force for an organisation and their model version (0 = defaults)."""
    if org.belonging_weights:
        return tuple(org.belonging_weights), org.model_version  # type: ignore[return-value]
    return DEFAULT_BELONGING_WEIGHTS, 0


_TRAITS_SQL = ", ".join(f"(traits->>'{t}')::float8" for t in WORK_STYLE_TRAITS)
_COHORT_SQL = f"""
    SELECT id, "values", skills, ARRAY[{_TRAITS_SQL}] AS traits
    FROM members WHERE $1::uuid IS NULL OR id = $1::uuid ORDER BY id
"""
_CULTURE_SQL = """
    SELECT array_agg(CASE WHEN bio_embedding IS NULL THEN 'NaN'::float8
                          ELSE 1 - (bio_embedding <=> $1::vector) END ORDER BY id)
    FROM members WHERE $2::uuid IS NULL OR id = $2::uuid
"""
_VERSION_SQL = "SELECT current_database(), count(*), max(updated_at) FROM members"


class CohortCache:
    """The member cohort of this process, reused while the members table is unchanged.

    Loading and shaping 100,000 members costs seconds; scoring them costs milliseconds. The cohort does not
    depend on the job, so it is kept per process and reloaded when the table's (row count, latest update)
    changes (per database). The culture part depends on the organisation and is fetched per run as one float array.
    """

    def __init__(self) -> None:
        self._version: tuple | None = None
        self._cohort: MemberCohort | None = None
        self._lock = asyncio.Lock()
        self.loads = 0

    async def get(self, raw) -> MemberCohort:
        async with self._lock:
            version = tuple(await raw.fetchrow(_VERSION_SQL))
            if version != self._version or self._cohort is None:
                self._cohort = _cohort_from_rows(await raw.fetch(_COHORT_SQL, None))
                self._version = version
                self.loads += 1
            return self._cohort


member_cohorts = CohortCache()


def _cohort_from_rows(rows: Sequence) -> MemberCohort:
    if not rows:
        return MemberCohort(ids=[], values=[], skills=[], traits=np.zeros((0, len(WORK_STYLE_TRAITS))))
    ids, values, skills, trait_rows = zip(*rows, strict=True)
    return MemberCohort(ids=list(ids), values=values, skills=skills, traits=np.array(trait_rows, dtype=np.float64))


def _vector_literal(vector) -> str | None:
    return None if vector is None else "[" + ",".join(f"{float(x):.8g}" for x in vector) + "]"


async def load_cohort(conn: AsyncConnection, culture_embedding, member_id: uuid.UUID | None = None) -> MemberCohort:
    """Members as scoring input, with the culture part (cosine to the organisation's culture statement,
    computed by pgvector) for this organisation. All members come from the process cache; one member is read
    directly. The hot queries go straight to asyncpg, whose C decoders read the arrays."""
    raw = (await conn.get_raw_connection()).driver_connection
    if member_id is not None:
        base = _cohort_from_rows(await raw.fetch(_COHORT_SQL, member_id))
    else:
        base = await member_cohorts.get(raw)
    cohort = copy.copy(base)  # shallow: shares the (read-only) arrays, gets its own culture column
    if culture_embedding is None or not len(base):
        cohort.culture_similarity = np.full(len(base), np.nan)
        return cohort
    similarities = await raw.fetchval(_CULTURE_SQL, _vector_literal(culture_embedding), member_id)
    if similarities is None or len(similarities) != len(base):  # members changed meanwhile: load afresh
        member_cohorts._version = None
        return await load_cohort(conn, culture_embedding, member_id)
    cohort.culture_similarity = np.array(similarities, dtype=np.float64)
    return cohort


async def store_job_matches(conn: AsyncConnection, job: Row, org: Row, cohort: MemberCohort, limit: int | None) -> int:
    """Score ``cohort`` for ``job``; upsert the best ``limit`` (all when None) and refresh stored ones.

    Only scores, tier, weights and model version are written: status, interest, feedback and outcome stay.
    A recomputed match's cached explanation is dropped so the next read regenerates it.
    """
    weights, version = organisation_weights(org)
    scores = score_members_for_job(job_profile(job, org), cohort, weights)
    chosen = [int(i) for i in rank_members(scores, limit)]
    index_of = {mid: i for i, mid in enumerate(cohort.ids)}
    stored = set((await conn.execute(select(job_matches.c.member_id).where(job_matches.c.job_id == job.id))).scalars())
    picked = set(chosen) | {index_of[m] for m in stored if m in index_of}
    rows = [
        {
            "tenant_id": job.tenant_id,
            "organisation_id": org.id,
            "job_id": job.id,
            "member_id": cohort.ids[i],
            "authenticity": float(scores.authenticity[i]),
            "acceptance": float(scores.acceptance[i]),
            "complementarity": float(scores.complementarity[i]),
            "belonging_probability": float(scores.probability[i]),
            "quality_tier": quality_tier(float(scores.probability[i])),
            "model_version": version,
            "belonging_weights": list(weights),
        }
        for i in sorted(picked)
    ]
    if rows:
        statement = insert(job_matches)
        excluded = statement.excluded
        written = (
            "authenticity",
            "acceptance",
            "complementarity",
            "belonging_probability",
            "quality_tier",
            "model_version",
            "belonging_weights",
        )
        await conn.execute(
            statement.on_conflict_do_update(
                constraint="uq_job_matches_job_member",
                set_={
                    **{name: excluded[name] for name in written},
                    "explanation": None,
                    "explanation_generated_at": None,
                    "explanation_computation_id": None,
                    "updated_at": func.now(),
                },
            ),
            rows,
        )
    return len(rows)


async def run_job_matches(run: RunContext) -> None:
    """JOB_MATCHES: a job against every member, a member against every open job, or one pair."""
    params = run.record.parameters or {}
    job_id = uuid.UUID(params["jobId"]) if params.get("jobId") else None
    member_id = uuid.UUID(params["memberId"]) if params.get("memberId") else None
    async with run.db.reader() as conn:
        job_query = select(jobs).where(jobs.c.id == job_id) if job_id else select(jobs).where(jobs.c.is_open)
        if job_id is None and params.get("jobsOfTenant"):  # an organisation scoring a member against its jobs
            job_query = job_query.where(jobs.c.tenant_id == params["jobsOfTenant"])
        job_rows = list(await conn.execute(job_query.order_by(jobs.c.organisation_id, jobs.c.created_at, jobs.c.id)))
        if member_id is not None and await conn.scalar(select(members.c.id).where(members.c.id == member_id)) is None:
            raise ComputationFailed(f"Member {member_id} no longer exists.")
    cohorts: dict[uuid.UUID, MemberCohort] = {}  # per organisation: the culture part depends on it
    if job_id is not None and not job_rows:
        raise ComputationFailed(f"Job {job_id} no longer exists.")
    limit = STORED_MATCHES_PER_JOB if member_id is None else None
    written, total = 0, len(job_rows)
    if total > 1:
        await run.progress(0, total)
    for done, job in enumerate(job_rows, start=1):
        async with run.db.transaction() as conn:
            # The organisation row lock serialises this with outcome recording (weights) and other runs.
            org_query = select(organisations).where(organisations.c.id == job.organisation_id).with_for_update()
            org = (await conn.execute(org_query)).one()
            if org.id not in cohorts:
                cohorts.clear()  # jobs come grouped by organisation
                cohorts[org.id] = await load_cohort(conn, org.culture_embedding, member_id)
            written += await store_job_matches(conn, job, org, cohorts[org.id], limit)
            if done == total:
                await run.succeed(conn, result_count=written, total_count=total, processed_count=done)
        if done < total:
            await run.progress(done, total)
    if total == 0:
        async with run.db.transaction() as conn:
            await run.succeed(conn, result_count=0, total_count=0, processed_count=0)


async def run_explanation(run: RunContext) -> None:
    """MATCH_EXPLANATION: word the match's belonging and cache it on the match (with SUCCEEDED, atomically)."""
    async with run.db.transaction() as conn:
        match_query = select(job_matches).where(job_matches.c.id == run.record.subject_id).with_for_update()
        match = (await conn.execute(match_query)).first()
        if match is None:
            raise ComputationFailed(f"Job match {run.record.subject_id} no longer exists.")
        member_query = select(members.c.traits, members.c.profile_completeness).where(members.c.id == match.member_id)
        member = (await conn.execute(member_query)).one()
        job = (await conn.execute(select(jobs.c.desired_traits).where(jobs.c.id == match.job_id))).one()
        data = explain_belonging(
            dict(member.traits or {}),
            dict(job.desired_traits or {}),
            match.authenticity,
            match.acceptance,
            match.complementarity,
            member.profile_completeness,
        )
        explanation = {
            "topStrengths": data.top_strengths,
            "growthAreas": data.growth_areas,
            "belongingBreakdown": data.belonging_breakdown,
            "confidenceStatement": data.confidence_statement,
            "summaryText": data.summary_text,
        }
        await conn.execute(
            update(job_matches)
            .where(job_matches.c.id == match.id)
            .values(explanation=explanation, explanation_generated_at=func.now())
        )
        await run.succeed(conn, result_count=1, total_count=1, processed_count=1)
