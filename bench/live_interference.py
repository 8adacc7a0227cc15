"""Does live scoring slow the page down? (see bench/README.md)

Loads the frontend dataset (grants with embeddings, companies, stored matches) into a throw-away embedded
Postgres and starts one ``matchgraph serve`` process. Then, for a fixed time each, from separate load-generator
processes: the compiled page-20 query alone (``--concurrency`` clients), ``liveGrantMatches(first: 20)`` alone
(1 and 4 clients), and the page together with 1 and 4 live-scoring clients. Reports requests/s and latency
percentiles of each, and the page's throughput with live clients relative to the page alone. The rate limit on
expensive operations is lifted for the run (``MATCHGRAPH_RATE_LIMIT``).

    python -m bench.live_interference --grants 5000 --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
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
import orjson

from bench.common import (
    fmt_ms,
    machine_info,
    markdown_table,
    ms_since,
    percentiles,
    temp_embedded_database,
    utc_now,
    write_results,
)
from bench.frontend_page import load_frontend_dataset, request_body, start_server, tokens_for

LIVE_QUERY = """
query Live($companyId: ID!) {
  liveGrantMatches(companyId: $companyId, first: 20) {
    totalCount
    edges { node { score matchReasons grant { id title } } }
  }
}"""


def live_body(company_id: str) -> bytes:
    return orjson.dumps({"query": LIVE_QUERY, "variables": {"companyId": company_id}})


async def _drive(base_url: str, bodies: list[tuple[bytes, dict]], kind: str, clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds

    async def client_loop(client: httpx.AsyncClient, offset: int) -> None:
        nonlocal errors
        k = offset
        while time.perf_counter() < stop:
            body, headers = bodies[k % len(bodies)]
            k += clients
            t = time.perf_counter()
            try:
                response = await client.post(base_url + "/graphql", content=body, headers=headers)
                payload = orjson.loads(response.content)
                root = "grantMatches" if kind == "page" else "liveGrantMatches"
                ok = response.status_code == 200 and not payload.get("errors") and payload["data"][root]["edges"]
            except (httpx.HTTPError, orjson.JSONDecodeError, KeyError, TypeError):
                ok = False
            latencies.append(ms_since(t))
            errors += not ok

    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(limits=limits, timeout=120) as client:
        start = time.perf_counter()
        await asyncio.gather(*(client_loop(client, i) for i in range(clients)))
        elapsed = time.perf_counter() - start
    return {
        "kind": kind,
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "requests_per_s": round(len(latencies) / elapsed, 2),
        "latency_ms": percentiles(latencies),
    }


def run_driver(*args: Any) -> dict:
    """Entry point of a load-generator process."""
    return asyncio.run(_drive(*args))


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "live_interference",
        "command": "python -m bench.live_interference " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "seconds_per_scenario": args.seconds,
        "page_concurrency": args.concurrency,
    }
    async with temp_embedded_database("live_interference") as bench_db:
        dataset = await load_frontend_dataset(bench_db, args.grants, args.companies)
        jobs = dataset.pop("jobs")
        results["dataset"] = dataset
        tokens = tokens_for({tenant for _, tenant in jobs})

        def headers(tenant: str) -> dict:
            return {"Authorization": f"Bearer {tokens[tenant]}", "Content-Type": "application/json"}

        pages = [(request_body(cid, 20), headers(tenant)) for cid, tenant in jobs]
        lives = [(live_body(cid), headers(tenant)) for cid, tenant in jobs]
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-live-"))
        server = start_server(bench_db, log_dir, extra_env={"MATCHGRAPH_RATE_LIMIT": "1000000/minute"})
        scenarios = [(args.concurrency, 0), (0, 1), (0, 4), (args.concurrency, 1), (args.concurrency, 4)]
        if args.live_only:
            scenarios = [(0, 1), (0, 4)]
        runs = []
        try:
            context = multiprocessing.get_context("spawn")
            with ProcessPoolExecutor(max_workers=2, mp_context=context) as pool:
                warm = [pool.submit(run_driver, server.base_url, pages, "page", 4, 3.0)]
                warm.append(pool.submit(run_driver, server.base_url, lives, "live", 1, 3.0))
                for future in warm:
                    await asyncio.wrap_future(future)
                for page_clients, live_clients in scenarios:
                    futures = []
                    if page_clients:
                        futures.append(
                            pool.submit(run_driver, server.base_url, pages, "page", page_clients, args.seconds)
                        )
                    if live_clients:
                        futures.append(
                            pool.submit(run_driver, server.base_url, lives, "live", live_clients, args.seconds)
                        )
                    outcome = {"page_clients": page_clients, "live_clients": live_clients}
                    for future in futures:
                        measured = await asyncio.wrap_future(future)
                        outcome[measured["kind"]] = measured
                    runs.append(outcome)
        finally:
            server.stop()
            shutil.rmtree(log_dir, ignore_errors=True)
    results["runs"] = runs
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def render_markdown(results: dict[str, Any]) -> str:
    alone = next((r["page"]["requests_per_s"] for r in results["runs"] if "page" in r and not r["live_clients"]), 0)
    rows = []
    for run in results["runs"]:
        page, live = run.get("page"), run.get("live")
        rows.append(
            [
                run["page_clients"] or "—",
                run["live_clients"] or "—",
                f"{page['requests_per_s']:.0f}" if page else "",
                f"{page['requests_per_s'] / alone:.2f}" if page and alone else "",
                fmt_ms(page["latency_ms"]["p99"]) if page else "",
                f"{live['requests_per_s']:.1f}" if live else "",
                fmt_ms(live["latency_ms"]["p50"]) if live else "",
                (page["errors"] if page else 0) + (live["errors"] if live else 0),
            ]
        )
    return markdown_table(
        [
            "page clients",
            "live clients",
            "page req/s",
            "page vs alone",
            "page p99 ms",
            "live req/s",
            "live p50 ms",
            "errors",
        ],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=10, help="page clients")
    parser.add_argument("--seconds", type=float, default=15.0, help="per scenario")
    parser.add_argument("--live-only", action="store_true", help="only live scoring, without the page")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    parser.add_argument("--results-name", default="live-interference", help="bench/results/<name>-<date>.json")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(render_markdown(results))
    if not args.no_save:
        print(f"saved {write_results(args.results_name, results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
