"""bench.peer's parts that need neither node nor the npm registry: the workloads as each server spells them, the
complete-response comparison, the statement log, the summaries and the report, and the deadlines held open.
(The harness itself, with PostGraphile 4 and 5 installed from the registry, is ``python -m bench.peer --quick``.)"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from bench import frontend_page, peer
from bench.common import database_on_server
from bench.dataset import HOLD_DAYS, hold_grants_open
from graphql_app.matching.belonging import component_level

GRANT = {"id": "g", "title": "T", "funder": "F", "deadline": "2030-01-01T23:59:00+00:00", "currency": "EUR"}
NODE = {"id": "m", "score": 0.9, "semanticScore": 0.1, "ruleScore": 0.2, "carbonScore": 0.3}
NODE |= {"collaborativeScore": 0.0, "recencyScore": 1.0, "matchReasons": ["r"], "isViewed": False}
NODE |= {"isSaved": True, "isDismissed": False, "grant": {**GRANT, "isCarbonFocused": True, "amountMax": 1000.0}}
COMPANY = {"id": "c", "name": "N", "country": "NL", "size": "MICRO"}


def _pg_node(deadline: str) -> dict:
    """The same node as PostGraphile spells it: BigFloat string, its timestamp format, whole floats as ints."""
    return {**NODE, "recencyScore": 1, "grant": {**NODE["grant"], "deadline": deadline, "amountMax": "1000.00"}}


def test_every_workload_has_a_query_per_server_or_says_it_has_none():
    names = (peer.A, peer.P5, peer.B, peer.C)
    for w in peer.WORKLOADS.values():
        assert w.query(peer.A)
        assert (w.query(peer.B) is None) == (w.query(peer.P5) is None) == (w.name in ("live", "search"))
    assert peer.WORKLOADS["live"].servers(names) == (peer.A, peer.C)
    assert peer.WORKLOADS["mutation"].servers(names) == (peer.A, peer.P5, peer.B)
    assert peer.WORKLOADS["page-20"].servers((peer.A, peer.B)) == (peer.A, peer.B)
    assert list(peer.WORKLOADS)[-1] == "mutation" and "live" not in peer.QUICK_WORKLOADS
    # v4 and v5 spell the same page with their own names.
    v4, v5 = (peer.WORKLOADS["deep-20"].query(k) for k in (peer.B, peer.P5))
    assert "companyById(id: $id)" in v4 and "ID_ASC" in v4 and "rowId" not in v4
    assert "companyByRowId(rowId: $id)" in v5 and "ROW_ID_ASC" in v5 and "id: rowId" in v5
    # The variants differ from the page only where they say.
    assert "matchReasons @include(if: $withReasons)" in peer.WORKLOADS["directive"].query(peer.P5)
    assert "me { tenantId }" in peer.WORKLOADS["mixed-roots"].query(peer.A)
    assert "query { __typename }" in peer.WORKLOADS["mixed-roots"].query(peer.B)


def test_request_bodies_carry_each_servers_variables():
    page, directive = peer.WORKLOADS["page-20"], peer.WORKLOADS["directive"]
    assert orjson.loads(page.body(peer.A, ("c1", "t1"), 0))["variables"] == {"companyId": "c1", "first": 20}
    assert orjson.loads(page.body(peer.P5, ("c1", "t1"), 0))["variables"]["tenantId"] == "t1"
    flags = [orjson.loads(directive.body(peer.A, ("c", "t"), i))["variables"]["withReasons"] for i in range(3)]
    assert flags == [True, False, True]
    mutation = peer.WORKLOADS["mutation"]
    assert orjson.loads(mutation.body(peer.A, ("m", "t", "SAVE"), 0))["variables"] == {"matchId": "m", "action": "SAVE"}
    patch = orjson.loads(mutation.body(peer.B, ("m", "t", "RESTORE"), 0))["variables"]["patch"]
    assert patch["isSaved"] is False and patch["isDismissed"] is False and "updatedAt" in patch
    assert mutation.check_positions(400) == [0, 1, 2, 3, 4, 200, 201, 202, 203, 204]


def test_complete_responses_compare_alike_across_servers():
    """Deep query: Matchgraph's response and PostGraphile's (aliased, its own formats) are the same tree;
    a changed flag is found with its path; cursors count between the two Matchgraphs only."""
    deep = peer.WORKLOADS["deep-20"]
    mg = {"company": {**COMPANY, "grantMatches": {"totalCount": 1, "edges": [{"node": NODE}]}}}
    pg4 = {
        "company": {**COMPANY, "grantMatches": {"totalCount": 1, "edges": [{"node": _pg_node("2030-01-01T23:59:00Z")}]}}
    }
    pg5_node = _pg_node("2030-01-01T23:59:00.000000+00:00")
    pg5 = {"company": {**COMPANY, "grantMatches": {"totalCount": 1.0, "edges": [{"node": pg5_node}]}}}
    kinds = {peer.A: peer.A, peer.B: peer.B, peer.P5: peer.P5, peer.C: peer.A}
    bodies = {name: orjson.dumps({"data": d}) for name, d in ((peer.A, mg), (peer.B, pg4), (peer.P5, pg5))}
    _, problems = peer.compare_responses(deep, bodies, kinds, "company c")
    assert problems == []

    changed = {
        "company": {**COMPANY, "grantMatches": {"totalCount": 1, "edges": [{"node": {**NODE, "isSaved": False}}]}}
    }
    _, problems = peer.compare_responses(deep, {**bodies, peer.B: orjson.dumps({"data": changed})}, kinds, "c")
    assert len(problems) == 1 and "grantMatches.edges[0].node.isSaved: True vs False" in problems[0]

    page = peer.WORKLOADS["page-20"]
    a = {"grantMatches": {"totalCount": 1, "pageInfo": {"hasNextPage": False, "endCursor": "x"}, "edges": []}}
    c = {"grantMatches": {"totalCount": 1, "pageInfo": {"hasNextPage": False, "endCursor": "y"}, "edges": []}}
    _, problems = peer.compare_responses(
        page, {peer.A: orjson.dumps({"data": a}), peer.C: orjson.dumps({"data": c})}, kinds, "c"
    )
    assert len(problems) == 1 and "cursors included" in problems[0] and "endCursor" in problems[0]
    _, problems = peer.compare_responses(
        page, {peer.A: orjson.dumps({"data": a}), peer.B: orjson.dumps({"data": c})}, kinds, "c"
    )
    assert problems == []  # opaque cursors are left out across different servers

    _, problems = peer.compare_responses(page, {peer.A: b'{"errors": [{"message": "no"}], "data": null}'}, kinds, "c")
    assert problems and "not a clean response" in problems[0]


def test_reshapes_band_levels_unwrap_the_mutation_and_check_the_extra_root():
    org = peer.WORKLOADS["org-page-20"]
    node = {"id": "j", "authenticity": 0.9, "acceptance": 0.7, "complementarity": 0.1}
    data = org.reshape(peer.B, {"jobMatches": {"edges": [{"node": node}]}})
    levels = data["jobMatches"]["edges"][0]["node"]["belongingLevels"]
    assert levels == {
        "authenticity": component_level(0.9),
        "acceptance": component_level(0.7),
        "complementarity": component_level(0.1),
    }
    assert levels["authenticity"] == "HIGH" and "authenticity" not in data["jobMatches"]["edges"][0]["node"]
    mutation = peer.WORKLOADS["mutation"]
    assert mutation.reshape(peer.P5, {"applyGrantMatchAction": {"grantMatch": {"id": "m"}}}) == {
        "applyGrantMatchAction": {"id": "m"}
    }
    mixed = peer.WORKLOADS["mixed-roots"]
    mixed.verify(peer.A, ("c", "acme"), {"me": {"tenantId": "acme"}})
    mixed.verify(peer.P5, ("c", "acme"), {"query": {"__typename": "Query"}})
    with pytest.raises(RuntimeError):
        mixed.verify(peer.A, ("c", "acme"), {"me": {"tenantId": "other"}})
    assert mixed.reshape(peer.A, {"me": {}, "grantMatches": 1}) == mixed.reshape(
        peer.B, {"query": {}, "grantMatches": 1}
    )


def test_statement_log_lines_are_told_apart_by_role(tmp_path):
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


def _run(rps: float, server_cpu: float, pg_cpu: float, requests: int = 100) -> dict:
    raw = {"requests": requests, "errors": 0, "warmup_requests": 30, "warmup_errors": 0, "elapsed_s": requests / rps}
    raw |= {"latencies_ms": [1000 / rps] * requests, "loadgen_cpu_s": 0.1, "postgres_sessions": 0}
    raw |= {"server_cpu_s": server_cpu * requests / 1000, "postgres_cpu_s": pg_cpu * requests / 1000}
    return peer.summarise_run(raw, distinct=50)


def test_summaries_ratios_and_the_report():
    assert _run(100, 1, 1)["repeat_share"] == 0.8 and _run(100, 1, 2)["cpu_ms_per_request"] == 3
    runs = {peer.A: [_run(200, 0.5, 1.0)], peer.P5: [_run(100, 2.0, 0.5)], peer.B: [_run(50, 3.0, 1.0)]}
    summary = peer.summarise_cell(runs)
    assert summary[peer.A]["cpu_ms_per_request"]["median"] == 1.5
    assert summary["ratio"][peer.A][peer.P5]["requests_per_s"]["median"] == 2.0
    assert summary["ratio"][peer.A][peer.B]["cpu_per_request_server_plus_postgres"]["median"] == 0.38
    assert summary["ratio"][peer.A][peer.P5]["postgres_cpu_per_request"]["median"] == 2.0
    assert set(summary["ratio"]) == {peer.A, peer.P5} and set(summary["ratio"][peer.P5]) == {peer.B}
    assert peer.sample_positions(200, 8, 1) == list(range(0, 200, 25))
    assert peer.sample_positions(200, 8, 2) != peer.sample_positions(200, 8, 1)
    assert peer.sample_positions(3, 8, 1) == [0, 1, 2] and peer.sample_positions(0, 8, 1) == []

    plan = peer.Plan(("page-20", "live"), (peer.A, peer.P5, peer.B), (10,), 2, 1.0, 2.0, 0.5)
    assert plan.servers_for == {"page-20": (peer.A, peer.P5, peer.B), "live": (peer.A,)} and plan.runs == 8

    live_cell = peer.summarise_cell({peer.A: [_run(50, 10, 1)]})
    compared = [{"compared": 8, "mismatches": 0}]
    results = {
        "versions": {
            peer.P5: {"postgraphile": "5.1.5", "node": "v22"},
            peer.B: {"postgraphile": "4.14.1", "node": "v20"},
        },
        "plan": {**plan.__dict__, "servers": [peer.A, peer.P5, peer.B]},
        "dataset": {
            "scale": "frontend",
            "loader": "x",
            "grants": 10,
            "open_grants": 9,
            "companies": 2,
            "matches_per_company": 5,
            "grant_matches": 10,
        },
        "statements_per_request": {"error": "server log not found"},
        "cells": [
            {"workload": "page-20", "concurrency": 10, "runs": runs, "summary": summary, "samples_compared": compared},
            {"workload": "live", "concurrency": 10, "runs": {}, "summary": live_cell, "samples_compared": compared},
        ],
        "same_data": {
            "page-20": {"compared": 5, "subject": "company", "servers": [peer.A, peer.B], "rows_min_max": [5, 5]}
        },
        "startup_s": {peer.A: 1.0},
    }
    text = peer.render_markdown(results)
    assert "PostGraphile 5.1.5 (node v22) and PostGraphile 4.14.1 (node v20)" in text
    assert "| page-20 | 10 | **1.50** (0.50 + 1.00) | **2.50** (2.00 + 0.50) | **4.00** (3.00 + 1.00) |" in text
    assert "| live | 10 | **11.0** (10.0 + 1.00) | no equivalent | no equivalent |" in text
    assert "page-20 8 requests, 0 mismatches" in text


async def test_hold_grants_open_moves_open_deadlines_past_the_run(pg_socket_dir):
    """Every deadline open at the load moves to ≥ HOLD_DAYS days after it, at the load's time of day (whole days
    left constant for a day); closed and rolling grants stay as they are; matches are all on open grants."""
    async with database_on_server(pg_socket_dir, f"bench_hold_{os.getpid()}") as bench_db:
        loaded_at = datetime.now(UTC)
        await frontend_page.load_frontend_dataset(bench_db, 80, 3, matches_per_company=10)
        conn = await bench_db.connect()
        try:
            before = {r["id"]: r["deadline"] for r in await conn.fetch("SELECT id, deadline FROM grants")}
            held = await hold_grants_open(conn, loaded_at)
            after = {r["id"]: r["deadline"] for r in await conn.fetch("SELECT id, deadline FROM grants")}
        finally:
            await conn.close()
    assert held["hold_days"] == HOLD_DAYS and held["moved_deadlines"] > 0
    assert datetime.fromisoformat(held["stable_until"]) == loaded_at + timedelta(days=1)
    moved = 0
    for grant, old in before.items():
        new = after[grant]
        if old is None or old < loaded_at:
            assert new == old
            continue
        moved += 1
        assert new >= loaded_at + timedelta(days=HOLD_DAYS)
        assert (new - loaded_at) % timedelta(days=1) == timedelta(0)
        assert (new - loaded_at).days - HOLD_DAYS == (old - loaded_at).days
    assert moved == held["moved_deadlines"]
