"""The new-grant fan-out: score created or changed grants against every company of every tenant.

A GRANT_FANOUT computation (queued by ``createGrant``/``createGrants``/``updateGrant`` in the same transaction as
the grants) runs :func:`run_grant_fanout`. Per grant, one statement pre-filters the companies the grant accepts
(country, size: the same rules as the company side's pre-filter, read from the grant's side) and takes their
cosine similarity in pgvector; the companies' other attributes are loaded once per computation. The pure scoring
is :func:`graphql_app.matching.grants.score_companies_for_grant`, built from the same per-rule functions as the
company side. Which matches are stored (docs/matching.md, "The new-grant fan-out"):

- a company's existing match of the grant is refreshed while the grant is open, accepts the company and scores
  above 0, and deleted otherwise (the grant closed, or now excludes the company's country or size);
- a new match is stored when it scores above 0 and would be among the company's ``STORED_MATCHES_PER_COMPANY``
  best stored matches (the company side's threshold): the company has fewer stored, or it beats the worst of
  its best ``STORED_MATCHES_PER_COMPANY``.

Interaction flags are never written (upserts write scores only). Each grant's changes commit in their own
transaction, followed by the computation's progress; running again is harmless (upserts and deletes).
"""

from __future__ import annotations

import asyncio
import bisect
import math
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg
import numpy as np
import orjson
from sqlalchemy import Float, Text, and_, bindparam, case, func, literal, or_, select, text, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.models import companies, grant_matches, grants
from graphql_app.matching.alerts import NEW_GRANT, AlertGrant, AlertSettings, raises_alert
from graphql_app.matching.grants import (
    CompanyCandidates,
    CompanyProfile,
    GrantProfile,
    explain_company_matches,
    score_companies_for_grant,
)
from graphql_app.services.computation_records import GRANT_FANOUT, insert_computation
from graphql_app.services.grant_alerts import NewAlert, raise_alerts, settings_of
from graphql_app.services.grant_catalogue import microseconds_since_epoch, paused_gc
from graphql_app.services.grant_matching import (
    PEER_COUNT,
    SCORE_COLUMNS,
    STORED_MATCHES_PER_COMPANY,
    match_score_values,
)
from graphql_app.services.runs import RunContext

#: UPSERT_MATCHES's recordset: each stored column typed as the table types it (JSON arrays fill arrays).
_RECORDSET_COLUMNS = ", ".join(
    f"{c} {grant_matches.c[c].type.compile(dialect=postgresql.dialect())}" for c in SCORE_COLUMNS
)

#: Stored matches explained and written per chunk of this many (explaining overlaps the previous chunk's write).
WRITE_CHUNK = 2_000

#: Refreshed matches (and new ones when a copy meets a concurrent insert) written in one statement: the rows
#: travel as one JSON document (``jsonb_to_recordset``), so thousands of rows cost one round trip.
UPSERT_MATCHES = text(
    f"""
    INSERT INTO grant_matches (tenant_id, company_id, grant_id, {", ".join(SCORE_COLUMNS)})
    SELECT r.tenant_id, r.company_id, :grant_id, {", ".join(f"r.{c}" for c in SCORE_COLUMNS)}
    FROM jsonb_to_recordset(CAST(:rows AS jsonb))
        AS r(tenant_id text, company_id uuid, {_RECORDSET_COLUMNS})
    ON CONFLICT ON CONSTRAINT uq_grant_matches_company_grant DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in SCORE_COLUMNS)}, updated_at = now()
    """
).bindparams(bindparam("grant_id", type_=UUID(as_uuid=True)))

#: The columns new matches are copied into (``COPY``, binary: the cheapest way PostgreSQL takes rows).
COPY_COLUMNS = ("tenant_id", "company_id", "grant_id", *SCORE_COLUMNS)


async def queue_grant_fanout(
    conn: AsyncConnection, principal: Principal, grant_ids: Sequence[uuid.UUID], reason: str = NEW_GRANT
) -> Row:
    """Queue a GRANT_FANOUT computation of ``grant_ids`` in the caller's transaction (recorded in the caller's
    tenant, like every computation; its subject is the grant when there is one). ``reason``: the alerts it
    raises, NEW_GRANT (created or imported) or GRANT_CHANGED (updated)."""
    subject = grant_ids[0] if len(grant_ids) == 1 else None
    return await insert_computation(
        conn,
        principal.subject,
        principal.tenant_id,
        GRANT_FANOUT,
        subject,
        {"grantIds": [str(g) for g in grant_ids], "reason": reason},
    )


@dataclass
class CompanyColumns:
    """Every company's scoring attributes, loaded once per fan-out; entry ``i`` of each list is one company."""

    position: dict[str, int]
    ids: list[uuid.UUID]
    tenants: list[str]
    profiles: list[CompanyProfile]
    alert_settings: list[AlertSettings]


