"""A large, realistic, seeded dataset for any migrated Matchgraph database, loaded with binary COPY.

What is generated (full scale, the defaults; ``--scale small`` is about 1/50 of it):

- 100,000 grants (``generate_demo_grants``: EU and national funders, ~15% rolling deadlines, ~5% closed) with
  random unit-norm 384-d embeddings;
- 10,000 companies (``generate_demo_companies``: split ~60/40 over the demo tenants ``acme-ventures`` and
  ``nordic-green``) with embeddings;
- 1,000,000 grant matches: 100 per company, each on a distinct *open* grant (deadline NULL or in the future),
  with scores in [0, 1] (the total is the weighted sum of the five components, as in grant scoring), 2–6
  reasons, a score breakdown shaped like the real one and ~20% viewed / 10% saved / 5% dismissed;
- the talent domain: the demo organisations (one per demo tenant, as ``graphql_app.demo.talent_seed`` creates
  them), 1,000 jobs (round-robin over the organisations, variations of their demo jobs), 100,000 members
  (skills, values, seven work-style traits, bio embedding) and 100,000 job matches: 100 distinct members per
  job, belonging components in [0, 1], the probability their weighted sum (default belonging weights), the
  quality tier derived from it, a realistic spread of statuses (PLACED ones have ``placed_at``) and member
  interest.

``load_talent_dataset(conn, TalentSpec(...))`` loads the talent tables alone (``bench.peer`` adds them to its
frontend-scale dataset, whose grant side ``bench.frontend_page`` loads): by default 200 jobs, 5,000 members
and a spread of matches per job (log-normal around 40, at most 160; about 4 in 5 jobs have 20 or more).

Everything is deterministic for a seed: the same seed gives the same ids and values. Deadlines, ``viewed_at``
and ``placed_at`` are relative to the ``now`` passed in, and which grants are open (so which grants get matches)
depends on it too. Deadlines fall at 23:59 of their day, so a timed run crossing midnight would see grants close
under it: ``hold_grants_open`` (used by ``bench.peer`` after either loader) moves every open deadline to at least
two days after the load, at the load's time of day. Each table draws from its own random stream, so e.g.
changing ``--members`` does not change the grants.

How it is fast: every table goes in with asyncpg's binary COPY (``copy_records_to_table``), the big ones as one
COPY each, fed in chunks (500 companies' matches, 20,000 members, 200 jobs' matches) that a worker thread
generates with numpy while the previous chunk is encoded and sent. The HNSW indexes on embeddings are dropped
for the load and rebuilt at the end (``--skip-hnsw`` leaves them dropped); the match tables' secondary indexes,
unique constraints and foreign keys are dropped too and re-created after their COPY (the foreign keys are
validated then, in one pass). Everything up to the HNSW rebuild is one transaction, so a failed load leaves
the database as it was; it holds exclusive locks on the domain tables meanwhile, so load into a database no
server is using. Then the loaded tables are ``VACUUM (ANALYZE)``-ed.

    . .venv/bin/activate
    python -m bench.dataset --temp                                  # full scale into a throw-away server
    python -m bench.dataset --scale small                           # into the embedded ./.matchgraph server
    python -m bench.dataset --database-url postgresql://u@host/db --replace --seed 7
    python -m bench.dataset --grants 20000 --companies 1000 --members 5000 --skip-hnsw --replace

The database is ``--database-url``, else ``$MATCHGRAPH_DATABASE_URL``, else the embedded server under
``./.matchgraph`` (started on demand); it is migrated first. A database whose domain tables hold rows is
refused unless ``--replace`` (which truncates them first).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import numpy as np

from bench.common import (
    GRANTS_HNSW_DDL,
    GRANTS_HNSW_INDEX,
    MATCH_COLUMNS,
    breakdown_figure_rows,
    copy_companies,
    copy_grants,
    markdown_table,
    random_unit_vectors,
    table_sizes,
    temp_embedded_database,
    utc_now,
    vacuum_analyze,
)
from graphql_app.db.setup import to_asyncpg_dsn
from graphql_app.demo.dataset import generate_demo_companies, generate_demo_grants
from graphql_app.demo.talent_dataset import FIRST, LAST, ORGANISATIONS, SKILLS, VALUES
from graphql_app.matching.belonging import DEFAULT_BELONGING_WEIGHTS, QUALITY_TIER_THRESHOLDS
from graphql_app.matching.breakdown import COMPONENTS
from graphql_app.matching.grants import CARBON_FOCUS_MULTIPLIER, COMPONENT_WEIGHTS, HIGH_SEMANTIC_SIMILARITY
from graphql_app.matching.traits import WORK_STYLE_TRAITS

try:  # asyncpg's own UUID: ~4x cheaper to build and to encode than uuid.UUID, and an instance of it
    from asyncpg.pgproto.pgproto import UUID as _FastUUID
except ImportError:  # pragma: no cover - asyncpg internals moved
    _FastUUID = None

__all__ = ["DatasetNotEmptyError", "DatasetSpec", "TalentSpec", "load_dataset", "load_talent_dataset", "main"]

#: Tables the loader writes, in load order.
LOADED_TABLES = ("grants", "companies", "grant_matches", "organisations", "jobs", "members", "job_matches")
#: Emptied by ``replace=True`` (with CASCADE, so anything referencing them goes too).
DOMAIN_TABLES = (*LOADED_TABLES, "placement_outcomes", "placement_feedback")
#: HNSW indexes the migrations create; rebuilt at the end even if a previous ``--skip-hnsw`` load left them out.
KNOWN_HNSW_INDEXES = {
    GRANTS_HNSW_INDEX: GRANTS_HNSW_DDL,
    "ix_companies_embedding_hnsw": (
        "CREATE INDEX ix_companies_embedding_hnsw ON companies USING hnsw (embedding vector_cosine_ops)"
    ),
}
#: Rows generated (and sent) per step of the streamed tables.
COMPANIES_PER_CHUNK = 500
MEMBERS_PER_CHUNK = 20_000
JOBS_PER_CHUNK = 200

# Stream numbers: each table has its own random stream, derived from the seed.
_GRANTS, _COMPANIES, _GRANT_MATCHES, _TALENT, _MEMBERS, _JOB_MATCHES, _JOB_MATCH_COUNTS = range(1, 8)


class DatasetNotEmptyError(RuntimeError):
    """The target database already holds domain rows and ``replace`` was not given."""


@dataclass(frozen=True)
class DatasetSpec:
    """How much to generate, and the seed (the defaults are the full scale)."""

    grants: int = 100_000
    companies: int = 10_000
    matches_per_company: int = 100
    jobs: int = 1_000
    members: int = 100_000
    job_matches_per_job: int = 100
    seed: int = 7

    @classmethod
    def full(cls, seed: int = 7) -> DatasetSpec:
        """100k grants, 10k companies, 1M grant matches, 1k jobs, 100k members, 100k job matches."""
        return cls(seed=seed)

    @classmethod
    def small(cls, seed: int = 7) -> DatasetSpec:
        """2,000 grants, 100 companies × 20 matches, 20 jobs, 500 members, 20 matches per job."""
        return cls(
            grants=2_000,
            companies=100,
            matches_per_company=20,
            jobs=20,
            members=500,
            job_matches_per_job=20,
            seed=seed,
        )

    def check(self) -> None:
        """Raise ValueError for an impossible spec (what needs the grants' deadlines is checked at load)."""
        for name, value in asdict(self).items():
            if name != "seed" and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.job_matches_per_job > self.members:
            raise ValueError(f"job_matches_per_job ({self.job_matches_per_job}) > members ({self.members})")
        if self.companies and self.matches_per_company > self.grants:
            raise ValueError(f"matches_per_company ({self.matches_per_company}) > grants ({self.grants})")


# --- small helpers -------------------------------------------------------------------------------------------


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, stream])


