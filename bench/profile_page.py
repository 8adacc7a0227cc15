"""Where a frontend page request spends its CPU: pyinstrument over the real ASGI app, in this process.

python -m bench.profile_page --requests 500 --first 20            # compiled plans and resolvers, one after the other
python -m bench.profile_page --requests 500 --path interpreted    # only the resolvers

Loads the frontend dataset (``bench.frontend_page``) into a throw-away embedded Postgres, then sends the page
query sequentially through ``httpx.ASGITransport`` (no sockets: the profile is the app's own work, from the
ASGI call to the response bytes) and prints, per execution path, the mean wall time per request and the
profile's heaviest frames. ``pip install pyinstrument`` first (``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import httpx

from bench.common import temp_embedded_database
from bench.frontend_page import JWT_SECRET, load_frontend_dataset, request_body, tokens_for
from graphql_app.settings import Settings


async def profile_path(url: str, jobs: list[tuple[str, str]], path: str, requests: int, first: int) -> dict:
    """Mean ms per request and pyinstrument's text report for one execution path."""
    from pyinstrument import Profiler

    from graphql_app.app import create_app
    from graphql_app.clock import Clock
    from graphql_app.context import AppServices
    from graphql_app.db.engine import Database

    settings = Settings(
        database_url=url,
        jwt_secret=JWT_SECRET,
        data_dir=Path(tempfile.gettempdir()),
        compiled_queries=path == "compiled",
    )
    db = Database(url, pool_size=2)
    services = AppServices(settings=settings, db=db, clock=Clock())
    tokens = tokens_for({tenant for _, tenant in jobs})
    bodies = [
        (request_body(cid, first), {"Authorization": f"Bearer {tokens[t]}", "Content-Type": "application/json"})
        for cid, t in jobs
    ]
    app = create_app(services=services)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as client:

            async def send(i: int) -> None:
                body, headers = bodies[i % len(bodies)]
                response = await client.post("/graphql", content=body, headers=headers)
                assert response.status_code == 200 and b'"errors"' not in response.content, response.text

            for i in range(50):  # warm-up: plan/validation caches, prepared statements, pool
                await send(i)
            profiler = Profiler(interval=0.0005, async_mode="enabled")
            start = time.perf_counter()
            with profiler:
                for i in range(requests):
                    await send(i)
            elapsed = time.perf_counter() - start
    finally:
        await db.dispose()
    compiled = app.state.compiled_queries
    return {
        "path": path,
        "ms_per_request": 1000 * elapsed / requests,
        "served_by_plans": compiled.served if compiled else 0,
        "report": profiler.output_text(unicode=True, show_all=False, short_mode=True),
    }


async def run(args: argparse.Namespace) -> None:
    paths = ["compiled", "interpreted"] if args.path == "both" else [args.path]
    async with temp_embedded_database() as bench_db:
        dataset = await load_frontend_dataset(bench_db, args.grants, args.companies, matches_per_company=100)
        for path in paths:
            result = await profile_path(bench_db.url, dataset["jobs"], path, args.requests, args.first)
            print(f"## {path}: {result['ms_per_request']:.2f} ms per request (sequential, in-process, profiled)")
            print(f"served by compiled plans: {result['served_by_plans']}")
            print(result["report"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.profile_page", description=__doc__.split("\n")[0])
    parser.add_argument("--path", choices=["both", "compiled", "interpreted"], default="both")
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--first", type=int, default=20)
    parser.add_argument("--grants", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=200)
    asyncio.run(run(parser.parse_args(argv)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
