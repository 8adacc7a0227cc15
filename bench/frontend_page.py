"""Frontend page benchmark (see bench/README.md): the one-request grant-match page served by the real app over HTTP.

Loads a dataset into a throw-away embedded Postgres (COPY), starts ``matchgraph serve`` in a subprocess and
drives the page query from a separate load-generator process (httpx, ``--concurrency`` workers). Reports
requests/s, latency percentiles, CPU per request of the server and of Postgres, and the SQL statements one
page costs (counted in-process with the ASGI app, as tests/api/test_statement_counts.py does).

    python -m bench.frontend_page --grants 5000 --companies 200 --requests 400 --concurrency 10
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import orjson
import psutil

from bench.common import (
    BenchDatabase,
    ServerSubprocess,
    copy_companies,
    copy_grant_matches,
    copy_grants,
    drop_grants_hnsw_index,
    fmt_ms,
    free_port,
    machine_info,
    markdown_table,
    ms_since,
    percentiles,
    readyz_ok,
    rebuild_grants_hnsw_index,
    report,
    synthetic_match_rows,
    table_sizes,
    temp_embedded_database,
    utc_now,
    vacuum_analyze,
)
from graphql_app.auth import mint_token
from graphql_app.demo.dataset import generate_demo_companies, generate_demo_grants
from graphql_app.settings import Settings

SEED = 7
JWT_SECRET = "bench-secret-" + "b" * 40
WARMUP_REQUESTS = 50

#: The frontend's page: matches by score with every score field, reasons, flags, the grant and the company.
PAGE_QUERY = """
query CompanyMatches($companyId: ID!, $first: Int!) {
  grantMatches(companyId: $companyId, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
      isViewed isSaved isDismissed
      grant { id title funder deadline isCarbonFocused amountMax currency }
      company { id name country size }
    } }
  }
}"""


# --- dataset -------------------------------------------------------------------------------------------------


async def load_frontend_dataset(
    bench_db: BenchDatabase, grant_count: int, company_count: int, matches_per_company: int = 100, seed: int = SEED
) -> dict[str, Any]:
    """Grants, companies (both demo tenants) and ``matches_per_company`` stored matches each, on open grants.

    Returns ``jobs``: ``(company id, tenant)`` pairs, plus load timings.
    """
    now = utc_now()
    rng = np.random.default_rng(seed)
    timings: dict[str, float] = {}
    t = time.perf_counter()
    demo_grants = generate_demo_grants(seed=seed, count=grant_count)
    demo_companies = generate_demo_companies(seed=seed, count=company_count)
    timings["generate_s"] = time.perf_counter() - t
    conn = await bench_db.connect()
    try:
        await drop_grants_hnsw_index(conn)
        t = time.perf_counter()
        loaded = await copy_grants(conn, demo_grants, now, rng)
        timings["grants_copy_s"] = time.perf_counter() - t
        t = time.perf_counter()
        ids = await copy_companies(conn, demo_companies, rng)
        timings["companies_copy_s"] = time.perf_counter() - t
        per_company = min(matches_per_company, len(loaded.open_indices))
        t = time.perf_counter()
        rows: list[tuple] = []
        for company_id, tenant in ids:
            picked = rng.choice(loaded.open_indices, size=per_company, replace=False)
            rows += synthetic_match_rows(rng, company_id, tenant, [loaded.ids[i] for i in picked], now)
        await copy_grant_matches(conn, rows)
        timings["matches_copy_s"] = time.perf_counter() - t
        t = time.perf_counter()
        await vacuum_analyze(conn, "grants", "companies", "grant_matches")
        timings["vacuum_analyze_s"] = time.perf_counter() - t
        # The page never uses the grants' HNSW index, but the schema should be the production one.
        timings["grants_hnsw_index_build_s"] = await rebuild_grants_hnsw_index(conn)
        sizes = await table_sizes(conn, "grants", "companies", "grant_matches")
    finally:
        await conn.close()
    timings["total_s"] = sum(timings.values())
    return {
        "jobs": [(str(cid), tenant) for cid, tenant in ids],
        "grants": grant_count,
        "open_grants": len(loaded.open_indices),
        "companies": company_count,
        "matches_per_company": per_company,
        "grant_matches": len(rows),
        "timings_s": {k: round(v, 3) for k, v in timings.items()},
        "table_sizes": sizes,
    }


def tokens_for(tenants: set[str]) -> dict[str, str]:
    settings = Settings(jwt_secret=JWT_SECRET, database_url="postgresql://unused")
    return {
        tenant: mint_token(settings, subject=f"bench@{tenant}", tenant_id=tenant, roles=["ORG_ADMIN"])
        for tenant in sorted(tenants)
    }


def request_body(company_id: str, first: int) -> bytes:
    return orjson.dumps({"query": PAGE_QUERY, "variables": {"companyId": company_id, "first": first}})


# --- statements per request (in-process) ---------------------------------------------------------------------


async def count_page_statements(bench_db: BenchDatabase, jobs: list[tuple[str, str]], firsts=(20, 100)) -> dict:
    """SQL statements one page request sends, per page size, through the ASGI app in this process."""
    from graphql_app.app import create_app
    from graphql_app.clock import Clock
    from graphql_app.context import AppServices
    from graphql_app.db.engine import Database, count_statements

    settings = Settings(database_url=bench_db.url, jwt_secret=JWT_SECRET, data_dir=Path(tempfile.gettempdir()))
    db = Database(bench_db.url, pool_size=2)
    services = AppServices(settings=settings, db=db, clock=Clock())
    tokens = tokens_for({tenant for _, tenant in jobs})
    out: dict[str, Any] = {}
    try:
        app = create_app(services=services)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://matchgraph.bench") as client:
            for first in firsts:
                counts, edges = [], 0
                for company_id, tenant in jobs[:3]:
                    headers = {"Authorization": f"Bearer {tokens[tenant]}", "Content-Type": "application/json"}
                    with count_statements() as log:
                        response = await client.post(
                            "/graphql", content=request_body(company_id, first), headers=headers
                        )
                    body = response.json()
                    assert response.status_code == 200 and not body.get("errors"), body
                    edges = len(body["data"]["grantMatches"]["edges"])
                    counts.append(log.count)
                out[str(first)] = {
                    "statements": max(counts),
                    "per_request": counts,
                    "edges": edges,
                    "sql": [s.split("\n")[0][:100] for s in log.statements],
                }
    finally:
        await db.dispose()
    return out


# --- load generator (runs in its own process) ----------------------------------------------------------------


def _cpu_seconds(proc: psutil.Process) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _postgres_cpu(postmaster_pid: int | None) -> dict[int, float]:
    if not postmaster_pid:
        return {}
    try:
        master = psutil.Process(postmaster_pid)
        procs = [master, *master.children(recursive=True)]
    except psutil.Error:
        return {}
    out = {}
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            out[proc.pid] = _cpu_seconds(proc)
    return out


async def _drive(
    client: httpx.AsyncClient, url: str, jobs: list[tuple[bytes, dict]], n: int, concurrency: int, expected_edges: int
) -> tuple[list[float], int, float]:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0

    async def worker() -> None:
        nonlocal errors
        while (k := next(counter)) < n:
            body, headers = jobs[k % len(jobs)]
            t = time.perf_counter()
            try:
                response = await client.post(url, content=body, headers=headers)
                ok = response.status_code == 200
                if ok:
                    payload = orjson.loads(response.content)
                    ok = not payload.get("errors") and len(payload["data"]["grantMatches"]["edges"]) == expected_edges
            except httpx.HTTPError:
                ok = False
            latencies.append(ms_since(t))
            errors += not ok

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, errors, time.perf_counter() - start


async def _loadgen(
    base_url: str,
    jobs: list[tuple[str, str]],
    tokens: dict[str, str],
    first: int,
    warmup: int,
    requests: int,
    concurrency: int,
    server_pid: int,
    postmaster_pid: int | None,
    expected_edges: int,
) -> dict[str, Any]:
    prepared = [
        (request_body(cid, first), {"Authorization": f"Bearer {tokens[tenant]}", "Content-Type": "application/json"})
        for cid, tenant in jobs
    ]
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    url = base_url + "/graphql"
    async with httpx.AsyncClient(limits=limits, timeout=60) as client:
        _, warm_errors, _ = await _drive(client, url, prepared, warmup, concurrency, expected_edges)
        server = psutil.Process(server_pid)
        me = psutil.Process()
        server0, pg0, me0 = _cpu_seconds(server), _postgres_cpu(postmaster_pid), _cpu_seconds(me)
        latencies, errors, elapsed = await _drive(client, url, prepared, requests, concurrency, expected_edges)
        server1, pg1, me1 = _cpu_seconds(server), _postgres_cpu(postmaster_pid), _cpu_seconds(me)
    pg_delta = sum(v - pg0.get(pid, 0.0) for pid, v in pg1.items())
    return {
        "first": first,
        "requests": requests,
        "concurrency": concurrency,
        "warmup_requests": warmup,
        "warmup_errors": warm_errors,
        "errors": errors,
        "elapsed_s": round(elapsed, 3),
        "requests_per_s": round(requests / elapsed, 1),
        "latency_ms": percentiles(latencies),
        "server_cpu_ms_per_request": round((server1 - server0) * 1000 / requests, 3),
        "postgres_cpu_ms_per_request": round(pg_delta * 1000 / requests, 3) if postmaster_pid else None,
        "loadgen_cpu_ms_per_request": round((me1 - me0) * 1000 / requests, 3),
    }


def run_loadgen(*args: Any) -> dict[str, Any]:
    """Entry point of the load-generator process."""
    return asyncio.run(_loadgen(*args))


# --- the server ----------------------------------------------------------------------------------------------


def matchgraph_command() -> list[str]:
    script = Path(sys.executable).with_name("matchgraph")
    if script.exists():
        return [str(script)]
    found = shutil.which("matchgraph")
    return [found] if found else [sys.executable, "-m", "graphql_app.cli"]


def start_server(bench_db: BenchDatabase, log_dir: Path, extra_env: dict[str, str] | None = None) -> ServerSubprocess:
    """``matchgraph serve`` on 127.0.0.1 against the bench database, ready (``/readyz``: the model loaded too)."""
    env = {
        **os.environ,
        "MATCHGRAPH_DATABASE_URL": bench_db.url,
        "MATCHGRAPH_JWT_SECRET": JWT_SECRET,
        "MATCHGRAPH_DATA_DIR": str(log_dir),
        "MATCHGRAPH_LOG_LEVEL": "warning",  # no per-request access log
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        **(extra_env or {}),
    }
    port = free_port()
    server = ServerSubprocess(
        "server", [*matchgraph_command(), "serve", "--host", "127.0.0.1", "--port", str(port)], env, port, log_dir
    )
    server.wait_ready(readyz_ok, timeout=180.0)
    return server


# --- the run -------------------------------------------------------------------------------------------------


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "frontend_page",
        "command": "python -m bench.frontend_page " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "query": PAGE_QUERY.strip(),
    }
    async with temp_embedded_database() as bench_db:
        dataset = await load_frontend_dataset(bench_db, args.grants, args.companies, seed=args.seed)
        jobs = dataset.pop("jobs")
        order = np.random.default_rng(args.seed).permutation(len(jobs))
        jobs = [jobs[i] for i in order]
        results["dataset"] = dataset
        results["server"] = await bench_db.server_facts()
        results["statements_per_request"] = await count_page_statements(bench_db, jobs)
        tokens = tokens_for({tenant for _, tenant in jobs})
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-server-"))
        server = start_server(bench_db, log_dir)
        try:
            results["server_startup_s"] = round(server.startup_s, 2)
            runs = []
            with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
                for first in (20, 100):
                    expected = min(first, dataset["matches_per_company"])
                    future = pool.submit(
                        run_loadgen,
                        server.base_url,
                        jobs,
                        tokens,
                        first,
                        WARMUP_REQUESTS,
                        args.requests,
                        args.concurrency,
                        server.proc.pid,
                        bench_db.postmaster_pid,
                        expected,
                    )
                    outcome = await asyncio.wrap_future(future)
                    outcome["statements_per_request"] = results["statements_per_request"][str(first)]["statements"]
                    runs.append(outcome)
            results["runs"] = runs
        finally:
            server.stop()
            shutil.rmtree(log_dir, ignore_errors=True)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def render_markdown(results: dict[str, Any]) -> str:
    d = results["dataset"]
    out = [
        f"### Frontend page over HTTP: {d['grants']:,} grants, {d['companies']} companies × "
        f"{d['matches_per_company']} matches ({d['grant_matches']:,} rows)\n"
    ]
    rows = []
    for r in results["runs"]:
        lat = r["latency_ms"]
        rows.append(
            [
                f"first: {r['first']}",
                r["requests"],
                r["concurrency"],
                f"**{r['requests_per_s']:.0f}**",
                fmt_ms(lat["p50"]),
                fmt_ms(lat["p90"]),
                fmt_ms(lat["p99"]),
                fmt_ms(lat["max"]),
                r["statements_per_request"],
                fmt_ms(r["server_cpu_ms_per_request"]),
                fmt_ms(r["postgres_cpu_ms_per_request"]),
                fmt_ms(r["loadgen_cpu_ms_per_request"]),
                r["errors"],
            ]
        )
    out.append(
        markdown_table(
            [
                "page",
                "requests",
                "concurrency",
                "req/s",
                "p50 ms",
                "p90 ms",
                "p99 ms",
                "max ms",
                "SQL statements / request",
                "server CPU ms / req",
                "Postgres CPU ms / req",
                "load-gen CPU ms / req",
                "errors",
            ],
            rows,
        )
    )
    t = d["timings_s"]
    out.append(
        f"\nWarm-up {WARMUP_REQUESTS} requests before each run (not measured). Server start-up (model load "
        f"included) {results['server_startup_s']} s. Load {t['total_s']:.1f} s "
        f"(COPY grants {t['grants_copy_s']:.1f} s, "
        f"matches {t['matches_copy_s']:.1f} s, VACUUM ANALYZE {t['vacuum_analyze_s']:.1f} s, grants HNSW index "
        f"{t['grants_hnsw_index_build_s']:.1f} s). Table sizes: "
        + ", ".join(f"{k} {v}" for k, v in d["table_sizes"].items())
        + ".\n"
    )
    stmts = results["statements_per_request"]
    out.append(
        "Statements per request (in-process ASGI app + `count_statements()`): "
        + ", ".join(f"first: {k} → {v['statements']}" for k, v in stmts.items())
        + ".\n"
    )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.frontend_page", description=__doc__.split("\n")[0])
    parser.add_argument("--grants", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--requests", type=int, default=400, help="measured requests per page size")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    report(results, render_markdown, started, None if args.no_save else "frontend_page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