def fast_uuids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    """``n`` deterministic version-4 UUIDs, built from one block of random bytes (cheap at millions)."""
    raw = np.frombuffer(rng.bytes(16 * n), dtype=np.uint8).reshape(n, 16).copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    data = raw.tobytes()
    make = _FastUUID if _FastUUID is not None else (lambda b: uuid.UUID(bytes=b))
    return [make(data[i : i + 16]) for i in range(0, 16 * n, 16)]


def _random_subsets(rng: np.random.Generator, n: int, pool: int, low: int, high: int) -> list[list[int]]:
    """``n`` sorted subsets of ``range(pool)``, each of a size drawn uniformly from ``[low, high]``."""
    order = np.argsort(rng.random((n, pool)), axis=1)
    sizes = rng.integers(low, high + 1, size=n)
    return [sorted(row[:k]) for row, k in zip(order.tolist(), sizes.tolist(), strict=True)]


async def connect(url: str) -> asyncpg.Connection:
    """An asyncpg connection to ``url`` (SQLAlchemy or plain form) with pgvector's codec registered."""
    from pgvector.asyncpg import register_vector

    conn = await asyncpg.connect(to_asyncpg_dsn(url))
    await register_vector(conn)
    return conn


class _Timer:
    """Accumulates seconds per step, in the order steps first ran."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, step: str, start: float) -> None:
        self.seconds[step] = self.seconds.get(step, 0.0) + time.perf_counter() - start


# --- grant matches -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CompanyFacts:
    """What a grant match's reasons mention about its company (from the demo company)."""

    country: str
    size: str
    nace_codes: tuple[str, ...]
    carbon_reasons: tuple[str, ...]  # its carbon categories, recognised certifications, taxonomy objectives

    @classmethod
    def of(cls, company: Any) -> CompanyFacts:
        carbon = (
            [f"Carbon category match: {c}" for c in sorted(company.carbon_categories)]
            + [f"{c} certification recognized" for c in sorted(company.certifications)]
            + [f"EU taxonomy objective: {t}" for t in sorted(company.taxonomy_objectives)]
        )
        return cls(company.country, company.size, tuple(company.nace_codes), tuple(carbon[:4]))


def _deadline_reason(days: int | None) -> str:
    if days is None:
        return "Rolling deadline"
    if days == 0:
        return "Deadline today"
    return f"Deadline in {days} day" + ("" if days == 1 else "s")


#: Component scores are multiples of 1/SCORE_GRID.
SCORE_GRID = 10_000
_WEIGHTS = tuple(COMPONENT_WEIGHTS[k] for k in COMPONENTS)


