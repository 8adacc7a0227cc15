"""Scoring a company against the grant catalogue, persisting matches, and reading them back.

Flow (docs/matching.md): SQL pre-filters the catalogue (open, country, size) and computes the cosine similarity
in pgvector; a second statement sums peer signals from the company's most similar peers; the pure,
vectorised scoring in :mod:`graphql_app.matching.grants` does the rest.
"""

from __future__ import annotations

import asyncio
import gc
import math
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import Float, case, func, literal, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.db.models import catalogue_version, companies, grant_matches, grants
from graphql_app.matching.grants import (
    CompanyProfile,
    GrantCandidates,
    GrantScoreTable,
    explain_grant_match,
    rank_grant_matches,
    score_grants_for_company,
)

#: How many matches `calculateGrantMatches` stores per company.
STORED_MATCHES_PER_COMPANY = 100
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
    their attributes from this process's copy of the catalogue; score them all (numpy, in a worker thread, so the
    event loop keeps serving)."""
    embedding = company.embedding
    if embedding is not None:
        similarity = (1 - grants.c.embedding.cosine_distance(embedding)).cast(Float)
        similarity = case((grants.c.embedding.is_(None), literal(0.0)), else_=similarity)
    else:
        similarity = literal(0.0, Float)
    candidates_query = select(grants.c.id, similarity.label("cosine")).where(
        access.open_grants(grants, now),
        or_(func.cardinality(grants.c.countries) == 0, grants.c.countries.any(company.country)),
        or_(func.cardinality(grants.c.sizes) == 0, grants.c.sizes.any(company.size)),
    )
    attributes = await catalogue_cache.attributes(conn)
    rows = (await conn.execute(candidates_query)).all()
    if any(row.id not in attributes for row in rows):  # a grant added since the copy was taken
        attributes = await catalogue_cache.attributes(conn, reload=True)
    signals: dict[uuid.UUID, tuple[float, int]] = {}
    if embedding is not None and rows:
        result = await conn.execute(peer_signals_query(company))
        signals = {row.grant_id: (float(row.signal), int(row.saved)) for row in result}
    profile = company_profile(company)

    def score() -> ScoredCatalogue:
        with paused_gc():
            candidates = build_candidates(rows, attributes, signals, now)
        return ScoredCatalogue(company, profile, candidates, score_grants_for_company(profile, candidates))

    return await asyncio.to_thread(score)


SET_COLUMNS = ("countries", "nace_codes", "sizes", "carbon_categories", "certifications", "taxonomy_objectives")


@dataclass(frozen=True)
class GrantAttributes:
    """What scoring reads of a grant besides its similarity, parsed once."""

    countries: frozenset[str]
    nace_codes: tuple[str, ...]
    sizes: frozenset[str]
    carbon_categories: frozenset[str]
    certifications: frozenset[str]
    taxonomy_objectives: frozenset[str]
    is_carbon_focused: bool
    deadline: datetime | None


class CatalogueCache:
    """This process's copy of every grant's scoring attributes, reloaded when the catalogue changes.

    Loading and parsing the attributes of thousands of grants costs more than scoring them; they change only when
    grants are imported or edited. Each statement that changes ``grants`` bumps ``catalogue_version`` (a trigger),
    so one primary-key read tells whether the copy is current (per database: tests use many).
    """

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._attributes: dict[uuid.UUID, GrantAttributes] = {}
        self._lock = asyncio.Lock()
        self.loads = 0

    async def attributes(self, conn: AsyncConnection, *, reload: bool = False) -> dict[uuid.UUID, GrantAttributes]:
        async with self._lock:
            key = tuple((await conn.execute(_CATALOGUE_KEY)).one())
            if reload or key != self._key:
                with paused_gc():
                    self._attributes = _parse_attributes(await conn.execute(_ATTRIBUTES))
                self._key = key
                self.loads += 1
            return self._attributes


_CATALOGUE_KEY = select(func.current_database(), catalogue_version.c.version)
# Set-valued columns travel as comma-joined text (every value is a validated code without commas): plain strings
# skip SQLAlchemy's per-row ARRAY processing, and equal strings are parsed once.
_ATTRIBUTES = select(
    grants.c.id,
    *(func.array_to_string(grants.c[name], ",").label(name) for name in SET_COLUMNS),
    grants.c.is_carbon_focused,
    grants.c.deadline,
)


def _parse_attributes(rows) -> dict[uuid.UUID, GrantAttributes]:
    sets = _ParsedSets(frozenset)
    nace = _ParsedSets(tuple)
    return {
        row.id: GrantAttributes(
            sets[row.countries],
            nace[row.nace_codes],
            sets[row.sizes],
            sets[row.carbon_categories],
            sets[row.certifications],
            sets[row.taxonomy_objectives],
            row.is_carbon_focused,
            row.deadline,
        )
        for row in rows
    }


catalogue_cache = CatalogueCache()


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a burst of short-lived allocations (tens of thousands of rows).

    The rows hold no reference cycles; at 100,000 grants the collector's full passes otherwise cost about as
    much as everything else together (bench/README.md). Collection resumes right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _ParsedSets(dict):
    """Comma-joined text -> frozenset (or tuple, for ordered NACE codes), parsed once per distinct text."""

    def __init__(self, convert: type) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, text_value: str | None) -> frozenset | tuple:
        parsed = self[text_value] = self.convert(text_value.split(",") if text_value else ())
        return parsed


def build_candidates(
    rows: Sequence[Row],
    attributes: dict[uuid.UUID, GrantAttributes],
    signals: dict[uuid.UUID, tuple[float, int]],
    now: datetime,
) -> GrantCandidates:
    """Column-oriented candidates from (id, cosine) rows and the catalogue's attributes."""
    n = len(rows)
    picked = [attributes[row.id] for row in rows]
    peer_signal = np.zeros(n)
    peers_saved = np.zeros(n, dtype=np.int64)
    for i, row in enumerate(rows):
        if row.id in signals:
            peer_signal[i], peers_saved[i] = signals[row.id]
    return GrantCandidates(
        ids=[row.id for row in rows],
        cosine_similarity=np.fromiter((row.cosine for row in rows), dtype=np.float64, count=n),
        countries=[a.countries for a in picked],
        nace_codes=[a.nace_codes for a in picked],
        sizes=[a.sizes for a in picked],
        carbon_categories=[a.carbon_categories for a in picked],
        certifications=[a.certifications for a in picked],
        taxonomy_objectives=[a.taxonomy_objectives for a in picked],
        is_carbon_focused=np.fromiter((a.is_carbon_focused for a in picked), dtype=bool, count=n),
        days_left=np.fromiter((whole_days_left(a.deadline, now) for a in picked), dtype=np.float64, count=n),
        peer_signal=peer_signal,
        peers_saved=peers_saved,
    )


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
    score_breakdown: dict


