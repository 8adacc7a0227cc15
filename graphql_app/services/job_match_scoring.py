"""Scoring members for jobs in the background: the member cohort, stored job matches with their explanations,
and the JOB_MATCHES and MATCH_EXPLANATION computations (docs/matching.md)."""

from __future__ import annotations

import asyncio
import copy
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.db.models import job_matches, jobs, members, organisations
from graphql_app.matching.belonging import (
    DEFAULT_BELONGING_WEIGHTS,
    JobProfile,
    MemberCohort,
    quality_tier,
    rank_members,
    score_members_for_job,
)
from graphql_app.matching.explanations import explain_belonging
from graphql_app.matching.traits import WORK_STYLE_TRAITS
from graphql_app.services.runs import ComputationFailed, RunContext

#: How many of the best members a job-wide computation stores (plus refreshed scores of stored ones).
STORED_MATCHES_PER_JOB = 200


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


def explanation_json(member_traits, desired_traits, authenticity, acceptance, complementarity, completeness) -> dict:
    """The stored form of a match's explanation (``MatchExplanation`` reads it back)."""
    data = explain_belonging(member_traits, desired_traits, authenticity, acceptance, complementarity, completeness)
    return {
        "topStrengths": data.top_strengths,
        "growthAreas": data.growth_areas,
        "belongingBreakdown": data.belonging_breakdown,
        "confidenceStatement": data.confidence_statement,
        "summaryText": data.summary_text,
    }


async def store_job_matches(conn: AsyncConnection, job: Row, org: Row, cohort: MemberCohort, limit: int | None) -> int:
    """Score ``cohort`` for ``job``; upsert the best ``limit`` (all when None) and refresh stored ones.

    Only scores, tier, weights, model version and the explanation are written: status, interest, feedback and
    outcome stay. The explanation is worded here, with the scores (a pure function of them, the member's traits
    and the job's targets), so reading a match never has to write one.
    """
    weights, version = organisation_weights(org)
    scores = score_members_for_job(job_profile(job, org), cohort, weights)
    chosen = [int(i) for i in rank_members(scores, limit)]
    index_of = {mid: i for i, mid in enumerate(cohort.ids)}
    stored = set((await conn.execute(select(job_matches.c.member_id).where(job_matches.c.job_id == job.id))).scalars())
    picked = set(chosen) | {index_of[m] for m in stored if m in index_of}
    completeness = dict(
        (
            await conn.execute(
                select(members.c.id, members.c.profile_completeness).where(
                    members.c.id.in_([cohort.ids[i] for i in picked])
                )
            )
        ).all()
    )
    desired = dict(job.desired_traits or {})
    generated_at = datetime.now(UTC)

    def explanation(i: int) -> dict:
        traits = dict(zip(WORK_STYLE_TRAITS, cohort.traits[i].tolist(), strict=True))
        return explanation_json(
            traits,
            desired,
            float(scores.authenticity[i]),
            float(scores.acceptance[i]),
            float(scores.complementarity[i]),
            completeness.get(cohort.ids[i]),
        )

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
            "explanation": explanation(i),
            "explanation_generated_at": generated_at,
            "explanation_computation_id": None,
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
            "explanation",
            "explanation_generated_at",
            "explanation_computation_id",
        )
        await conn.execute(
            statement.on_conflict_do_update(
                constraint="uq_job_matches_job_member",
                set_={**{name: excluded[name] for name in written}, "updated_at": func.now()},
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
        job_query = select(jobs).where(jobs.c.id == job_id) if job_id else select(jobs).where(access.open_jobs(jobs))
        if job_id is None and params.get("organisationId"):  # an organisation scoring a member against its jobs
            job_query = job_query.where(jobs.c.organisation_id == uuid.UUID(params["organisationId"]))
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
    """MATCH_EXPLANATION: word the belonging of the matches named (``matchIds``; older records: the subject) and
    store each explanation on its match, with SUCCEEDED, atomically. Matches computed since explanations are
    written with the scores never need this; it serves matches stored before."""
    params = run.record.parameters or {}
    match_ids = [uuid.UUID(m) for m in params.get("matchIds") or [str(run.record.subject_id)]]
    async with run.db.transaction() as conn:
        query = (
            select(
                job_matches.c.id,
                job_matches.c.authenticity,
                job_matches.c.acceptance,
                job_matches.c.complementarity,
                members.c.traits,
                members.c.profile_completeness,
                jobs.c.desired_traits,
            )
            .join(members, members.c.id == job_matches.c.member_id)
            .join(jobs, jobs.c.id == job_matches.c.job_id)
            .where(job_matches.c.id.in_(match_ids))
            .with_for_update(of=job_matches)
        )
        found = list(await conn.execute(query))
        if not found:
            raise ComputationFailed("The job matches to explain no longer exist.")
        for match in found:
            explanation = explanation_json(
                dict(match.traits or {}),
                dict(match.desired_traits or {}),
                match.authenticity,
                match.acceptance,
                match.complementarity,
                match.profile_completeness,
            )
            await conn.execute(
                update(job_matches)
                .where(job_matches.c.id == match.id)
                .values(explanation=explanation, explanation_generated_at=func.now())
            )
        await run.succeed(conn, result_count=len(found), total_count=len(match_ids), processed_count=len(match_ids))