def grant_match_records(
    rng: np.random.Generator,
    companies: Sequence[tuple[uuid.UUID, str]],
    facts: Sequence[CompanyFacts],
    grant_ids: np.ndarray,
    open_indices: np.ndarray,
    days_left: Sequence[int | None],
    per_company: int,
    now: datetime,
) -> Iterator[list[tuple]]:
    """``grant_matches`` rows, one list per ``COMPANIES_PER_CHUNK`` companies (numpy per chunk, not per row).

    ``grant_ids`` is an object array of every grant's id, ``days_left`` each grant's days to its deadline (None:
    rolling); each company gets ``per_company`` distinct grants drawn from ``open_indices``. Scores are
    multiples of 1/``SCORE_GRID``; the total is the weighted sum (× the carbon bonus for ~30%), capped at 1.
    Reasons are worded as ``explain_grant_match`` words them, about the company's own country, size, NACE
    codes and carbon profile, the grant's deadline and the scores.
    """
    deadline_reasons = [_deadline_reason(d) for d in days_left]
    viewed_at_pool = [now - timedelta(minutes=int(m)) for m in rng.integers(1, 60 * 24 * 30, size=1024)]
    saved_by = [""] + [f"Saved by {k} similar compan" + ("y" if k == 1 else "ies") for k in range(1, 6)]
    bonus_reason = f"Carbon-focused grant: {CARBON_FOCUS_MULTIPLIER}× bonus applied"
    weights = np.array(_WEIGHTS)
    for start in range(0, len(companies), COMPANIES_PER_CHUNK):
        chunk = companies[start : start + COMPANIES_PER_CHUNK]
        chunk_facts = facts[start : start + COMPANIES_PER_CHUNK]
        n = len(chunk) * per_company
        picks = np.concatenate(
            [open_indices[rng.choice(len(open_indices), size=per_company, replace=False)] for _ in chunk]
        )
        ids = fast_uuids(rng, n)
        # Components: semantic ≈ cosines of real text, rule mostly high (pre-filtered), carbon spread out,
        # collaborative mostly 0, recency from the deadline spread.
        raw = np.column_stack(
            [
                rng.beta(4, 5, n),
                rng.beta(5, 2, n),
                rng.beta(1.5, 2.5, n),
                np.where(rng.random(n) < 0.15, rng.random(n), 0.0),
                rng.random(n),
            ]
        )
        grid = np.rint(raw * SCORE_GRID).astype(np.int64)
        comps = grid / SCORE_GRID
        weighted = np.round(comps @ weights, 6)
        bonus = rng.random(n) < 0.3
        total = np.round(np.clip(np.where(bonus, weighted * CARBON_FOCUS_MULTIPLIER, weighted), 0.0, 1.0), 6)
        saved = rng.random(n) < 0.10
        dismissed = (rng.random(n) < 0.05) & ~saved
        viewed = (rng.random(n) < 0.20) | saved | dismissed
        viewed_idx = rng.integers(0, len(viewed_at_pool), size=n).tolist()
        # Which optional reasons each match has (the grant names the country, shares a NACE code, ...).
        flags = (rng.random((n, 4)) < np.array([0.75, 0.6, 0.6, 0.5])).tolist()
        high_semantic = (comps[:, 0] >= HIGH_SEMANTIC_SIMILARITY).tolist()
        peers = np.ceil(comps[:, 3] * 5).astype(np.int64).tolist()

        picks_l = picks.tolist()
        total_l, bonus_l, viewed_l = total.tolist(), bonus.tolist(), viewed.tolist()
        # Sub-scores: country and size from the eligibility rules, the rest on the grid.
        sub_scores = np.column_stack(
            [
                np.where(rng.random(n) < 0.75, 1.0, 0.8),
                rng.integers(0, SCORE_GRID + 1, n) / SCORE_GRID,
                np.where(rng.random(n) < 0.6, 1.0, 0.8),
                rng.integers(0, SCORE_GRID + 1, (n, 3)) / SCORE_GRID,
            ]
        )
        figures = breakdown_figure_rows(comps, sub_scores, total, weighted)
        days_col = [days_left[g] for g in picks_l]
        reasons = []
        for i, (country, nace, size, carbon) in enumerate(flags):
            f = chunk_facts[i // per_company]
            row = [f"Country match: {f.country}" if country else "Open to all countries"]
            if nace and f.nace_codes:
                row.append(f"NACE code overlap: {f.nace_codes[0]}")
            if size:
                row.append(f"Size eligible: {f.size}")
            if carbon:
                row += f.carbon_reasons
            if high_semantic[i]:
                row.append("High semantic similarity")
            row.append(deadline_reasons[picks_l[i]])
            if peers[i]:
                row.append(saved_by[peers[i]])
            if bonus_l[i]:
                row.append(bonus_reason)
            reasons.append(row)
        viewed_at = [viewed_at_pool[j] if v else None for j, v in zip(viewed_idx, viewed_l, strict=True)]
        company_col = [company_id for company_id, _ in chunk for _ in range(per_company)]
        tenant_col = [tenant for _, tenant in chunk for _ in range(per_company)]
        yield list(
            zip(
                ids,
                tenant_col,
                company_col,
                grant_ids[picks].tolist(),
                total_l,
                *comps.T.tolist(),
                reasons,
                figures,
                bonus_l,
                days_col,
                viewed_l,
                saved.tolist(),
                dismissed.tolist(),
                viewed_at,
                strict=True,
            )
        )


# --- talent domain -------------------------------------------------------------------------------------------

ORGANISATION_COLUMNS = (
    "id",
    "tenant_id",
    "name",
    "values",
    "culture_statement",
    "culture_embedding",
    "team_trait_norms",
    "team_skills",
)
JOB_COLUMNS = (
    "id",
    "tenant_id",
    "organisation_id",
    "title",
    "description",
    "required_skills",
    "desired_traits",
    "is_open",
)
MEMBER_COLUMNS = (
    "id",
    "display_name",
    "headline",
    "bio",
    "skills",
    "values",
    "traits",
    "profile_completeness",
    "bio_embedding",
)
JOB_MATCH_COLUMNS = (
    "id",
    "tenant_id",
    "organisation_id",
    "job_id",
    "member_id",
    "authenticity",
    "acceptance",
    "complementarity",
    "belonging_probability",
    "quality_tier",
    "status",
    "member_interest",
    "model_version",
    "belonging_weights",
    "placed_at",
)
_LOCATIONS = ("Berlin", "Copenhagen", "Amsterdam", "Stockholm", "Lyon", "Remote", "Oslo", "Vienna", "Helsinki")
_LEVELS = ("", "Junior ", "Senior ", "Lead ")
#: Job-match statuses (schema.enums.JobMatchStatus) and how often each occurs.
_STATUS_WEIGHTS = {
    "PENDING_REVIEW": 0.78,
    "ORG_INTERESTED": 0.07,
    "INTERVIEWING": 0.04,
    "ORG_DECLINED": 0.05,
    "OFFERED": 0.015,
    "PLACED": 0.005,
    "WITHDRAWN": 0.02,
}
_INTEREST_WEIGHTS = {None: 0.85, "INTERESTED": 0.10, "NOT_INTERESTED": 0.05}


def organisation_records(rng: np.random.Generator) -> list[tuple]:
    """The demo organisations (``ORGANISATIONS``), as ``talent_seed`` creates them, with random culture vectors."""
    ids = fast_uuids(rng, len(ORGANISATIONS))
    vectors = random_unit_vectors(rng, len(ORGANISATIONS))
    return [
        (
            ids[i],
            tenant,
            spec["name"],
            list(spec["values"]),
            spec["culture_statement"],
            vectors[i],
            json.dumps({t: {"mean": m, "tolerance": tol} for t, (m, tol) in spec["team_trait_norms"].items()}),
            list(spec["team_skills"]),
        )
        for i, (tenant, spec) in enumerate(ORGANISATIONS.items())
    ]


def job_records(rng: np.random.Generator, organisations: Sequence[tuple], count: int) -> list[tuple]:
    """``count`` jobs, round-robin over ``organisations``: their demo jobs with a level, a place and jitter."""
    ids = fast_uuids(rng, count)
    rows = []
    for i in range(count):
        org_id, tenant, org_name = organisations[i % len(organisations)][:3]
        templates = ORGANISATIONS[tenant]["jobs"]
        base, skills, traits = templates[int(rng.integers(len(templates)))]
        level = _LEVELS[int(rng.integers(len(_LEVELS)))]
        title = f"{level}{base.removeprefix('Senior ')} ({_LOCATIONS[int(rng.integers(len(_LOCATIONS)))]})"
        skills = dict(skills)
        if rng.random() < 0.5:
            extra = SKILLS[int(rng.integers(len(SKILLS)))]
            skills.setdefault(extra, int(rng.integers(1, 3)))
        traits = {t: round(float(np.clip(v + rng.normal(0, 0.08), 0.0, 1.0)), 2) for t, v in traits.items()}
        rows.append(
            (
                ids[i],
                tenant,
                org_id,
                title,
                f"{title} at {org_name}.",
                json.dumps(skills),
                json.dumps(traits),
                bool(rng.random() < 0.9),
            )
        )
    return rows


def member_records(rng: np.random.Generator, count: int) -> Iterator[list[tuple]]:
    """``count`` members in chunks of ``MEMBERS_PER_CHUNK``: skills, values, 7 of the 10 traits, a bio vector."""
    n_traits = len(WORK_STYLE_TRAITS)
    for start in range(0, count, MEMBERS_PER_CHUNK):
        n = min(MEMBERS_PER_CHUNK, count - start)
        ids = fast_uuids(rng, n)
        vectors = random_unit_vectors(rng, n)
        skills = _random_subsets(rng, n, len(SKILLS), 2, 6)
        values = _random_subsets(rng, n, len(VALUES), 2, 4)
        trait_order = np.argsort(rng.random((n, n_traits)), axis=1)[:, :7].tolist()
        trait_values = np.clip(rng.normal(0.65, 0.18, size=(n, 7)), 0.0, 1.0).round(2).tolist()
        completeness = rng.uniform(0.4, 1.0, size=n).round(2).tolist()
        first = rng.integers(0, len(FIRST), size=n).tolist()
        last = rng.integers(0, len(LAST), size=n).tolist()
        rows = []
        for i in range(n):
            member_skills = [SKILLS[j] for j in skills[i]]
            member_values = [VALUES[j] for j in values[i]]
            traits = dict(zip((WORK_STYLE_TRAITS[j] for j in trait_order[i]), trait_values[i], strict=True))
            style = "calm and collaborative" if traits.get("collaborative_orientation", 0.5) > 0.7 else "independent"
            rows.append(
                (
                    ids[i],
                    f"{FIRST[first[i]]} {LAST[last[i]]}",
                    f"{member_skills[0].title()} and {member_skills[-1]} specialist",
                    f"I am {style}, care about {member_values[0]} and {member_values[-1]}, and have worked with "
                    f"{', '.join(member_skills)} on climate-related projects.",
                    member_skills,
                    member_values,
                    json.dumps(traits),
                    completeness[i],
                    vectors[i],
                )
            )
        yield rows


def _tiers(probability: np.ndarray) -> np.ndarray:
    """``quality_tier`` of each probability (same thresholds as ``graphql_app.matching.belonging``)."""
    tiers = np.full(probability.shape, "DEVELOPING", dtype=object)
    for name, threshold in reversed(QUALITY_TIER_THRESHOLDS):
        tiers[probability >= threshold - 1e-9] = name
    return tiers


def _draw(rng: np.random.Generator, weights: dict, n: int) -> list:
    keys = list(weights)
    p = np.array(list(weights.values()), dtype=np.float64)
    return [keys[i] for i in rng.choice(len(keys), size=n, p=p / p.sum()).tolist()]


def job_match_counts(rng: np.random.Generator, jobs: int, median: int, high: int) -> list[int]:
    """Matches per job with a realistic spread: log-normal around ``median`` (σ 0.8, so about 4 in 5 jobs have
    at least half the median and a few have several times it), at least 1, at most ``high``."""
    counts = np.rint(rng.lognormal(np.log(max(median, 1)), 0.8, size=jobs))
    return np.clip(counts, 1, high).astype(np.int64).tolist()


def job_match_records(
    rng: np.random.Generator,
    jobs: Sequence[tuple],
    member_ids: np.ndarray,
    per_job: int | Sequence[int],
    now: datetime,
) -> Iterator[list[tuple]]:
    """``job_matches`` rows, ``per_job`` distinct members per job (one count for all, or one per job), in
    chunks of ``JOBS_PER_CHUNK`` jobs."""
    weights = np.array(DEFAULT_BELONGING_WEIGHTS)
    weights_json = json.dumps(list(DEFAULT_BELONGING_WEIGHTS))
    counts = [per_job] * len(jobs) if isinstance(per_job, int) else [int(k) for k in per_job]
    if len(counts) != len(jobs):
        raise ValueError(f"{len(counts)} match counts for {len(jobs)} jobs")
    for start in range(0, len(jobs), JOBS_PER_CHUNK):
        chunk = jobs[start : start + JOBS_PER_CHUNK]
        sizes = counts[start : start + JOBS_PER_CHUNK]
        n = sum(sizes)
        picks = np.concatenate([rng.choice(len(member_ids), size=k, replace=False) for k in sizes])
        job_of = np.repeat(np.arange(len(chunk)), sizes).tolist()
        ids = fast_uuids(rng, n)
        comps = np.column_stack([rng.beta(6, 3, n), rng.beta(6, 2.5, n), rng.beta(4, 2.5, n)]).round(6)
        probability = np.round(np.clip(comps @ weights, 0.0, 1.0), 6)
        tiers = _tiers(probability).tolist()
        statuses = _draw(rng, _STATUS_WEIGHTS, n)
        interests = _draw(rng, _INTEREST_WEIGHTS, n)
        placed_days = rng.integers(10, 400, size=n).tolist()
        member_col = member_ids[picks].tolist()
        comps_l, probability_l = comps.tolist(), probability.tolist()
        rows = []
        for i in range(n):
            job_id, tenant, org_id = chunk[job_of[i]][:3]
            a, b, c = comps_l[i]
            status = statuses[i]
            rows.append(
                (
                    ids[i],
                    tenant,
                    org_id,
                    job_id,
                    member_col[i],
                    a,
                    b,
                    c,
                    probability_l[i],
                    tiers[i],
                    status,
                    interests[i],
                    0,
                    weights_json,
                    now - timedelta(days=placed_days[i]) if status == "PLACED" else None,
                )
            )
        yield rows


# --- loading -------------------------------------------------------------------------------------------------


async def _non_empty_tables(conn: asyncpg.Connection) -> list[str]:
    return [t for t in DOMAIN_TABLES if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]


async def _drop_hnsw_indexes(conn: asyncpg.Connection) -> dict[str, str]:
    """Drop every HNSW index on the loaded tables; returns name → definition (plus known ones already missing)."""
    found = await conn.fetch(
        """
        SELECT i.relname AS name, pg_get_indexdef(i.oid) AS ddl
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        JOIN pg_am am ON am.oid = i.relam
        WHERE am.amname = 'hnsw' AND t.relname = ANY($1::text[]) AND t.relnamespace = current_schema()::regnamespace
        ORDER BY t.relname, i.relname
        """,
        list(LOADED_TABLES),
    )
    definitions = dict(KNOWN_HNSW_INDEXES)
    definitions.update({r["name"]: r["ddl"] for r in found})
    for name in definitions:
        await conn.execute(f'DROP INDEX IF EXISTS "{name}"')
    return definitions


async def _build_index(conn: asyncpg.Connection, ddl: str) -> float:
    start = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '1GB'")
    try:
        await conn.execute(ddl)
    finally:
        await conn.execute("RESET maintenance_work_mem")
    return time.perf_counter() - start


async def _copy_chunks(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], chunks: Iterator[list[tuple]], timer: _Timer
) -> int:
    """One COPY of every chunk. Chunks are generated in a worker thread, the next one while the current one is
    encoded and sent, so Python's generation overlaps the server's work (``{table}_generate_s`` is part of the
    ``{table}_copy_s`` wall time, not added to it)."""
    count = 0
    loop = asyncio.get_running_loop()

    def produce() -> list[tuple] | None:
        t = time.perf_counter()
        rows = next(chunks, None)
        timer.add(f"{table}_generate_s", t)
        return rows

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"generate-{table}") as pool:

        async def records() -> AsyncIterator[tuple]:
            nonlocal count
            pending = loop.run_in_executor(pool, produce)
            while (rows := await pending) is not None:
                pending = loop.run_in_executor(pool, produce)
                count += len(rows)
                for row in rows:
                    yield row

        start = time.perf_counter()
        await conn.copy_records_to_table(table, records=records(), columns=columns)
        timer.add(f"{table}_copy_s", start)
    return count


