"""The talent side's profiles: organisations, jobs and members — validated, embedded, and read as the access
rules allow (docs/matching.md). Scoring them is :mod:`graphql_app.services.job_match_scoring`; what happens to a
match, :mod:`graphql_app.services.job_match_actions`."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app import validation as v
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import jobs, members, organisations
from graphql_app.errors import BadUserInput, Conflict, Forbidden, not_found
from graphql_app.matching.embeddings import Embedder
from graphql_app.matching.traits import WORK_STYLE_TRAITS

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


# --- reads ---------------------------------------------------------------------------------------------------


async def my_organisation(db: Database, principal: Principal) -> Row:
    """The organisation of the viewer's organisation account."""
    query = select(*ORGANISATION_COLUMNS).where(access.own_organisation(organisations, principal))
    async with db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Organisation", principal.tenant_id)
    return row


def jobs_list(principal: Principal, include_closed: bool) -> Select:
    """Jobs the viewer may list (``access.visible_jobs``), the viewer's organisation's first, newest first."""
    return (
        select(*jobs.c)
        .where(access.visible_jobs(jobs, principal, include_closed=include_closed))
        .order_by(*access.jobs_order(jobs, principal))
    )


def visible_job(principal: Principal, row: Row | None, job_id: uuid.UUID) -> Row:
    """A job (loaded by id) if the viewer may see it; NOT_FOUND otherwise."""
    if row is None or not access.job_visible(principal, row):
        raise not_found("Job", job_id)
    return row


async def visible_member(conn: AsyncConnection, principal: Principal, member_id: uuid.UUID) -> Row:
    """The member profile, if the principal may see it; NOT_FOUND otherwise."""
    query = select(*MEMBER_COLUMNS).where(members.c.id == member_id, access.visible_members(members, principal))
    row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Member", member_id)
    return row


async def get_member(db: Database, principal: Principal, member_id: uuid.UUID) -> Row:
    async with db.reader() as conn:
        return await visible_member(conn, principal, member_id)


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
                select(organisations.c.id).where(access.own_organisation(organisations, principal))
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
                .where(access.own_organisation(organisations, principal))
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
        org_id = await conn.scalar(select(organisations.c.id).where(access.own_organisation(organisations, principal)))
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
        query = update(jobs).where(jobs.c.id == job_id, access.organisation_jobs(jobs, principal))
        row = (await conn.execute(query.values(**changes, updated_at=func.now()).returning(*jobs.c))).first()
        if row is None:
            raise not_found("Job", job_id)
        return row


async def create_member(db: Database, embedder: Embedder, principal: Principal, fields: dict[str, Any]) -> Row:
    values = validate_member(fields, partial=False)
    values["bio_embedding"] = await _embed(embedder, values.get("bio", ""))
    if not principal.is_platform_admin:
        if not access.has_member_identity(principal):
            raise Forbidden("Only a member (a token with member_id) or a platform admin may create a member profile.")
        values["id"] = principal.member_id
    async with db.transaction() as conn:
        if "id" in values and await conn.scalar(select(members.c.id).where(members.c.id == values["id"])):
            raise Conflict("Your member profile exists already; update it instead.")
        return (await conn.execute(insert(members).values(**values).returning(*MEMBER_COLUMNS))).one()


async def update_member(
    db: Database, embedder: Embedder, principal: Principal, member_id: uuid.UUID, fields: dict[str, Any]
) -> Row:
    if not (principal.is_platform_admin or access.is_member_self(principal, member_id)):
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
