"""Scoring a company against the grant catalogue, persisting matches, and reading them back.

Flow (docs/matching.md): SQL pre-filters the catalogue (open, country, size) and computes the cosine similarity
in pgvector; a second statement sums peer signals from the company's most similar peers; the pure,
vectorised scoring in :mod:`graphql_app.matching.grants` does the rest.
"""

from __future__ import annotations

import asyncio
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Text, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.db.models import companies, grant_matches, grants
from graphql_app.matching.breakdown import render_breakdown
from graphql_app.matching.grants import (
    CompanyProfile,
    GrantCandidates,
    GrantMatchExplanation,
    GrantScoreTable,
    explain_grant_matches,
    rank_grant_matches,
    score_grants_for_company,
)
from graphql_app.services.grant_catalogue import catalogue_cache, paused_gc

#: How many matches `calculateGrantMatches` stores per company.
STORED_MATCHES_PER_COMPANY = 100
#: The columns a new score of a stored match replaces (its interaction flags stay).
SCORE_COLUMNS = (
    "score",
    "semantic_score",
    "rule_score",
    "carbon_score",
    "collaborative_score",
    "recency_score",
    "match_reasons",
    "breakdown_figures",
    "carbon_bonus_applied",
    "days_left_at_scoring",
)
#: How many similar companies of the same tenant feed the collaborative component.
PEER_COUNT = 20


def peer_signals_query(company: Row):
    """Signals on each grant from the company's most similar peers (``access.peer_companies``): the sum of
    saved +1 / dismissed −1 / viewed +0.25, each times the peer's similarity, and how many peers saved it."""
    distance = companies.c.embedding.cosine_distance(company.embedding)
    peers = (
        select(companies.c.id, (1 - distance).label("similarity"))
        .where(access.peer_companies(companies, company), companies.c.embedding.is_not(None))
        # `+ 0` keeps this an exact scan: an HNSW scan filtered by tenant could return fewer than 20 peers.
        .order_by(distance + 0)
        .limit(PEER_COUNT)
        .cte("peers")
    )
    m = grant_matches
    weight = case((m.c.is_saved, 1.0), (m.c.is_dismissed, -1.0), (m.c.is_viewed, 0.25), else_=0.0)
    return (
        select(
            m.c.grant_id,
            func.sum(peers.c.similarity * weight).label("signal"),
            func.count().filter(m.c.is_saved).label("saved"),
        )
        .join(peers, peers.c.id == m.c.company_id)
        .where(or_(m.c.is_saved, m.c.is_dismissed, m.c.is_viewed))
        .group_by(m.c.grant_id)
    )


@dataclass
class ScoredCatalogue:
    """The candidates of one company and their scores, aligned by index."""

    company: Row
    profile: CompanyProfile
    candidates: GrantCandidates
    scores: GrantScoreTable


def company_profile(company: Row) -> CompanyProfile:
    return CompanyProfile(
        country=company.country,
        nace_codes=tuple(company.nace_codes or ()),
        size=company.size,
        carbon_categories=frozenset(company.carbon_categories or ()),
        certifications=frozenset(company.certifications or ()),
        taxonomy_objectives=frozenset(company.taxonomy_objectives or ()),
    )


def whole_days_left(deadline: datetime | None, now: datetime) -> float:
    """Whole days until ``deadline`` (floor); NaN for rolling grants."""
    if deadline is None:
        return math.nan
    return float(math.floor((deadline - now).total_seconds() / 86400))


async def score_catalogue_for_company(conn: AsyncConnection, company: Row, now: datetime) -> ScoredCatalogue:
    """Pre-filter open grants the company is eligible for and take their cosine similarity (SQL, pgvector); take
    their other attributes from this process's copy of the catalogue; score them all (numpy, in a worker thread,
    so the event loop keeps serving)."""
    embedding = company.embedding
    if embedding is not None:
        similarity = (1 - grants.c.embedding.cosine_distance(embedding)).cast(Float)
        similarity = case((grants.c.embedding.is_(None), literal(0.0)), else_=similarity)
    else:
        similarity = literal(0.0, Float)
    # Two arrays in one row: no per-row result objects for thousands of candidates.
    candidates_query = select(
        func.array_agg(grants.c.id.cast(Text)).label("ids"), func.array_agg(similarity).label("cosine")
    ).where(
        access.open_grants(grants, now),
        or_(func.cardinality(grants.c.countries) == 0, grants.c.countries.any(company.country)),
        or_(func.cardinality(grants.c.sizes) == 0, grants.c.sizes.any(company.size)),
    )
    columns = await catalogue_cache.columns(conn)
    found = (await conn.execute(candidates_query)).one()
    grant_ids, cosine = found.ids or [], found.cosine or []
    if not columns.covers(grant_ids):  # a grant added since the copy was taken
        columns = await catalogue_cache.columns(conn, reload=True)
    signals: dict[str, tuple[float, int]] = {}
    if embedding is not None and grant_ids:
        result = await conn.execute(peer_signals_query(company))
        signals = {str(row.grant_id): (float(row.signal), int(row.saved)) for row in result}
    profile = company_profile(company)

    def score() -> ScoredCatalogue:
        with paused_gc():
            candidates = columns.candidates(grant_ids, cosine, signals, now)
            return ScoredCatalogue(company, profile, candidates, score_grants_for_company(profile, candidates))

    return await asyncio.to_thread(score)