async def _drop_secondary(conn: asyncpg.Connection, table: str) -> list[str]:
    """Drop ``table``'s foreign keys, unique constraints and non-HNSW secondary indexes (a bulk load is several
    times faster without them); returns the statements that restore them (indexes first)."""
    constraints = await conn.fetch(
        "SELECT conname, pg_get_constraintdef(oid) AS ddl FROM pg_constraint "
        "WHERE conrelid = $1::regclass AND contype IN ('f', 'u') ORDER BY conname",
        table,
    )
    indexes = await conn.fetch(
        """
        SELECT i.relname AS name, pg_get_indexdef(i.oid) AS ddl
        FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_am am ON am.oid = i.relam
        WHERE x.indrelid = $1::regclass AND NOT x.indisprimary AND am.amname <> 'hnsw'
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)
        ORDER BY i.relname
        """,
        table,
    )
    for c in constraints:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{c["conname"]}"')
    for i in indexes:
        await conn.execute(f'DROP INDEX "{i["name"]}"')
    return [i["ddl"] for i in indexes] + [
        f'ALTER TABLE {table} ADD CONSTRAINT "{c["conname"]}" {c["ddl"]}' for c in constraints
    ]


async def _load_without_constraints(
    conn: asyncpg.Connection, table: str, columns: Sequence[str], chunks: Iterator[list[tuple]], timer: _Timer
) -> None:
    """``_copy_chunks`` with the table's secondary indexes and constraints dropped, then re-created (and the
    foreign keys validated) in ``{table}_constraints_s``. Must run inside a transaction."""
    t = time.perf_counter()
    restore = await _drop_secondary(conn, table)
    timer.add(f"{table}_constraints_s", t)
    await _copy_chunks(conn, table, columns, chunks, timer)
    t = time.perf_counter()
    await conn.execute("SET LOCAL maintenance_work_mem = '512MB'")
    for statement in restore:
        await conn.execute(statement)
    timer.add(f"{table}_constraints_s", t)


