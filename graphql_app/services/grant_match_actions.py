"""Changing grant matches: a company's interactions (viewed, saved, dismissed), recomputing now, and starting the
background computation."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.engine import Row

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import grant_matches
from graphql_app.errors import NotFound, not_found
from graphql_app.services.catalogue import visible_company
from graphql_app.services.computation_records import GRANT_MATCHES, start_computation
from graphql_app.services.grant_matching import (
    ComputedMatch,
    recompute_and_store_matches,
    score_catalogue_for_company,
    top_matches,
)

#: The flags each action sets: saved and dismissed exclude each other.
ACTION_VALUES = {
    "SAVE": {"is_saved": True, "is_dismissed": False},
    "DISMISS": {"is_saved": False, "is_dismissed": True},
    "RESTORE": {"is_saved": False, "is_dismissed": False},
}


async def _update(db: Database, principal: Principal, where: list, values: dict, missing: NotFound) -> Row:
    statement = (
        update(grant_matches)
        .where(*where, access.tenant_rows(grant_matches, principal))
        .values(**values, updated_at=func.now())
        .returning(*grant_matches.c)
    )
    async with db.transaction() as conn:
        row = (await conn.execute(statement)).first()
    if row is None:
        raise missing
    return row


def _pair(company_id: uuid.UUID, grant_id: uuid.UUID) -> tuple[list, NotFound]:
    missing = NotFound(
        f"No stored match of company {company_id} and grant {grant_id}; run calculateGrantMatches first.",
        kind="GrantMatch",
    )
    return [grant_matches.c.company_id == company_id, grant_matches.c.grant_id == grant_id], missing


async def apply_action(db: Database, principal: Principal, match_id: uuid.UUID, action: str) -> Row:
    """SAVE sets saved and clears dismissed; DISMISS the reverse; RESTORE clears both."""
    where = [grant_matches.c.id == match_id]
    return await _update(db, principal, where, ACTION_VALUES[action], not_found("Grant match", match_id))


async def mark_viewed(db: Database, principal: Principal, company_id: uuid.UUID, grant_id: uuid.UUID) -> Row:
    where, missing = _pair(company_id, grant_id)
    values = {"is_viewed": True, "viewed_at": func.coalesce(grant_matches.c.viewed_at, func.now())}
    return await _update(db, principal, where, values, missing)


async def set_saved(db: Database, principal: Principal, company_id: uuid.UUID, grant_id: uuid.UUID, saved: bool):
    """Saving also clears dismissed (a match is never both)."""
    where, missing = _pair(company_id, grant_id)
    return await _update(db, principal, where, ACTION_VALUES["SAVE"] if saved else {"is_saved": False}, missing)


async def set_dismissed(
    db: Database, principal: Principal, company_id: uuid.UUID, grant_id: uuid.UUID, dismissed: bool
) -> Row:
    """Dismissing also clears saved (a match is never both)."""
    where, missing = _pair(company_id, grant_id)
    values = ACTION_VALUES["DISMISS"] if dismissed else {"is_dismissed": False}
    return await _update(db, principal, where, values, missing)


@dataclass
class Refresh:
    matches: list[ComputedMatch]
    candidate_count: int
    stored: list[Row]  # the stored rows of ``matches``, in order; empty when not saved


async def refresh_matches(
    db: Database, principal: Principal, company_id: uuid.UUID, *, save: bool, limit: int, now: datetime
) -> Refresh:
    """Recompute a company's matches now; when saved, stored ones keep their viewed/saved/dismissed flags."""
    if not save:
        async with db.reader() as conn:
            company = await visible_company(conn, principal, company_id)
            scored = await score_catalogue_for_company(conn, company, now)
        return Refresh(top_matches(scored, limit), len(scored.candidates.ids), [])
    async with db.transaction() as conn:
        company = await visible_company(conn, principal, company_id, lock=True)
        top, candidate_count = await recompute_and_store_matches(conn, company, now, limit)
        stored: list[Row] = []
        if top:
            query = select(grant_matches).where(
                grant_matches.c.company_id == company_id, grant_matches.c.grant_id.in_([m.grant_id for m in top])
            )
            by_grant = {row.grant_id: row for row in await conn.execute(query)}
            stored = [by_grant[m.grant_id] for m in top]
    return Refresh(top, candidate_count, stored)


async def start_grant_match_computation(db: Database, principal: Principal, company_id: uuid.UUID) -> Row:
    """Queue the computation of a company's matches; the QUEUED record (recorded under the company's tenant)."""
    async with db.reader() as conn:
        company = await visible_company(conn, principal, company_id)
    return await start_computation(
        db, principal, company.tenant_id, GRANT_MATCHES, company_id, {"companyId": str(company_id)}
    )