async def load_company_columns(conn: AsyncConnection) -> CompanyColumns:
    c = companies.c
    rows = (
        await conn.execute(
            select(
                c.id,
                c.tenant_id,
                c.country,
                c.size,
                c.nace_codes,
                c.carbon_categories,
                c.certifications,
                c.taxonomy_objectives,
                c.alert_min_score,
                c.alert_carbon_focused_only,
                c.alert_min_amount,
            )
        )
    ).all()
    return CompanyColumns(
        position={str(r.id): i for i, r in enumerate(rows)},
        ids=[r.id for r in rows],
        tenants=[r.tenant_id for r in rows],
        profiles=[
            CompanyProfile(
                country=r.country,
                nace_codes=tuple(r.nace_codes or ()),
                size=r.size,
                carbon_categories=frozenset(r.carbon_categories or ()),
                certifications=frozenset(r.certifications or ()),
                taxonomy_objectives=frozenset(r.taxonomy_objectives or ()),
            )
            for r in rows
        ],
        alert_settings=[settings_of(r) for r in rows],
    )


@dataclass
class StoredThresholds:
    """Each company's best stored scores (up to ``STORED_MATCHES_PER_COMPANY``, ascending), kept current as the
    fan-out stores matches, so "would be among its best" needs no statement per grant."""

    best: dict[uuid.UUID, list[float]] = field(default_factory=dict)

    @classmethod
    async def load(cls, conn: AsyncConnection) -> StoredThresholds:
        m = grant_matches.c
        ranked = select(
            m.company_id,
            m.score,
            func.row_number().over(partition_by=m.company_id, order_by=m.score.desc()).label("rank"),
        ).subquery()
        rows = await conn.execute(
            select(ranked.c.company_id, func.array_agg(ranked.c.score))
            .where(ranked.c.rank <= STORED_MATCHES_PER_COMPANY)
            .group_by(ranked.c.company_id)
        )
        return cls({company_id: sorted(scores) for company_id, scores in rows})

    def admits(self, company_id: uuid.UUID, score: float) -> bool:
        best = self.best.get(company_id)
        return best is None or len(best) < STORED_MATCHES_PER_COMPANY or score > best[0]

    def record(self, company_id: uuid.UUID, score: float) -> None:
        best = self.best.setdefault(company_id, [])
        bisect.insort(best, score)
        if len(best) > STORED_MATCHES_PER_COMPANY:
            del best[0]


def fanout_peer_signals_query(grant_id: uuid.UUID):
    """Per company, the peer signal on one grant, exactly as :func:`grant_matching.peer_signals_query` computes it
    from the company's side (its ``PEER_COUNT`` most similar peers, ``access.peers_of``). Only companies of
    tenants where someone interacted with the grant can have one; for a new grant there are none."""
    c = companies.alias("c")
    p = companies.alias("p")
    m = grant_matches
    flagged = or_(m.c.is_saved, m.c.is_dismissed, m.c.is_viewed)
    distance = p.c.embedding.cosine_distance(c.c.embedding)
    peers = (
        select(p.c.id, (1 - distance).label("similarity"))
        .where(access.peers_of(p, c), p.c.embedding.is_not(None))
        .order_by(distance + 0)
        .limit(PEER_COUNT)
        .lateral("peers")
    )
    weight = case((m.c.is_saved, 1.0), (m.c.is_dismissed, -1.0), (m.c.is_viewed, 0.25), else_=0.0)
    interested = select(m.c.tenant_id).where(m.c.grant_id == grant_id, flagged).distinct()
    return (
        select(
            c.c.id,
            func.sum(peers.c.similarity * weight).label("signal"),
            func.count().filter(m.c.is_saved).label("saved"),
        )
        .select_from(c)
        .join(peers, true())
        .join(m, and_(m.c.company_id == peers.c.id, m.c.grant_id == grant_id))
        .where(c.c.embedding.is_not(None), c.c.tenant_id.in_(interested), flagged)
        .group_by(c.c.id)
    )


def grant_profile(grant: Row, now: datetime) -> GrantProfile:
    if grant.deadline is None:
        days_left = math.nan
    else:  # the catalogue copy's arithmetic (grant_catalogue.CatalogueColumns.candidates), so both sides agree
        seconds = float(microseconds_since_epoch(grant.deadline) - microseconds_since_epoch(now)) / 1e6
        days_left = float(np.floor(seconds / 86400))
    return GrantProfile(
        id=grant.id,
        countries=frozenset(grant.countries or ()),
        nace_codes=tuple(grant.nace_codes or ()),
        sizes=frozenset(grant.sizes or ()),
        carbon_categories=frozenset(grant.carbon_categories or ()),
        certifications=frozenset(grant.certifications or ()),
        taxonomy_objectives=frozenset(grant.taxonomy_objectives or ()),
        is_carbon_focused=bool(grant.is_carbon_focused),
        days_left=days_left,
    )