async def _copy_talent(
    conn: asyncpg.Connection,
    seed: int,
    job_count: int,
    member_count: int,
    per_job: int,
    now: datetime,
    timer: _Timer,
    *,
    spread: bool,
) -> list[tuple]:
    """Organisations and jobs (small), members and job matches (streamed), each from its own stream of
    ``seed``: ``per_job`` matches for every job, or with ``spread`` a count per job from ``job_match_counts``
    around ``per_job`` (at most 4× it and at most the members). Must run inside a transaction. Returns the jobs'
    rows (``id``, ``tenant_id``, ``organisation_id``, ...)."""
    t = time.perf_counter()
    talent_rng = _rng(seed, _TALENT)
    orgs = organisation_records(talent_rng)
    await conn.copy_records_to_table("organisations", records=orgs, columns=ORGANISATION_COLUMNS)
    jobs = job_records(talent_rng, orgs, job_count)
    await conn.copy_records_to_table("jobs", records=jobs, columns=JOB_COLUMNS)
    timer.add("organisations_and_jobs_s", t)
    member_ids: list[uuid.UUID] = []

    def members_chunks() -> Iterator[list[tuple]]:
        for rows in member_records(_rng(seed, _MEMBERS), member_count):
            member_ids.extend(row[0] for row in rows)
            yield rows

    await _copy_chunks(conn, "members", MEMBER_COLUMNS, members_chunks(), timer)
    member_arr = np.empty(len(member_ids), dtype=object)
    member_arr[:] = member_ids
    if per_job and jobs:
        counts: int | list[int] = per_job
        if spread:
            counts = job_match_counts(_rng(seed, _JOB_MATCH_COUNTS), len(jobs), per_job, min(4 * per_job, member_count))
        chunks = job_match_records(_rng(seed, _JOB_MATCHES), jobs, member_arr, counts, now)
        await _load_without_constraints(conn, "job_matches", JOB_MATCH_COLUMNS, chunks, timer)
    return jobs


