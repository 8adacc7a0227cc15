"""Scoring benchmark (see docs/matching.md, bench/README.md): one company against N grants.

1. Pure, in memory: ``score_grants_for_company`` + ``rank_grant_matches(limit=100)`` over demo grants.
2. End to end on a throw-away embedded Postgres: ``score_catalogue_for_company`` (pre-filter and cosine from the
   process's copy of the catalogue, peer signals, numpy scoring) and the full ``recompute_and_store_matches``
   transaction, with a breakdown of where the time goes.
3. Embedding throughput of the real model on grant texts.

    python -m bench.scoring --grants 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sys
import time
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import event, select

from bench.common import (
    BenchDatabase,
    GcPauses,
    copy_companies,
    copy_grant_matches,
    copy_grants,
    drop_grants_hnsw_index,
    fmt_ms,
    machine_info,
    markdown_table,
    mmm,
    ms_since,
    random_unit_vectors,
    rebuild_grants_hnsw_index,
    report,
    summary,
    synthetic_match_rows,
    table_sizes,
    temp_embedded_database,
    utc_now,
    vacuum_analyze,
)
from graphql_app.db.engine import Database
from graphql_app.db.models import companies
from graphql_app.demo.dataset import DemoCompany, DemoGrant, generate_demo_companies, generate_demo_grants
from graphql_app.matching.grants import (
    CompanyProfile,
    GrantCandidates,
    rank_grant_matches,
    score_grants_for_company,
)
from graphql_app.services.grant_catalogue import catalogue_cache
from graphql_app.services.grant_matching import (
    STORED_MATCHES_PER_COMPANY,
    ScoredCatalogue,
    company_profile,
    lock_company,
    recompute_and_store_matches,
    score_catalogue_for_company,
    top_matches,
)

SEED = 7
BENCH_TENANT = "bench-tenant"
PEER_COMPANIES = 50
MATCHES_PER_PEER = 10


def profile_of(company: DemoCompany) -> CompanyProfile:
    return CompanyProfile(
        country=company.country,
        nace_codes=company.nace_codes,
        size=company.size,
        carbon_categories=frozenset(company.carbon_categories),
        certifications=frozenset(company.certifications),
        taxonomy_objectives=frozenset(company.taxonomy_objectives),
    )


def target_company(seed: int = SEED) -> DemoCompany:
    """The scored company: the first demo company."""
    return generate_demo_companies(seed=seed, count=1)[0]


# --- 1. pure scoring -----------------------------------------------------------------------------------------


def build_pure_candidates(grants: Sequence[DemoGrant], rng: np.random.Generator) -> GrantCandidates:
    n = len(grants)
    peer_signal = np.zeros(n)
    with_peers = rng.random(n) < 0.01
    peer_signal[with_peers] = rng.normal(0.0, 1.5, size=int(with_peers.sum()))
    return GrantCandidates(
        ids=list(range(n)),
        cosine_similarity=rng.uniform(-0.1, 0.7, size=n),
        countries=[frozenset(g.countries) for g in grants],
        nace_codes=[tuple(g.nace_codes) for g in grants],
        sizes=[frozenset(g.sizes) for g in grants],
        carbon_categories=[frozenset(g.carbon_categories) for g in grants],
        certifications=[frozenset(g.certifications) for g in grants],
        taxonomy_objectives=[frozenset(g.taxonomy_objectives) for g in grants],
        is_carbon_focused=np.fromiter((g.is_carbon_focused for g in grants), dtype=bool, count=n),
        days_left=np.fromiter(
            (math.nan if g.deadline_in_days is None else g.deadline_in_days for g in grants),
            dtype=np.float64,
            count=n,
        ),
        peer_signal=peer_signal,
        peers_saved=np.where(peer_signal > 0, 1, 0),
    )


def pure_scoring(grant_count: int, rounds: int, seed: int = SEED, grants: Sequence[DemoGrant] | None = None) -> dict:
    """Time building ``GrantCandidates`` and scoring + ranking them, all in memory."""
    t = time.perf_counter()
    grants = list(grants) if grants is not None else generate_demo_grants(seed=seed, count=grant_count)
    generate_ms = ms_since(t)
    profile = profile_of(target_company(seed))
    build_ms, score_ms, rank_ms, total_ms = [], [], [], []
    eligible = listed = 0
    for r in range(rounds):
        rng = np.random.default_rng(seed + r)
        t = time.perf_counter()
        candidates = build_pure_candidates(grants, rng)
        build_ms.append(ms_since(t))
        t = time.perf_counter()
        scores = score_grants_for_company(profile, candidates)
        score_ms.append(ms_since(t))
        t2 = time.perf_counter()
        top = rank_grant_matches(scores, limit=STORED_MATCHES_PER_COMPANY)
        rank_ms.append(ms_since(t2))
        total_ms.append(ms_since(t))
        eligible = int(scores.eligible.sum())
        listed = len(top)
    return {
        "grants": len(grants),
        "rounds": rounds,
        "generate_demo_grants_ms": round(generate_ms, 1),
        "eligible": eligible,
        "ranked": listed,
        "build_candidates_ms": summary(build_ms),
        "score_ms": summary(score_ms),
        "rank_ms": summary(rank_ms),
        "score_and_rank_ms": summary(total_ms),
    }


# --- 2. end to end -------------------------------------------------------------------------------------------


@dataclass
class _Captured:
    """One statement as the service sent it: the Core construct and its parameters (for a faithful replay),
    the driver-level SQL and parameters (for EXPLAIN), and the wall time of the cursor execute (asyncpg
    runs the query and fetches and decodes every row inside it)."""

    clause: Any
    parameters: Any
    sql: str = ""
    driver_parameters: Any = None
    cursor_ms: float = 0.0


@dataclass
class StatementCapture:
    """Records every statement sent through ``db``'s engine while active."""

    db: Database
    statements: list[_Captured] = field(default_factory=list)

    def __enter__(self) -> StatementCapture:
        self._start = 0.0
        sync = self.db.engine.sync_engine
        event.listen(sync, "before_execute", self._before_execute)
        event.listen(sync, "before_cursor_execute", self._before_cursor)
        event.listen(sync, "after_cursor_execute", self._after_cursor)
        return self

    def __exit__(self, *exc: object) -> None:
        sync = self.db.engine.sync_engine
        event.remove(sync, "before_execute", self._before_execute)
        event.remove(sync, "before_cursor_execute", self._before_cursor)
        event.remove(sync, "after_cursor_execute", self._after_cursor)

    def _before_execute(self, conn, clauseelement, multiparams, params, execution_options) -> None:
        parameters = multiparams[0] if len(multiparams) == 1 else (list(multiparams) or params or None)
        self.statements.append(_Captured(clauseelement, parameters))

    def _before_cursor(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.statements and not self.statements[-1].sql:
            self.statements[-1].sql = statement
            self.statements[-1].driver_parameters = parameters
        self._start = time.perf_counter()

    def _after_cursor(self, conn, cursor, statement, parameters, context, executemany) -> None:
        if self.statements:
            self.statements[-1].cursor_ms = ms_since(self._start)

    def find(self, predicate) -> _Captured:
        for captured in self.statements:
            if predicate(captured.sql):
                return captured
        raise LookupError("no captured statement matches")


async def load_scoring_dataset(db: BenchDatabase, grant_count: int, seed: int, now, *, hnsw: bool = False) -> dict:
    """Grants (COPY), the scored company and its peers with a few flagged matches each."""
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    demo = generate_demo_grants(seed=seed, count=grant_count)
    timings["generate_demo_grants_s"] = time.perf_counter() - t
    conn = await db.connect()
    try:
        await drop_grants_hnsw_index(conn)
        t = time.perf_counter()
        loaded = await copy_grants(conn, demo, now, rng)
        timings["grants_copy_total_s"] = time.perf_counter() - t
        timings.update({f"grants_{k}_s": v for k, v in loaded.seconds.items()})

        people = generate_demo_companies(seed=seed, count=PEER_COMPANIES + 1)
        target_vec = random_unit_vectors(rng, 1)
        peer_vecs = random_unit_vectors(rng, PEER_COMPANIES)
        # Peers resemble the scored company to varying degrees, so their similarities differ.
        mix = rng.uniform(0.0, 0.9, size=(PEER_COMPANIES, 1)).astype(np.float32)
        peer_vecs = mix * target_vec + (1 - mix) * peer_vecs
        peer_vecs /= np.linalg.norm(peer_vecs, axis=1, keepdims=True)
        t = time.perf_counter()
        ids = await copy_companies(conn, people, rng, tenant=BENCH_TENANT, vectors=np.vstack([target_vec, peer_vecs]))
        pool = loaded.open_indices[: max(200, len(loaded.open_indices) // 20)]
        rows = []
        for company_id, tenant in ids[1:]:
            picked = rng.choice(pool, size=min(MATCHES_PER_PEER, len(pool)), replace=False)
            rows += synthetic_match_rows(
                rng,
                company_id,
                tenant,
                [loaded.ids[i] for i in picked],
                now,
                p_viewed=1.0,
                p_saved=0.4,
                p_dismissed=0.15,
            )
        await copy_grant_matches(conn, rows)
        timings["companies_and_peer_matches_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await vacuum_analyze(conn, "grants", "companies", "grant_matches")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        if hnsw:
            timings["grants_hnsw_index_build_s"] = await rebuild_grants_hnsw_index(conn)
        sizes = await table_sizes(conn, "grants", "companies", "grant_matches")
    finally:
        await conn.close()
    timings["total_s"] = (
        timings["generate_demo_grants_s"]
        + timings["grants_copy_total_s"]
        + timings["companies_and_peer_matches_s"]
        + timings["vacuum_analyze_s"]
        + timings.get("grants_hnsw_index_build_s", 0.0)
    )
    return {
        "company_id": ids[0][0],
        "open_grants": len(loaded.open_indices),
        "peer_companies": PEER_COMPANIES,
        "peer_match_rows": len(rows),
        "grants_hnsw_index": "rebuilt after load" if hnsw else "dropped for the load (unused by scoring)",
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "table_sizes": sizes,
    }


async def _fetch_company(db: Database, company_id):
    async with db.reader() as conn:
        return (await conn.execute(select(companies).where(companies.c.id == company_id))).one()


def _copy_bytes(columns) -> int:
    """Bytes of the copy's numpy arrays (its Python lists and sets are shared, interned values besides)."""
    return sum(value.nbytes for value in vars(columns).values() if isinstance(value, np.ndarray))


async def _explain_ms(conn, captured: _Captured) -> float:
    result = await conn.exec_driver_sql(
        "EXPLAIN (ANALYZE, TIMING OFF, FORMAT JSON) " + captured.sql, captured.driver_parameters
    )
    plan = result.scalar()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return round(float(plan[0]["Execution Time"]), 3)


async def end_to_end(bench_db: BenchDatabase, grant_count: int, rounds: int, seed: int = SEED, hnsw=False) -> dict:
    """Load the dataset into ``bench_db`` and time the service's scoring paths against it."""
    now = utc_now()
    load = await load_scoring_dataset(bench_db, grant_count, seed, now, hnsw=hnsw)
    db = Database(bench_db.url, pool_size=2)
    try:
        company = await _fetch_company(db, load["company_id"])

        # (a) score_catalogue_for_company: one untimed warm-up that also captures the statements it sends.
        with StatementCapture(db) as capture:
            async with db.reader() as conn:
                warm = await score_catalogue_for_company(conn, company, now)
        peer_stmt = capture.find(lambda sql: "WITH peers" in sql)
        catalogue_ms, candidates_n = [], len(warm.candidates)
        cursor_ms: dict[str, list[float]] = {"peer_select": []}
        gc_ms, gc_full = [], []
        for _ in range(rounds):
            with StatementCapture(db) as capture, GcPauses() as pauses:
                async with db.reader() as conn:
                    t = time.perf_counter()
                    scored = await score_catalogue_for_company(conn, company, now)
                    catalogue_ms.append(ms_since(t))
            gc_ms.append(pauses.ms)
            gc_full.append(pauses.collections[2])
            cursor_ms["peer_select"].append(capture.find(lambda sql: "WITH peers" in sql).cursor_ms)
            statements_per_scoring = len(capture.statements)  # the copy is current after the warm-up
            candidates_n = len(scored.candidates)

        # Diagnostic: the same call with the cyclic garbage collector switched off.
        no_gc_ms = []
        gc.collect()
        gc.disable()
        try:
            for _ in range(rounds):
                async with db.reader() as conn:
                    t = time.perf_counter()
                    await score_catalogue_for_company(conn, company, now)
                    no_gc_ms.append(ms_since(t))
        finally:
            gc.enable()

        # Breakdown: the same Core statements (replayed with the captured parameters, so SQLAlchemy's result
        # processing is included as in the service) and the same building blocks, timed one by one.
        steps = (
            "catalogue_check",
            "prefilter_and_cosine",
            "prefilter_and_cosine_kept",
            "peer_select",
            "build_candidates",
            "score",
            "rank_and_explain_top100",
        )
        parts: dict[str, list[float]] = {k: [] for k in steps}
        parts_gc: dict[str, list[float]] = {k: [] for k in steps}

        @contextmanager
        def step(name: str):
            with GcPauses() as pauses:
                t = time.perf_counter()
                yield
                parts[name].append(ms_since(t))
            parts_gc[name].append(pauses.ms)

        for _ in range(rounds):
            rows = candidates = scores = None  # release the previous round's objects first
            async with db.reader() as conn:
                with step("catalogue_check"):
                    columns = await catalogue_cache.columns(conn)
                columns.query_dots.clear()  # computed, not taken from an earlier round
                with step("prefilter_and_cosine"):
                    rows = columns.prefiltered(company.country, company.size, now)
                    cosine = columns.cosine(rows, company.embedding, company.country, company.size)
                with step("prefilter_and_cosine_kept"):  # the company's next page: the dot products kept
                    rows = columns.prefiltered(company.country, company.size, now)
                    cosine = columns.cosine(rows, company.embedding, company.country, company.size)
                with step("peer_select"):
                    found = (await conn.execute(peer_stmt.clause, peer_stmt.parameters)).one()
                    values = zip(found.signals or (), found.saved or (), strict=True)
                    signals = dict(zip(found.grant_ids or (), values, strict=True))
            with step("build_candidates"):
                candidates = columns.candidates(rows, cosine, signals, now)
            with step("score"):
                profile = company_profile(company)
                scores = score_grants_for_company(profile, candidates)
            with step("rank_and_explain_top100"):
                catalogue = ScoredCatalogue(company, profile, candidates, scores)
                top = top_matches(catalogue, STORED_MATCHES_PER_COMPANY)
        same_as_service = bool(
            len(rows) == candidates_n and np.allclose(np.sort(scores.total), np.sort(scored.scores.total))
        )
        # The one-off cost of (re)loading this process's copy of the catalogue's attributes.
        reload_ms = []
        for _ in range(rounds):
            async with db.reader() as conn:
                t = time.perf_counter()
                await catalogue_cache.columns(conn, reload=True)
                reload_ms.append(ms_since(t))
        async with db.reader() as conn:
            server_ms = {
                "peer_select": await _explain_ms(conn, peer_stmt),
            }

        # (b) the full recomputation transaction (lock, score, explain, delete stale, upsert), committed.
        async with db.transaction() as conn:  # warm-up: the first run inserts, later runs update
            locked = await lock_company(conn, company.id)
            await recompute_and_store_matches(conn, locked, now, STORED_MATCHES_PER_COMPANY)
        recompute_ms, stored_n = [], 0
        for _ in range(rounds):
            t = time.perf_counter()
            async with db.transaction() as conn:
                locked = await lock_company(conn, company.id)
                stored, _scored_n = await recompute_and_store_matches(conn, locked, now, STORED_MATCHES_PER_COMPANY)
            recompute_ms.append(ms_since(t))
            stored_n = len(stored)
        peers_with_signal = int(np.count_nonzero(candidates.peer_signal))
        facts = await bench_db.server_facts()
    finally:
        await db.dispose()
    return {
        "grants": grant_count,
        "rounds": rounds,
        "load": {k: v for k, v in load.items() if k != "company_id"},
        "company": {"country": company.country, "size": company.size, "nace_codes": list(company.nace_codes)},
        "candidates_after_prefilter": candidates_n,
        "candidates_with_peer_signal": peers_with_signal,
        "listed_top": len(top),
        "stored_matches": stored_n,
        "score_catalogue_ms": summary(catalogue_ms),
        "score_catalogue_gc_pause_ms": summary(gc_ms),
        "score_catalogue_full_gc_collections": gc_full,
        "score_catalogue_gc_disabled_ms": summary(no_gc_ms),
        "recompute_and_store_ms": summary(recompute_ms),
        "catalogue_reload_ms": summary(reload_ms),
        "catalogue_copy_mb": round(_copy_bytes(columns) / 2**20, 1),
        "statements_per_scoring": statements_per_scoring,
        "breakdown_ms": {k: summary(v) for k, v in parts.items()},
        "breakdown_gc_pause_ms": {k: summary(v) for k, v in parts_gc.items()},
        "cursor_execute_ms_in_service": {k: summary(v) for k, v in cursor_ms.items()},
        "server_execution_ms": server_ms,
        "breakdown_matches_service": same_as_service,
        "server": facts,
    }


# --- 3. embeddings -------------------------------------------------------------------------------------------


def embedding_throughput(texts: int = 256, batch_size: int = 64, rounds: int = 3, embedder=None, seed=SEED) -> dict:
    from graphql_app.matching.embeddings import grant_text, load_embedder

    load_ms = None
    if embedder is None:
        t = time.perf_counter()
        embedder = load_embedder()
        load_ms = round(ms_since(t), 1)
    corpus = [
        grant_text(g.title, g.description, g.funder, g.carbon_categories)
        for g in generate_demo_grants(seed=seed, count=texts)
    ]
    embedder.encode(corpus[:batch_size], batch_size=batch_size)  # warm-up
    encode_ms = []
    for _ in range(rounds):
        t = time.perf_counter()
        vectors = embedder.encode(corpus, batch_size=batch_size)
        encode_ms.append(ms_since(t))
    assert vectors.shape == (len(corpus), embedder.dimension)
    s = summary(encode_ms)
    import torch

    # Where the time goes: the tokenizer (Rust, fast) against the transformer's forward pass (the rest).
    t = time.perf_counter()
    tokenize = getattr(embedder.model, "preprocess", None) or embedder.model.tokenize
    features = tokenize(corpus)
    tokenize_ms = ms_since(t)
    tokens = features["attention_mask"].sum(dim=1).float()

    return {
        "model": embedder.model_id,
        "texts": len(corpus),
        "batch_size": batch_size,
        "rounds": rounds,
        "mean_chars": round(sum(map(len, corpus)) / len(corpus)),
        "model_load_ms": load_ms,
        "encode_ms": s,
        "sentences_per_s": {
            "min": round(len(corpus) / (s["max"] / 1000), 1),
            "median": round(len(corpus) / (s["median"] / 1000), 1),
            "max": round(len(corpus) / (s["min"] / 1000), 1),
        },
        "torch_threads": torch.get_num_threads(),
        "tokenize_ms": round(tokenize_ms, 1),
        "tokenize_share": round(tokenize_ms / s["median"], 3),
        "tokens_per_text": {"mean": round(float(tokens.mean()), 1), "max": int(tokens.max())},
        "max_seq_length": embedder.model.max_seq_length,
    }


# --- report --------------------------------------------------------------------------------------------------


def render_markdown(results: dict) -> str:
    out = []
    p = results.get("pure")
    if p:
        out.append(f"### Pure scoring, {p['grants']:,} grants, {p['rounds']} rounds (ms, min / median / max)\n")
        out.append(
            markdown_table(
                ["step", "ms"],
                [
                    ["build `GrantCandidates`", mmm(p["build_candidates_ms"])],
                    ["`score_grants_for_company`", mmm(p["score_ms"])],
                    ["`rank_grant_matches(limit=100)`", mmm(p["rank_ms"])],
                    ["**score + rank**", mmm(p["score_and_rank_ms"])],
                ],
            )
        )
        out.append(
            f"\n{p['eligible']:,} of {p['grants']:,} grants eligible; "
            f"`generate_demo_grants` took {fmt_ms(p['generate_demo_grants_ms'])} ms.\n"
        )
    e = results.get("end_to_end")
    if e:
        b, srv, load = e["breakdown_ms"], e["server_execution_ms"], e["load"]
        out.append(
            f"### End to end on embedded Postgres, {e['grants']:,} grants, {e['rounds']} rounds "
            "(ms, min / median / max)\n"
        )
        out.append(
            markdown_table(
                ["operation", "ms"],
                [
                    ["`score_catalogue_for_company`", mmm(e["score_catalogue_ms"])],
                    ["… of which garbage-collector pauses", mmm(e["score_catalogue_gc_pause_ms"])],
                    ["… same call with `gc.disable()` (diagnostic)", mmm(e["score_catalogue_gc_disabled_ms"])],
                    ["`recompute_and_store_matches` (lock → commit, top 100)", mmm(e["recompute_and_store_ms"])],
                    [
                        "reload this process's copy of the catalogue (after any grant change; not per request)",
                        mmm(e["catalogue_reload_ms"]),
                    ],
                ],
            )
        )
        out.append(
            f"\nCandidates after the pre-filter: **{e['candidates_after_prefilter']:,}** "
            f"(of {load['open_grants']:,} open grants); {e['candidates_with_peer_signal']} carry a peer signal. "
            f"Statements per scoring: {e['statements_per_scoring']}. This process's copy of the catalogue: "
            f"{e['catalogue_copy_mb']} MB of arrays (the embeddings and the numeric columns).\n"
        )
        cur, bgc = e["cursor_execute_ms_in_service"], e["breakdown_gc_pause_ms"]
        out.append(
            "Breakdown (each building block timed on its own; the service's peer-signal SELECT replayed through "
            "SQLAlchemy Core with the captured parameters). *driver* = the cursor execute inside the service's "
            "own call (asyncpg: query, transfer and decoding of every row); *server* = `EXPLAIN ANALYZE` "
            "execution time; *GC pauses* = cyclic garbage collector time inside the step:\n"
        )
        out.append(
            markdown_table(
                ["step", "ms (min / median / max)", "GC pauses (median)", "driver (median)", "server"],
                [
                    [
                        "catalogue version check (copy of the grants' attributes is current)",
                        mmm(b["catalogue_check"]),
                        fmt_ms(bgc["catalogue_check"]["median"]),
                        "",
                        "",
                    ],
                    [
                        "pre-filter + cosine from the process's copy (`prefiltered`, `cosine`; numpy)",
                        mmm(b["prefilter_and_cosine"]),
                        fmt_ms(bgc["prefilter_and_cosine"]["median"]),
                        "",
                        "",
                    ],
                    [
                        "… the same for the company's next page (its dot products kept: `query_dots`)",
                        mmm(b["prefilter_and_cosine_kept"]),
                        fmt_ms(bgc["prefilter_and_cosine_kept"]["median"]),
                        "",
                        "",
                    ],
                    [
                        "peer-signal SELECT",
                        mmm(b["peer_select"]),
                        fmt_ms(bgc["peer_select"]["median"]),
                        fmt_ms(cur["peer_select"]["median"]),
                        fmt_ms(srv["peer_select"]),
                    ],
                    [
                        "`CatalogueColumns.candidates` (from the process's copy)",
                        mmm(b["build_candidates"]),
                        fmt_ms(bgc["build_candidates"]["median"]),
                        "",
                        "",
                    ],
                    ["`score_grants_for_company`", mmm(b["score"]), fmt_ms(bgc["score"]["median"]), "", ""],
                    [
                        "rank + explain top 100 (`top_matches`)",
                        mmm(b["rank_and_explain_top100"]),
                        fmt_ms(bgc["rank_and_explain_top100"]["median"]),
                        "",
                        "",
                    ],
                ],
            )
        )
        out.append(f"\nReplayed breakdown gives the same scores as the service: {e['breakdown_matches_service']}.\n")
        lt = load["timings_s"]
        out.append(
            f"\nLoad: {lt['total_s']:.1f} s in all — demo data {lt['generate_demo_grants_s']:.1f} s, "
            f"embeddings + records {lt['grants_embeddings_and_records_s']:.1f} s, "
            f"COPY {lt['grants_copy_s']:.1f} s, VACUUM ANALYZE {lt['vacuum_analyze_s']:.1f} s"
            + (
                f", HNSW index {lt['grants_hnsw_index_build_s']:.1f} s"
                if "grants_hnsw_index_build_s" in lt
                else " (grants HNSW index dropped: scoring does not use it)"
            )
            + f". Table sizes: {', '.join(f'{k} {v}' for k, v in load['table_sizes'].items())}.\n"
        )
    m = results.get("embeddings")
    if m:
        out.append(f"### Embedding throughput ({m['model']}, {m['texts']} grant texts, batches of {m['batch_size']})\n")
        sps = m["sentences_per_s"]
        out.append(
            markdown_table(
                ["encode 256 texts (ms)", "sentences/s (min / median / max)", "model load (ms)", "torch threads"],
                [
                    [
                        mmm(m["encode_ms"]),
                        f"{sps['min']:.0f} / {sps['median']:.0f} / {sps['max']:.0f}",
                        fmt_ms(m["model_load_ms"]),
                        m["torch_threads"],
                    ]
                ],
            )
        )
        if "tokenize_ms" in m:
            out.append(
                f"\nTokenizing all {m['texts']} texts takes {m['tokenize_ms']:.0f} ms "
                f"({100 * m['tokenize_share']:.1f}% of encoding them); the rest is the transformer's forward pass. "
                f"Texts are {m['tokens_per_text']['mean']:.0f} tokens on average (longest "
                f"{m['tokens_per_text']['max']}, truncated at {m['max_seq_length']})."
            )
        out.append("")
    return "\n".join(out)


async def run(args: argparse.Namespace) -> dict:
    results: dict[str, Any] = {
        "benchmark": "scoring",
        "command": "python -m bench.scoring " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    results["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    results["pure"] = pure_scoring(args.grants, args.rounds, args.seed)
    if not args.skip_db:
        async with temp_embedded_database() as bench_db:
            results["end_to_end"] = await end_to_end(bench_db, args.grants, args.rounds, args.seed, hnsw=args.hnsw)
    if not args.skip_embeddings:
        results["embeddings"] = await asyncio.to_thread(
            embedding_throughput, args.texts, 64, min(args.rounds, 3), None, args.seed
        )
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.scoring", description=__doc__.split("\n")[0])
    parser.add_argument("--grants", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--texts", type=int, default=256, help="grant texts to embed (default 256)")
    parser.add_argument("--hnsw", action="store_true", help="rebuild the grants' HNSW index after the load")
    parser.add_argument("--skip-db", action="store_true", help="skip the end-to-end Postgres part")
    parser.add_argument("--skip-embeddings", action="store_true", help="skip the embedding throughput part")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    report(results, render_markdown, started, None if args.no_save else "scoring")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
