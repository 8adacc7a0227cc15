"""New-grant fan-out benchmark (docs/matching.md, "The new-grant fan-out"; figures in bench/README.md).

On a throw-away embedded Postgres with ``--companies`` demo companies (both demo tenants, random unit
embeddings) and ``--grants`` demo grants:

1. one grant against every company, cold (no stored matches: every eligible company takes the match), rolled
   back after each round;
2. the import of all ``--grants`` grants as one GRANT_FANOUT computation run by ``run_computation`` (progress
   committed ~100 times), as the worker runs it;
3. one grant against every company again, warm (every company now holds its best 100 matches, so only the
   companies the grant would enter the top 100 of take it), rolled back after each round.

Rounds 1 and 3 fan out ``--rounds`` further grants, open to every country and size (every company is a
candidate), that the import does not contain. The grants are embedded
with random vectors: the model's embedding time of an import is not part of the fan-out.

    python -m bench.grant_fanout --companies 10000 --grants 1000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from typing import Any

import numpy as np
from sqlalchemy import func, select

from bench.common import (
    copy_companies,
    copy_grants,
    drop_grants_hnsw_index,
    machine_info,
    report,
    summary,
    temp_embedded_database,
    utc_now,
    vacuum_analyze,
)
from graphql_app.clock import FixedClock
from graphql_app.db.engine import Database
from graphql_app.db.models import computations, grant_matches
from graphql_app.demo.dataset import generate_demo_companies, generate_demo_grants
from graphql_app.services.computation_records import GRANT_FANOUT, insert_computation
from graphql_app.services.computations import run_computation
from graphql_app.services.grant_fanout import StoredThresholds, fan_out_grant, load_company_columns

SEED = 7


class _Rollback(Exception):
    pass


async def one_grant(db: Database, grant_ids: list, now, rounds: int) -> dict[str, Any]:
    """Fan one grant out (a different one each round), timing the statement-and-scoring part; rolled back."""
    async with db.transaction() as conn:
        t = time.perf_counter()
        columns = await load_company_columns(conn)
        load_columns_ms = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        thresholds = await StoredThresholds.load(conn)
        load_thresholds_ms = (time.perf_counter() - t) * 1000
    times, stored, candidates = [], [], []
    for r in range(rounds):
        grant_id = grant_ids[r % len(grant_ids)]
        copy = StoredThresholds({k: list(v) for k, v in thresholds.best.items()})
        try:
            async with db.transaction() as conn:
                t = time.perf_counter()
                result, _ = await fan_out_grant(conn, grant_id, now, columns, copy)
                times.append((time.perf_counter() - t) * 1000)
                stored.append(len(result.stored))
                candidates.append(result.candidates)
                raise _Rollback
        except _Rollback:
            pass
    return {
        "per_grant_ms": summary(times),
        "eligible_companies": candidates,
        "matches_stored": stored,
        "load_company_columns_ms": round(load_columns_ms, 1),
        "load_thresholds_ms": round(load_thresholds_ms, 1),
    }


async def import_as_computation(db: Database, grant_ids: list, now) -> dict[str, Any]:
    async with db.transaction() as conn:
        record = await insert_computation(
            conn, "bench", "platform", GRANT_FANOUT, None, {"grantIds": [str(g) for g in grant_ids]}
        )
    t = time.perf_counter()
    status = await run_computation(db, record.id, FixedClock(now))
    seconds = time.perf_counter() - t
    async with db.reader() as conn:
        done = (await conn.execute(select(computations).where(computations.c.id == record.id))).one()
        stored_rows = (await conn.execute(select(func.count()).select_from(grant_matches))).scalar_one()
    return {
        "status": status,
        "seconds": round(seconds, 1),
        "grants_per_second": round(len(grant_ids) / seconds, 1),
        "progress": done.progress,
        "processed_count": done.processed_count,
        "result_count": done.result_count,
        "grant_matches_rows_after": stored_rows,
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "grant_fanout",
        "command": "python -m bench.grant_fanout " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "companies": args.companies,
        "grants": args.grants,
    }
    now = utc_now()
    rng = np.random.default_rng(args.seed)
    async with temp_embedded_database() as bench_db:
        conn = await bench_db.connect()
        try:
            await drop_grants_hnsw_index(conn)
            demo_grants = [
                g
                for g in generate_demo_grants(seed=args.seed, count=args.grants * 2 + 200)
                if g.deadline_in_days is None or g.deadline_in_days > 0
            ]
            # Probes accept every country and size: the worst case, every company is a candidate.
            probes = [g for g in demo_grants if not g.countries and not g.sizes][: args.rounds]
            to_import = [g for g in demo_grants if g not in probes][: args.grants]
            loaded = await copy_grants(conn, to_import + probes, now, rng)
            await copy_companies(conn, generate_demo_companies(seed=args.seed, count=args.companies), rng)
            await vacuum_analyze(conn, "grants", "companies")
        finally:
            await conn.close()
        db = Database(bench_db.url, pool_size=2)
        try:
            imported, probes = loaded.ids[: args.grants], loaded.ids[args.grants :]  # probes: never imported
            results["cold_one_grant"] = await one_grant(db, probes, now, args.rounds)
            results["import"] = await import_as_computation(db, imported, now)
            results["warm_one_grant"] = await one_grant(db, probes, now, args.rounds)
        finally:
            await db.dispose()
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def render_markdown(r: dict[str, Any]) -> str:
    cold, warm, imp = r["cold_one_grant"], r["warm_one_grant"], r["import"]
    return "\n".join(
        [
            f"Fan-out, {r['companies']:,} companies, {r['grants']:,} grants:",
            "",
            "| case | median ms | min ms | max ms | eligible companies | matches stored |",
            "|---|---|---|---|---|---|",
            *(
                f"| {name} | {d['per_grant_ms']['median']:.0f} | {d['per_grant_ms']['min']:.0f} | "
                f"{d['per_grant_ms']['max']:.0f} | {min(d['eligible_companies'])}–{max(d['eligible_companies'])} | "
                f"{min(d['matches_stored'])}–{max(d['matches_stored'])} |"
                for name, d in (("one grant, cold", cold), ("one grant, warm (after the import)", warm))
            ),
            "",
            f"Import of {r['grants']:,} grants as one GRANT_FANOUT computation: {imp['status']} in {imp['seconds']} s "
            f"({imp['grants_per_second']} grants/s), progress {imp['progress']}, {imp['result_count']:,} matches "
            f"stored or refreshed, {imp['grant_matches_rows_after']:,} grant_matches rows after.",
            f"Company columns loaded once per computation in {cold['load_company_columns_ms']} ms; stored thresholds "
            f"in {warm['load_thresholds_ms']} ms (warm).",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.grant_fanout", description=__doc__.split("\n")[0])
    parser.add_argument("--companies", type=int, default=10_000)
    parser.add_argument("--grants", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(args))
    report(results, render_markdown, started, None if args.no_save else "grant_fanout")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