@dataclass(frozen=True)
class TalentSpec:
    """The talent tables alone (for a database whose grant side another loader fills): the demo organisations,
    ``jobs`` jobs, ``members`` members, and job matches with a spread per job around
    ``median_matches_per_job`` (see ``job_match_counts``; at most 4× it)."""

    jobs: int = 200
    members: int = 5_000
    median_matches_per_job: int = 40
    seed: int = 7

    def check(self) -> None:
        for name, value in asdict(self).items():
            if name != "seed" and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
        if self.jobs and self.median_matches_per_job and not self.members:
            raise ValueError("job matches need members")


async def load_talent_dataset(conn: asyncpg.Connection, spec: TalentSpec, *, now: datetime) -> dict[str, Any]:
    """COPY ``spec``'s organisations, jobs, members and job matches into the migrated database behind ``conn``,
    in one transaction, then ``VACUUM (ANALYZE)`` them. Deterministic for ``spec.seed`` (``placed_at`` relative
    to ``now``). The talent tables must be empty (:class:`DatasetNotEmptyError` otherwise); the grant side is
    not touched. Returns ``counts``, ``matches_per_job`` (min / median / max), ``timings_s``, ``table_sizes``
    and ``jobs`` as ``(job_id, tenant_id)``."""
    spec.check()
    tables = ("organisations", "jobs", "members", "job_matches")
    timer = _Timer()
    start = time.perf_counter()
    non_empty = [t for t in tables if await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {t})")]
    if non_empty:
        raise DatasetNotEmptyError(f"the database already holds rows in {', '.join(non_empty)}")
    async with conn.transaction():
        jobs = await _copy_talent(
            conn, spec.seed, spec.jobs, spec.members, spec.median_matches_per_job, now, timer, spread=True
        )
    t = time.perf_counter()
    await vacuum_analyze(conn, *tables)
    timer.add("vacuum_analyze_s", t)
    per_job = [r[0] for r in await conn.fetch("SELECT count(*) FROM job_matches GROUP BY job_id ORDER BY 1")]
    timer.seconds["total_s"] = time.perf_counter() - start
    return {
        "spec": asdict(spec),
        "counts": {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in tables},
        "matches_per_job": {
            "min": per_job[0] if per_job else 0,
            "median": float(np.median(per_job)) if per_job else 0.0,
            "max": per_job[-1] if per_job else 0,
        },
        "timings_s": {k: round(v, 3) for k, v in timer.seconds.items()},
        "table_sizes": await table_sizes(conn, *tables),
        "jobs": [(str(row[0]), row[1]) for row in jobs],
    }