@dataclass(frozen=True)
class FanoutResult:
    """What fanning one grant out did."""

    candidates: int  # companies the grant accepts (pre-filter)
    stored: list[uuid.UUID]  # companies whose match was inserted or refreshed
    created: list[uuid.UUID]  # of which new
    deleted: int
    alerts: int = 0  # alerts raised


async def fan_out_grant(
    conn: AsyncConnection,
    grant_id: uuid.UUID,
    now: datetime,
    columns: CompanyColumns,
    thresholds: StoredThresholds,
    reason: str = NEW_GRANT,
) -> tuple[FanoutResult, CompanyColumns]:
    """Score one grant against every company and write its matches, in the caller's transaction; stored matches
    that reach their company's alert settings raise ``reason`` alerts."""
    grant = (await conn.execute(select(grants).where(grants.c.id == grant_id))).first()
    if grant is None:  # deleted since it was queued: nothing to match
        return FanoutResult(0, [], [], 0), columns
    existing = set(
        (await conn.execute(select(grant_matches.c.company_id).where(grant_matches.c.grant_id == grant_id)))
        .scalars()
        .all()
    )
    if not access.grant_open(grant.deadline, now):
        deleted = (await conn.execute(grant_matches.delete().where(grant_matches.c.grant_id == grant_id))).rowcount
        return FanoutResult(0, [], [], deleted), columns

    if grant.embedding is not None:
        similarity = (1 - companies.c.embedding.cosine_distance(grant.embedding)).cast(Float)
        similarity = case((companies.c.embedding.is_(None), literal(0.0)), else_=similarity)
    else:
        similarity = literal(0.0, Float)
    eligible_companies = select(
        func.array_agg(companies.c.id.cast(Text)).label("ids"), func.array_agg(similarity).label("cosine")
    )
    if grant.countries:
        eligible_companies = eligible_companies.where(companies.c.country.in_(sorted(grant.countries)))
    if grant.sizes:
        eligible_companies = eligible_companies.where(companies.c.size.in_(sorted(grant.sizes)))
    found = (await conn.execute(eligible_companies)).one()
    company_ids, cosine = found.ids or [], found.cosine or []
    if any(cid not in columns.position for cid in company_ids):  # a company added since the columns were loaded
        columns = await load_company_columns(conn)
    signals: dict[uuid.UUID, tuple[float, int]] = {}
    if existing:  # interactions exist only on stored matches
        result = await conn.execute(fanout_peer_signals_query(grant_id))
        signals = {row.id: (float(row.signal), int(row.saved)) for row in result}
    profile = grant_profile(grant, now)

    def score():
        with paused_gc():
            rows = [columns.position[cid] for cid in company_ids]
            ids = [columns.ids[i] for i in rows]
            candidates = CompanyCandidates.from_profiles(
                ids,
                [columns.profiles[i] for i in rows],
                cosine,
                [signals.get(cid, (0.0, 0))[0] for cid in ids],
                [signals.get(cid, (0, 0))[1] for cid in ids],
            )
            return rows, candidates, score_companies_for_grant(profile, candidates)

    rows, candidates, scores = await asyncio.to_thread(score)
    listed = scores.eligible & (scores.total > 0)
    stored: list[int] = []  # candidate indexes whose match is written
    created: list[uuid.UUID] = []
    alerts: list[NewAlert] = []
    alert_grant = AlertGrant(bool(grant.is_carbon_focused), grant.amount_min, grant.amount_max)
    for j in np.nonzero(listed)[0].tolist():
        company_id = candidates.ids[j]
        total = float(scores.total[j])
        if company_id not in existing:
            if not thresholds.admits(company_id, total):
                continue
            thresholds.record(company_id, total)
            created.append(company_id)
        stored.append(j)
        if raises_alert(columns.alert_settings[rows[j]], alert_grant, total):
            alerts.append(NewAlert(columns.tenants[rows[j]], company_id, grant_id, reason, total))
    stored_ids = [candidates.ids[j] for j in stored]
    stale = existing - set(stored_ids)
    deleted = 0
    if stale:
        deleted = (
            await conn.execute(
                grant_matches.delete().where(
                    grant_matches.c.grant_id == grant_id, grant_matches.c.company_id.in_(list(stale))
                )
            )
        ).rowcount

    def explained(chunk: list[int]) -> list[tuple]:
        """The rows of ``chunk`` with their explanations, in ``COPY_COLUMNS`` order."""
        explanations = explain_company_matches(profile, candidates, scores, chunk)
        rows_out = []
        for j, explanation in zip(chunk, explanations, strict=True):
            values = match_score_values(scores, j, explanation)
            rows_out.append(
                (columns.tenants[rows[j]], candidates.ids[j], grant_id, *(values[c] for c in SCORE_COLUMNS))
            )
        return rows_out

    created_set = set(created)
    await write_matches(
        conn,
        grant_id,
        new=[j for j in stored if candidates.ids[j] in created_set],
        refreshed=[j for j in stored if candidates.ids[j] not in created_set],
        explained=explained,
    )
    raised = await raise_alerts(conn, alerts) if alerts else []
    return FanoutResult(len(company_ids), stored_ids, created, deleted, len(raised)), columns


