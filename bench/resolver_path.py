"""Server CPU per request of the frontend page on each execution path, measured in one process (see bench/README.md).

Loads the frontend dataset into a throw-away embedded Postgres, builds the real ASGI app twice (compiled plans on
and off) and sends the page query through it sequentially. Reports this process's CPU time per request — the
app's work plus the in-process HTTP client's, which the baseline row (``GET /livez``: HTTP alone) measures on
its own — and the SQL statements per request. ``--profile`` writes a cProfile of the
resolver path (``--profile-out``).

    python -m bench.resolver_path --requests 300
    python -m bench.resolver_path --requests 300 --profile --profile-out /tmp/resolvers.prof
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import fmt_ms, machine_info, markdown_table, temp_embedded_database, write_results
from bench.frontend_page import JWT_SECRET, load_frontend_dataset, request_body, tokens_for
from graphql_app.settings import Settings


async def _cpu_per_request(client: httpx.AsyncClient, send, requests: int) -> float:
    for _ in range(20):  # warm-up: caches, plans, connections
        await send()
    start = time.process_time()
    for _ in range(requests):
        await send()
    return (time.process_time() - start) / requests * 1000


async def measure(bench_db, jobs: list[tuple[str, str]], requests: int, profile_out: Path | None) -> dict[str, Any]:
    from graphql_app.app import create_app
    from graphql_app.clock import Clock
    from graphql_app.context import AppServices
    from graphql_app.db.engine import Database, count_statements

    tokens = tokens_for({tenant for _, tenant in jobs})
    company_id, tenant = jobs[0]
    headers = {"Authorization": f"Bearer {tokens[tenant]}", "Content-Type": "application/json"}
    body = request_body(company_id, 20)
    results: dict[str, Any] = {}
    for path, compiled in (("compiled", True), ("resolvers", False)):
        settings = Settings(
            database_url=bench_db.url,
            jwt_secret=JWT_SECRET,
            data_dir=Path(tempfile.gettempdir()),
            compiled_queries=compiled,
        )
        db = Database(bench_db.url, pool_size=2)
        services = AppServices(settings=settings, db=db, clock=Clock())
        try:
            app = create_app(services=services)
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://matchgraph.bench") as client:

                async def page() -> None:
                    response = await client.post("/graphql", content=body, headers=headers)
                    assert response.status_code == 200 and len(response.json()["data"]["grantMatches"]["edges"]) == 20

                async def livez() -> None:
                    assert (await client.get("/livez")).status_code == 200

                if path == "compiled":
                    results["http_baseline_ms"] = await _cpu_per_request(client, livez, requests)
                with count_statements() as log:
                    await page()
                cpu = await _cpu_per_request(client, page, requests)
                results[path] = {"cpu_ms_per_request": cpu, "statements": log.count}
                if profile_out is not None and path == "resolvers":
                    profiler = cProfile.Profile(time.process_time)  # CPU, not time spent waiting for Postgres
                    profiler.enable()
                    for _ in range(requests):
                        await page()
                    profiler.disable()
                    profiler.dump_stats(profile_out)
        finally:
            await db.dispose()
    return results


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with temp_embedded_database("resolver_path") as bench_db:
        load = await load_frontend_dataset(bench_db, args.grants, args.companies)
        measured = await measure(bench_db, load["jobs"], args.requests, args.profile_out if args.profile else None)
    return {"machine": machine_info(), "requests": args.requests, "grants": args.grants, **measured}


def render_markdown(results: dict[str, Any]) -> str:
    base = results["http_baseline_ms"]
    rows = [
        [
            path,
            fmt_ms(results[path]["cpu_ms_per_request"]),
            fmt_ms(results[path]["cpu_ms_per_request"] - base),
            results[path]["statements"],
        ]
        for path in ("compiled", "resolvers")
    ]
    rows.append(["`GET /livez` (HTTP alone: the baseline)", fmt_ms(base), "", ""])
    return markdown_table(
        ["path (page-20, one process, sequential)", "CPU ms / request", "minus the HTTP baseline", "statements"],
        rows,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=20)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", action="store_true", help="also profile the resolver path")
    parser.add_argument("--profile-out", type=Path, default=Path(tempfile.gettempdir()) / "resolvers.prof")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(render_markdown(results))
    if not args.no_save:
        print(f"saved {write_results('resolver-path', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