async def load_dataset(
    conn: asyncpg.Connection,
    spec: DatasetSpec,
    *,
    now: datetime,
    rebuild_hnsw: bool = True,
    replace: bool = False,
) -> dict[str, Any]:
    """Generate ``spec`` and COPY it into the migrated database behind ``conn`` (pgvector codec registered).

    Deterministic for ``spec.seed``: the same ids and values every time; deadlines, ``viewed_at`` and
    ``placed_at`` are relative to ``now`` (so is which grants count as open). Raises
    :class:`DatasetNotEmptyError` if a domain table holds rows, unless ``replace`` (then they are truncated,
    CASCADE, in the load's transaction). HNSW indexes are dropped for the load and rebuilt after it unless
    ``rebuild_hnsw`` is false (they then stay dropped). Returns ``counts`` per table, ``timings_s`` per step,
    ``table_sizes``, ``hnsw_indexes`` (name → ``"rebuilt"``/``"dropped"``), ``open_grants``, and the ids for
    benches: ``companies`` as ``(company_id, tenant_id)`` and ``jobs`` as ``(job_id, tenant_id)``.
    """
    spec.check()
    timer = _Timer()
    total_start = time.perf_counter()
    non_empty = await _non_empty_tables(conn)
    if non_empty and not replace:
        raise DatasetNotEmptyError(
            f"the database already holds rows in {', '.join(non_empty)}; pass replace=True (--replace) to "
            "truncate the domain tables first"
        )

    async with conn.transaction():
        if non_empty:
            t = time.perf_counter()
            await conn.execute(f"TRUNCATE {', '.join(DOMAIN_TABLES)} CASCADE")
            timer.add("truncate_s", t)
        hnsw = await _drop_hnsw_indexes(conn)

        # Grants and companies: the demo generators, COPY helpers from bench.common.
        t = time.perf_counter()
        demo_grants = generate_demo_grants(seed=spec.seed, count=spec.grants)
        demo_companies = generate_demo_companies(seed=spec.seed, count=spec.companies)
        timer.add("generate_grants_and_companies_s", t)
        t = time.perf_counter()
        loaded = await copy_grants(conn, demo_grants, now, _rng(spec.seed, _GRANTS))
        timer.add("grants_copy_s", t)
        open_count = len(loaded.open_indices)
        if spec.companies and spec.matches_per_company > open_count:
            raise ValueError(
                f"matches_per_company ({spec.matches_per_company}) > open grants ({open_count} of {spec.grants})"
            )
        t = time.perf_counter()
        companies = await copy_companies(conn, demo_companies, _rng(spec.seed, _COMPANIES))
        timer.add("companies_copy_s", t)
        facts = [CompanyFacts.of(c) for c in demo_companies]
        del demo_companies

        days_left = [None if d is None else (d - now).days for d in loaded.deadlines]
        grant_ids = np.empty(len(loaded.ids), dtype=object)
        grant_ids[:] = loaded.ids
        del demo_grants
        chunks = grant_match_records(
            _rng(spec.seed, _GRANT_MATCHES),
            companies,
            facts,
            grant_ids,
            loaded.open_indices,
            days_left,
            spec.matches_per_company,
            now,
        )
        await _load_without_constraints(conn, "grant_matches", MATCH_COLUMNS, chunks, timer)

        jobs = await _copy_talent(
            conn, spec.seed, spec.jobs, spec.members, spec.job_matches_per_job, now, timer, spread=False
        )

    status: dict[str, str] = {}
    for name, ddl in hnsw.items():
        if rebuild_hnsw:
            timer.seconds[f"hnsw_{name}_s"] = await _build_index(conn, ddl)
            status[name] = "rebuilt"
        else:
            status[name] = "dropped"
    t = time.perf_counter()
    await vacuum_analyze(conn, *LOADED_TABLES)
    timer.add("vacuum_analyze_s", t)
    counts = {table: await conn.fetchval(f"SELECT count(*) FROM {table}") for table in LOADED_TABLES}
    sizes = await table_sizes(conn, *LOADED_TABLES)
    timer.seconds["total_s"] = time.perf_counter() - total_start
    return {
        "spec": asdict(spec),
        "now": now.isoformat(),
        "counts": counts,
        "open_grants": open_count,
        "timings_s": {k: round(v, 3) for k, v in timer.seconds.items()},
        "table_sizes": sizes,
        "hnsw_indexes": status,
        "companies": [(str(cid), tenant) for cid, tenant in companies],
        "jobs": [(str(row[0]), row[1]) for row in jobs],
    }


# --- deadlines that hold for a timed run ----------------------------------------------------------------------

#: How many days ``hold_grants_open`` puts the earliest open deadline after the load.
HOLD_DAYS = 2
#: How long after the load a run may go on with the guarantees of ``hold_grants_open`` (whole days left are
#: constant for a day; the earliest deadline is then still ``HOLD_DAYS - 1`` days away).
HOLD_STABLE = timedelta(days=1)


