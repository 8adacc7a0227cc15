"""The benchmark harness runs end to end on tiny inputs (no timing is asserted: budgets live in bench/)."""

from __future__ import annotations

import os

from bench import frontend_page, scoring
from bench.common import database_on_server


def _positive(summary: dict) -> bool:
    return summary["n"] >= 1 and 0 < summary["min"] <= summary["median"] <= summary["max"]


def test_pure_scoring_bench():
    result = scoring.pure_scoring(2000, rounds=1)
    assert result["grants"] == 2000 and 0 < result["eligible"] <= 2000
    assert result["ranked"] == min(100, result["eligible"])
    for key in ("build_candidates_ms", "score_ms", "rank_ms", "score_and_rank_ms"):
        assert _positive(result[key]), key


async def test_end_to_end_scoring_bench(pg_socket_dir):
    async with database_on_server(pg_socket_dir, f"bench_smoke_{os.getpid()}") as bench_db:
        result = await scoring.end_to_end(bench_db, grant_count=2000, rounds=1)
    assert result["candidates_after_prefilter"] > 0
    assert result["stored_matches"] == min(100, result["listed_top"]) > 0
    assert result["breakdown_matches_service"] is True
    assert _positive(result["score_catalogue_ms"]) and _positive(result["recompute_and_store_ms"])
    assert all(_positive(s) for s in result["breakdown_ms"].values())
    assert result["server_execution_ms"]["peer_select"] > 0
    assert result["statements_per_scoring"] == 2  # the catalogue version and the peer signals
    assert "End to end" in scoring.render_markdown({"end_to_end": result})


def test_embedding_throughput_bench(embedder):
    result = scoring.embedding_throughput(texts=8, batch_size=4, rounds=1, embedder=embedder)
    assert result["texts"] == 8 and _positive(result["encode_ms"]) and result["sentences_per_s"]["median"] > 0


async def test_frontend_page_dataset_and_statement_count(pg_socket_dir):
    async with database_on_server(pg_socket_dir, f"bench_smoke_page_{os.getpid()}") as bench_db:
        dataset = await frontend_page.load_frontend_dataset(bench_db, 60, 4, matches_per_company=25)
        assert len(dataset["jobs"]) == 4 and dataset["grant_matches"] == 4 * 25
        counts = await frontend_page.count_page_statements(bench_db, dataset["jobs"], firsts=(20, 100))
    assert counts["20"]["edges"] == 20 and counts["100"]["edges"] == 25
    assert 0 < counts["20"]["statements"] <= 3 and counts["100"]["statements"] == counts["20"]["statements"]


async def test_events_bench_hub_smoke(services):
    """The events harness measures commit → subscriber on a real hub (tiny run)."""
    import asyncpg

    from bench.events import bench_hub

    dsn = services.db.asyncpg_dsn
    writer = await asyncpg.connect(dsn)
    try:
        result = await bench_hub(dsn, writer, subscribers=3, events=4)
    finally:
        await writer.close()
    assert result["subscribers"] == 3 and result["latency_ms"]["p50"] > 0
