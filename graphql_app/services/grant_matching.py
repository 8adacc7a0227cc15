"""Scoring a company against the grant catalogue, persisting matches, and reading them back.

Flow (docs/matching.md): the process's copy of the catalogue (``grant_catalogue``, embeddings included)
pre-filters it (open, country, size) and gives the cosine similarities; one statement sums peer signals from the
company's most similar peers; the pure, vectorised scoring in :mod:`graphql_app.matching.grants` does the rest.
"""

from __future__ import annotations

import asyncio
import functools
import math
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Text, bindparam, case, func, or_, select, true
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.db.models import companies, grant_matches
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
from graphql_app.services.grant_catalogue import CatalogueColumns, catalogue_cache, paused_gc

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
    embedding = bindparam("peer_embedding", company.embedding, type_=companies.c.embedding.type)
    distance = companies.c.embedding.cosine_distance(embedding)
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
    # Per peer, its flagged matches: a LATERAL subquery, kept one by `OFFSET 0` (else the planner flattens it into
    # a join and may scan every flagged match of the table), so each of the 20 peers is an index scan by company.
    flagged = (
        select(m.c.grant_id, m.c.is_saved, weight.label("weight"))
        .where(m.c.company_id == peers.c.id, or_(m.c.is_saved, m.c.is_dismissed, m.c.is_viewed))
        .offset(0)
        .lateral("flagged")
    )
    per_grant = (
        select(
            flagged.c.grant_id,
            func.sum(peers.c.similarity * flagged.c.weight).label("signal"),
            func.count().filter(flagged.c.is_saved).label("saved"),
        )
        .select_from(peers.join(flagged, true()))
        .group_by(flagged.c.grant_id)
        .subquery("per_grant")
    )
    # Three arrays in one row: no per-row result objects for hundreds of grants.
    return select(
        func.array_agg(per_grant.c.grant_id.cast(Text)).label("grant_ids"),
        func.array_agg(per_grant.c.signal).label("signals"),
        func.array_agg(per_grant.c.saved).label("saved"),
    )


#: The company's values in :func:`peer_signals_query` (``access.peer_companies`` names the first two).
_PEER_PARAMETERS = ("peer_tenant_id", "peer_company_id", "peer_embedding")


@functools.cache
def _peer_signals_statement():
    """:func:`peer_signals_query` built once (building it costs about a millisecond); each execution binds the
    company's values."""
    statement = peer_signals_query(SimpleNamespace(tenant_id=None, id=None, embedding=None))
    missing = set(_PEER_PARAMETERS) - set(statement.compile().params)
    if missing:  # access.peer_companies renamed its parameters: fail loudly rather than bind nothing
        raise RuntimeError(f"peer_signals_query no longer binds {sorted(missing)}")
    return statement


async def peer_signals(conn: AsyncConnection, company: Row) -> dict[str, tuple[float, int]]:
    """:func:`peer_signals_query`'s result: grant id as text → (summed signal, peers that saved it)."""
    values = dict(zip(_PEER_PARAMETERS, (company.tenant_id, company.id, company.embedding), strict=True))
    found = (await conn.execute(_peer_signals_statement(), values)).one()
    return dict(zip(found.grant_ids or (), zip(found.signals or (), found.saved or (), strict=True), strict=True))


@dataclass
class ScoredCatalogue:
    """The candidates of one company and their scores, aligned by index."""

    company: Row
    profile: CompanyProfile
    candidates: GrantCandidates
    scores: GrantScoreTable
    columns: CatalogueColumns | None = None  # the copy of the catalogue the candidates were taken from


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


async def score_catalogue_for_company(
    conn: AsyncConnection,
    company: Row,
    now: datetime,
    *,
    offload_cpu: bool = True,
    catalogue_key: tuple | None = None,
) -> ScoredCatalogue:
    """Pre-filter the open grants the company is eligible for, take their cosine similarity and other attributes
    from this process's copy of the catalogue (current as of ``conn``'s view), the peer signals from SQL, and
    score them all (numpy; in a worker thread unless ``offload_cpu`` is false, so the event loop keeps serving).
    ``catalogue_key``: see ``CatalogueCache.columns``."""
    columns = await catalogue_cache.columns(conn, key=catalogue_key)
    rows = columns.prefiltered(company.country, company.size, now)
    signals: dict[str, tuple[float, int]] = {}
    if company.embedding is not None and len(rows):
        signals = await peer_signals(conn, company)
    profile = company_profile(company)

    def score() -> ScoredCatalogue:
        with paused_gc():
            cosine = columns.cosine(rows, company.embedding, company.country, company.size)
            candidates = columns.candidates(rows, cosine, signals, now)
            return ScoredCatalogue(company, profile, candidates, score_grants_for_company(profile, candidates), columns)

    return await asyncio.to_thread(score) if offload_cpu else score()


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