async def hold_grants_open(conn: asyncpg.Connection, loaded_at: datetime, *, days: int = HOLD_DAYS) -> dict[str, Any]:
    """Make which grants are open, and their whole days left, constant for a day after ``loaded_at``.

    Why: the loaders put a deadline at 23:59 of day N after their ``now``. A timed run that crosses midnight
    would see grants close while it measures (Matchgraph drops their matches from its pages, PostGraphile does
    not: the answers change silently), and at 23:59 every day each grant's whole days left fall by one (live
    scores and "Deadline in N days" change).

    What: take ``loaded_at`` before the load (every grant the loader saw open then has a deadline at or after
    it). Every deadline at or after ``loaded_at`` becomes ``loaded_at + (whole days it had left + days) × 24 h``:

    - the earliest deadline of an open grant is ``loaded_at + days`` days; a run that ends before
      ``stable_until`` (``loaded_at`` + ``HOLD_STABLE``, one day; the caller checks) ends at least
      ``days - 1`` days (one with the default 2) before any grant closes;
    - every open deadline has ``loaded_at``'s time of day, so whole days left (floor) change only at
      ``loaded_at`` + k × 24 h: not before ``stable_until``;
    - closed grants (deadline before ``loaded_at``) stay closed, rolling ones (NULL) stay open; deadlines keep
      their order by whole days (grants with the same whole days left now share one deadline).

    Then ``VACUUM``, ``REINDEX`` and ``VACUUM (ANALYZE)`` the grants (see below). Raises ``RuntimeError`` if a
    stored grant match is on a grant closed at ``loaded_at`` (the loaders match open grants only). Returns what
    it did and the bounds."""
    if days < 2:
        raise ValueError(f"days must be >= 2 (a day beyond a run of up to a day), got {days}")
    started = time.perf_counter()
    moved = await conn.fetchval(
        """
        WITH moved AS (
            UPDATE grants
            SET deadline = $1::timestamptz
                + make_interval(days => floor(extract(epoch FROM deadline - $1::timestamptz) / 86400)::int + $2)
            WHERE deadline >= $1::timestamptz
            RETURNING 1
        )
        SELECT count(*) FROM moved
        """,
        loaded_at,
        days,
    )
    on_closed = await conn.fetchval(
        "SELECT count(*) FROM grant_matches m JOIN grants g ON g.id = m.grant_id WHERE g.deadline < $1", loaded_at
    )
    if on_closed:
        raise RuntimeError(f"{on_closed} grant matches are on grants closed at {loaded_at.isoformat()}")
    # The UPDATE left a dead version of every moved grant in every index; the grants' HNSW index repairs its
    # graph around them when (auto)vacuum removes them, which changes which neighbours an approximate search
    # finds. Vacuum now, then rebuild the indexes from the live rows alone: the graph stays as built for the
    # run (nothing else writes grants), as after a fresh load.
    await conn.execute("VACUUM grants")
    await conn.execute("REINDEX TABLE grants")
    await vacuum_analyze(conn, "grants")
    row = await conn.fetchrow(
        "SELECT min(deadline) FILTER (WHERE deadline >= $1) AS earliest, count(*) FILTER (WHERE deadline < $1) "
        "AS closed, count(*) FILTER (WHERE deadline IS NULL) AS rolling FROM grants",
        loaded_at,
    )
    return {
        "loaded_at": loaded_at.isoformat(),
        "hold_days": days,
        "moved_deadlines": moved,
        "closed_grants": row["closed"],
        "rolling_grants": row["rolling"],
        "earliest_open_deadline": row["earliest"].isoformat() if row["earliest"] else None,
        "stable_until": (loaded_at + HOLD_STABLE).isoformat(),
        "seconds": round(time.perf_counter() - started, 3),
    }


# --- command line --------------------------------------------------------------------------------------------


def render_markdown(result: dict[str, Any]) -> str:
    """Counts, per-step seconds and table sizes as Markdown tables."""
    counts = markdown_table(
        ["table", "rows", "size"],
        [(t, f"{n:,}", result["table_sizes"].get(t, "")) for t, n in result["counts"].items()],
    )
    steps = markdown_table(
        ["step", "seconds"],
        [
            (
                k.removesuffix("_s") + (" (in a thread, overlapping the COPY)" if k.endswith("_generate_s") else ""),
                f"{v:.2f}",
            )
            for k, v in result["timings_s"].items()
        ],
    )
    hnsw = ", ".join(f"{name}: {state}" for name, state in result["hnsw_indexes"].items()) or "none"
    return f"{counts}\n\nOpen grants: {result['open_grants']:,}. HNSW indexes: {hnsw}.\n\n{steps}"


async def _run(args: argparse.Namespace, spec: DatasetSpec) -> dict[str, Any]:
    """Pick the database (``--temp``, ``--database-url``, ``$MATCHGRAPH_DATABASE_URL``, embedded), migrate, load."""
    from graphql_app.db.setup import migrate, resolve_database_url, to_async_url
    from graphql_app.settings import load_settings

    rebuild = not args.skip_hnsw
    if args.temp:
        async with temp_embedded_database() as database:  # migrated; stopped and deleted on the way out
            conn = await database.connect()
            try:
                return await load_dataset(conn, spec, now=utc_now(), rebuild_hnsw=rebuild)
            finally:
                await conn.close()
    url = args.database_url or os.environ.get("MATCHGRAPH_DATABASE_URL")
    # Unset: the embedded server under $MATCHGRAPH_DATA_DIR (default ./.matchgraph), started on demand.
    url = to_async_url(url) if url else await resolve_database_url(load_settings())
    await migrate(url)
    conn = await connect(url)
    try:
        return await load_dataset(conn, spec, now=utc_now(), rebuild_hnsw=rebuild, replace=args.replace)
    finally:
        await conn.close()


def spec_from_args(args: argparse.Namespace) -> DatasetSpec:
    """The ``--scale`` preset with any explicit counts and the seed applied."""
    base = DatasetSpec.small() if args.scale == "small" else DatasetSpec.full()
    overrides = {
        name: getattr(args, name)
        for name in ("grants", "companies", "matches_per_company", "jobs", "members", "job_matches_per_job")
        if getattr(args, name) is not None
    }
    return DatasetSpec(**{**asdict(base), **overrides, "seed": args.seed})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.dataset", description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", help="default: $MATCHGRAPH_DATABASE_URL, else the embedded server")
    parser.add_argument("--temp", action="store_true", help="load into a throw-away embedded server (removed)")
    parser.add_argument("--scale", choices=("full", "small"), default="full")
    for name in ("grants", "companies", "matches-per-company", "jobs", "members", "job-matches-per-job"):
        parser.add_argument(f"--{name}", type=int, help="overrides the scale's count")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-hnsw", action="store_true", help="leave the HNSW indexes dropped after the load")
    parser.add_argument("--replace", action="store_true", help="truncate the domain tables first")
    args = parser.parse_args(argv)
    if args.temp and args.database_url:
        parser.error("--temp and --database-url exclude each other")
    spec = spec_from_args(args)
    start = time.perf_counter()
    try:
        result = asyncio.run(_run(args, spec))
    except (DatasetNotEmptyError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"# Matchgraph dataset (seed {spec.seed})\n")
    print(render_markdown(result))
    print(f"\nTotal wall time: {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