async def write_matches(
    conn: AsyncConnection,
    grant_id: uuid.UUID,
    new: list[int],
    refreshed: list[int],
    explained: Callable[[list[int]], list[tuple]],
) -> None:
    """Write one grant's stored matches: ``refreshed`` (the company already holds the match) by an upsert that
    keeps the interaction flags, ``new`` ones by ``COPY``. Each chunk is explained (``explained``, in a thread)
    while PostgreSQL writes the previous one. A company-side recomputation may store one of the new matches
    while this runs: the copy then fails on the unique (company, grant) key, its savepoint is rolled back and
    the new matches are upserted instead, so the result is the same."""
    for start in range(0, len(refreshed), WRITE_CHUNK):
        rows = await asyncio.to_thread(explained, refreshed[start : start + WRITE_CHUNK])
        await conn.execute(UPSERT_MATCHES, {"grant_id": grant_id, "rows": _recordset_document(rows)})
    if not new:
        return
    driver = (await conn.get_raw_connection()).driver_connection
    explained_rows: list[tuple] = []
    try:
        async with conn.begin_nested():
            copying = None
            for start in range(0, len(new), WRITE_CHUNK):
                rows = await asyncio.to_thread(explained, new[start : start + WRITE_CHUNK])
                explained_rows.extend(rows)
                if copying is not None:
                    await copying
                copying = asyncio.ensure_future(
                    driver.copy_records_to_table("grant_matches", records=rows, columns=COPY_COLUMNS)
                )
            await copying
    except asyncpg.UniqueViolationError:
        explained_rows.extend(
            row
            for start in range(len(explained_rows), len(new), WRITE_CHUNK)
            for row in explained(new[start : start + WRITE_CHUNK])
        )
        for start in range(0, len(explained_rows), WRITE_CHUNK):
            document = _recordset_document(explained_rows[start : start + WRITE_CHUNK])
            await conn.execute(UPSERT_MATCHES, {"grant_id": grant_id, "rows": document})


def _recordset_document(rows: list[tuple]) -> str:
    """Rows in ``COPY_COLUMNS`` order as the JSON document UPSERT_MATCHES reads (the grant is a parameter)."""
    names = [c for c in COPY_COLUMNS if c != "grant_id"]
    grant_at = COPY_COLUMNS.index("grant_id")
    records = [dict(zip(names, row[:grant_at] + row[grant_at + 1 :], strict=True)) for row in rows]
    return orjson.dumps(records, default=str).decode()  # str: the driver's own UUID type


async def run_grant_fanout(run: RunContext) -> None:
    """The GRANT_FANOUT runner: each grant in its own transaction, progress after each (at most ~100 updates)."""
    grant_ids = [uuid.UUID(g) for g in run.record.parameters.get("grantIds", [])]
    reason = run.record.parameters.get("reason", NEW_GRANT)
    total = len(grant_ids)
    async with run.db.transaction() as conn:
        columns = await load_company_columns(conn)
        thresholds = await StoredThresholds.load(conn)
    stored = 0
    candidates = 0
    step = max(1, total // 100)
    for done, grant_id in enumerate(grant_ids[:-1] if grant_ids else [], start=1):
        async with run.db.transaction() as conn:
            result, columns = await fan_out_grant(conn, grant_id, run.clock.now(), columns, thresholds, reason)
        stored += len(result.stored)
        candidates += result.candidates
        if done % step == 0:
            await run.progress(done, total)
    # The last grant commits with the SUCCEEDED state.
    async with run.db.transaction() as conn:
        if grant_ids:
            result, columns = await fan_out_grant(conn, grant_ids[-1], run.clock.now(), columns, thresholds, reason)
            stored += len(result.stored)
            candidates += result.candidates
        await run.succeed(conn, result_count=stored, total_count=total, processed_count=total)


__all__ = ["FanoutResult", "fan_out_grant", "queue_grant_fanout", "run_grant_fanout"]
