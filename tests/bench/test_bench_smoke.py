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
    assert result["server_execution_ms"]["candidate_select"] > 0
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


def test_peer_bench_pure_parts(tmp_path):
    """bench.peer: both servers' deep responses normalise alike; log lines are told apart by role; repeats."""
    from bench import peer

    grant = {"id": "g", "title": "T", "funder": "F", "deadline": "2030-01-01T23:59:00+00:00", "currency": "EUR"}
    node = {"id": "m", "score": 0.9, "semanticScore": 0.1, "ruleScore": 0.2, "carbonScore": 0.3}
    node |= {"collaborativeScore": 0.0, "recencyScore": 0.5, "matchReasons": ["r"], "isViewed": False}
    node |= {"isSaved": True, "isDismissed": False, "grant": {**grant, "isCarbonFocused": True, "amountMax": 1000}}
    pg_node = {**node, "grant": {**node["grant"], "deadline": "2030-01-01T23:59:00Z", "amountMax": "1000.00"}}
    company = {"id": "c", "name": "N", "country": "NL", "size": "MICRO"}
    mg = {"company": {**company, "grantMatches": {"totalCount": 1, "edges": [{"node": node}]}}}
    pg = {"companyById": {**company, "grantMatchesByCompanyId": {"totalCount": 1, "edges": [{"node": pg_node}]}}}
    deep = peer.WORKLOADS["deep-20"]
    assert deep.normalise(peer.A, {"data": mg}) == deep.normalise(peer.B, {"data": pg})
    assert deep.expected_edges(7) == 7 and peer.WORKLOADS["page-100"].expected_edges(250) == 100

    log = tmp_path / "log"
    prefix = "2026-01-01 00:00:00.000 UTC [1] db=matchgraph|user={}|app=matchgraph| LOG:  "
    lines = [
        (
            peer.CACHE_ROLE,
            "connection authorized: user=matchgraph_cache database=matchgraph application_name=matchgraph",
        ),
        (peer.CACHE_ROLE, "execute __asyncpg_stmt_1__: SELECT 1"),
        ("postgres", "statement: SELECT 2"),
    ]
    log.write_text("".join(prefix.format(user) + text + "\n" for user, text in lines))
    counted = peer.StatementLog(log, "matchgraph").since(0, 2, peer.CACHE_ROLE, "matchgraph")
    assert counted["per_request"] == 0.5 and counted["sessions_opened"] == 1
    assert list(counted["left_out_other_applications"]) == ["postgres/matchgraph: SELECT 2"]

    raw = {"requests": 100, "errors": 0, "warmup_requests": 30, "warmup_errors": 0, "elapsed_s": 1.0}
    raw |= {"latencies_ms": [1.0] * 100, "server_cpu_s": 0.1, "postgres_cpu_s": 0.1, "loadgen_cpu_s": 0.1}
    assert peer.summarise_run({**raw, "postgres_sessions": 0}, distinct=50)["repeat_share"] == 0.8