@dataclass(frozen=True)
class ComputedMatch:
    """One scored grant for a company, with its explanation (not necessarily stored)."""

    grant_id: uuid.UUID
    score: float
    semantic_score: float
    rule_score: float
    carbon_score: float
    collaborative_score: float
    recency_score: float
    match_reasons: list[str]
    breakdown_figures: list[float]
    carbon_bonus_applied: bool
    days_left_at_scoring: int | None

    @property
    def score_breakdown(self) -> dict[str, Any]:
        """The breakdown as the API's JSON object."""
        return render_breakdown(self.breakdown_figures, self.carbon_bonus_applied, self.days_left_at_scoring)


#: The stored score columns and the score table's components they hold.
SCORED_COMPONENTS = (
    ("score", "total"),
    ("semantic_score", "semantic"),
    ("rule_score", "rule"),
    ("carbon_score", "carbon"),
    ("collaborative_score", "collaborative"),
    ("recency_score", "recency"),
)


def match_score_values(scores: GrantScoreTable, index: int, explanation: GrantMatchExplanation) -> dict[str, Any]:
    """The ``SCORE_COLUMNS`` values of entry ``index`` of a score table (either scoring direction)."""
    return {
        **{column: float(getattr(scores, component)[index]) for column, component in SCORED_COMPONENTS},
        "match_reasons": list(explanation.reasons),
        "breakdown_figures": explanation.figures,
        "carbon_bonus_applied": explanation.carbon_bonus_applied,
        "days_left_at_scoring": explanation.days_left,
    }


def computed_match(scored: ScoredCatalogue, index: int) -> ComputedMatch:
    return computed_matches(scored, [index])[0]


def computed_matches(scored: ScoredCatalogue, indices: Sequence[int]) -> list[ComputedMatch]:
    """Candidates ``indices``, explained (their breakdown figures computed at once)."""
    explanations = explain_grant_matches(scored.profile, scored.candidates, scored.scores, indices)
    return [
        ComputedMatch(grant_id=scored.candidates.ids[i], **match_score_values(scored.scores, i, explanation))
        for i, explanation in zip(indices, explanations, strict=True)
    ]


def listed_match_indices(scored: ScoredCatalogue, min_score: float = 0.0) -> list[int]:
    """Indices of the candidates that are matches, best first: eligible, score > 0 and ≥ ``min_score``."""
    indices = rank_grant_matches(scored.scores, limit=None, min_score=min_score)
    return indices[scored.scores.total[indices] > 0].tolist()


def top_matches(scored: ScoredCatalogue, limit: int | None, min_score: float = 0.0) -> list[ComputedMatch]:
    """The best matches, best first, explained."""
    picked = listed_match_indices(scored, min_score)
    if limit is not None:
        picked = picked[:limit]
    return computed_matches(scored, picked)


async def lock_company(conn: AsyncConnection, company_id: uuid.UUID) -> Row | None:
    """The company row, locked so concurrent recomputations of one company run one after the other."""
    return (await conn.execute(select(companies).where(companies.c.id == company_id).with_for_update())).first()


async def recompute_and_store_matches(
    conn: AsyncConnection, company: Row, now: datetime, limit: int
) -> tuple[list[ComputedMatch], int]:
    """Score the catalogue for ``company`` and store the top ``limit`` matches in the caller's transaction.

    Interaction flags (viewed/saved/dismissed) are kept: the upsert only writes scores. Stored matches of
    grants that are still eligible but fell out of the top get fresh scores too; stored matches of grants
    that closed or now disqualify the company are deleted. Returns the stored top matches and how many
    candidates were scored.
    """
    scored = await score_catalogue_for_company(conn, company, now)
    top = top_matches(scored, limit)
    existing = set(
        (await conn.execute(select(grant_matches.c.grant_id).where(grant_matches.c.company_id == company.id)))
        .scalars()
        .all()
    )
    index_of = {gid: i for i, gid in enumerate(scored.candidates.ids)}
    eligible = scored.scores.eligible
    chosen = {m.grant_id for m in top}
    refreshed = computed_matches(
        scored,
        [
            index_of[gid]
            for gid in existing - chosen
            if gid in index_of and eligible[index_of[gid]] and scored.scores.total[index_of[gid]] > 0
        ],
    )
    stale = existing - chosen - {m.grant_id for m in refreshed}
    if stale:
        await conn.execute(
            grant_matches.delete().where(
                grant_matches.c.company_id == company.id, grant_matches.c.grant_id.in_(list(stale))
            )
        )
    rows = [
        {
            "tenant_id": company.tenant_id,
            "company_id": company.id,
            "grant_id": m.grant_id,
            **{name: getattr(m, name) for name in SCORE_COLUMNS},
        }
        for m in [*top, *refreshed]
    ]
    if rows:
        statement = insert(grant_matches)
        excluded = statement.excluded
        await conn.execute(
            statement.on_conflict_do_update(
                constraint="uq_grant_matches_company_grant",
                set_={
                    **{name: excluded[name] for name in SCORE_COLUMNS},
                    "updated_at": func.now(),
                },
            ),
            rows,
        )
    return top, len(scored.candidates.ids)