def computed_match(scored: ScoredCatalogue, index: int) -> ComputedMatch:
    s = scored.scores
    explanation = explain_grant_match(scored.profile, scored.candidates, s, index)
    return ComputedMatch(
        grant_id=scored.candidates.ids[index],
        score=float(s.total[index]),
        semantic_score=float(s.semantic[index]),
        rule_score=float(s.rule[index]),
        carbon_score=float(s.carbon[index]),
        collaborative_score=float(s.collaborative[index]),
        recency_score=float(s.recency[index]),
        match_reasons=list(explanation.reasons),
        score_breakdown=dict(explanation.breakdown),
    )


def listed_match_indices(scored: ScoredCatalogue, min_score: float = 0.0) -> list[int]:
    """Indices of the candidates that are matches, best first: eligible, score > 0 and ≥ ``min_score``."""
    indices = rank_grant_matches(scored.scores, limit=None, min_score=min_score)
    return [int(i) for i in indices if scored.scores.total[int(i)] > 0]


def top_matches(scored: ScoredCatalogue, limit: int | None, min_score: float = 0.0) -> list[ComputedMatch]:
    """The best matches, best first, explained."""
    picked = listed_match_indices(scored, min_score)
    if limit is not None:
        picked = picked[:limit]
    return [computed_match(scored, i) for i in picked]


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
    refreshed = [
        computed_match(scored, index_of[gid])
        for gid in existing - chosen
        if gid in index_of and eligible[index_of[gid]] and scored.scores.total[index_of[gid]] > 0
    ]
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
            "score": m.score,
            "semantic_score": m.semantic_score,
            "rule_score": m.rule_score,
            "carbon_score": m.carbon_score,
            "collaborative_score": m.collaborative_score,
            "recency_score": m.recency_score,
            "match_reasons": m.match_reasons,
            "score_breakdown": m.score_breakdown,
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
                    **{
                        name: excluded[name]
                        for name in (
                            "score",
                            "semantic_score",
                            "rule_score",
                            "carbon_score",
                            "collaborative_score",
                            "recency_score",
                            "match_reasons",
                            "score_breakdown",
                        )
                    },
                    "updated_at": func.now(),
                },
            ),
            rows,
        )
    return top, len(scored.candidates.ids)
