"""One job against N members: pure belonging scoring, and end to end on Postgres (load cohort, score, store).

python -m bench.talent_scoring --members 100000 --rounds 5
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time

import numpy as np
from sqlalchemy import select

from bench.common import (
    machine_info,
    markdown_table,
    random_unit_vectors,
    summary,
    temp_embedded_database,
    write_results,
)
from graphql_app.db.engine import Database
from graphql_app.db.models import jobs, organisations
from graphql_app.demo.talent_dataset import ORGANISATIONS, SKILLS, VALUES
from graphql_app.matching.belonging import rank_members, score_members_for_job
from graphql_app.matching.traits import WORK_STYLE_TRAITS
from graphql_app.services import job_match_scoring


def synthetic_members(n: int, seed: int = 7) -> list[tuple]:
    rng = np.random.default_rng(seed)
    vectors = random_unit_vectors(rng, n)
    rows = []
    for i in range(n):
        skills = list(rng.choice(SKILLS, size=rng.integers(2, 7), replace=False))
        values = list(rng.choice(VALUES, size=rng.integers(2, 5), replace=False))
        traits = {t: round(float(rng.uniform(0.2, 1.0)), 2) for t in rng.choice(WORK_STYLE_TRAITS, 7, replace=False)}
        rows.append((f"Member {i}", skills, values, json.dumps(traits), 0.8, vectors[i]))
    return rows


async def run(args: argparse.Namespace) -> dict:
    results: dict = {"command": "python -m bench.talent_scoring " + " ".join(args.raw), "machine": machine_info()}
    rows = synthetic_members(args.members)
    async with temp_embedded_database() as database:
        conn = await database.connect()
        try:
            t0 = time.perf_counter()
            await conn.copy_records_to_table(
                "members",
                records=rows,
                columns=["display_name", "skills", "values", "traits", "profile_completeness", "bio_embedding"],
            )
            results["load_s"] = round(time.perf_counter() - t0, 2)
            spec = ORGANISATIONS["acme-ventures"]
            culture = random_unit_vectors(np.random.default_rng(1), 1)[0]
            org_id = await conn.fetchval(
                "INSERT INTO organisations (tenant_id, name, values, culture_statement, culture_embedding, "
                "team_trait_norms, team_skills) VALUES ('bench', $1, $2, $3, $4, $5, $6) RETURNING id",
                spec["name"],
                spec["values"],
                spec["culture_statement"],
                culture,
                json.dumps({t: {"mean": m, "tolerance": tol} for t, (m, tol) in spec["team_trait_norms"].items()}),
                spec["team_skills"],
            )
            title, skills, traits = spec["jobs"][0]
            job_id = await conn.fetchval(
                "INSERT INTO jobs (tenant_id, organisation_id, title, required_skills, desired_traits) "
                "VALUES ('bench', $1, $2, $3, $4) RETURNING id",
                org_id,
                title,
                json.dumps(skills),
                json.dumps(traits),
            )
        finally:
            await conn.close()
        db = Database(database.url, pool_size=2)
        load_ms, score_ms, store_ms = [], [], []
        try:
            for _ in range(args.rounds):
                async with db.reader() as rconn:
                    job = (await rconn.execute(select(jobs).where(jobs.c.id == job_id))).one()
                    org = (await rconn.execute(select(organisations).where(organisations.c.id == org_id))).one()
                    t0 = time.perf_counter()
                    cohort = await job_match_scoring.load_cohort(rconn, org.culture_embedding)
                    load_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                scores = score_members_for_job(job_match_scoring.job_profile(job, org), cohort)
                rank_members(scores, 200)
                score_ms.append((time.perf_counter() - t0) * 1000)
                t0 = time.perf_counter()
                async with db.transaction() as wconn:
                    await job_match_scoring.store_job_matches(
                        wconn, job, org, cohort, job_match_scoring.STORED_MATCHES_PER_JOB
                    )
                store_ms.append((time.perf_counter() - t0) * 1000)
        finally:
            await db.dispose()
    results.update(
        members=args.members,
        rounds=args.rounds,
        load_members_ms=summary(load_ms),
        score_and_rank_ms=summary(score_ms),
        score_and_store_top200_ms=summary(store_ms),
    )
    return results


def main(argv: list[str] | None = None) -> int:
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.talent_scoring", description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    args.raw = argv if argv is not None else sys.argv[1:]
    results = asyncio.run(run(args))
    fmt = lambda s: f"{s['min']:.0f} / {s['median']:.0f} / {s['max']:.0f}"  # noqa: E731
    print(
        markdown_table(
            ["step (ms, min / median / max)", "value"],
            [
                (
                    "cohort (process cache; first round loads it) + culture cosine in pgvector",
                    fmt(results["load_members_ms"]),
                ),
                ("score + rank (numpy)", fmt(results["score_and_rank_ms"])),
                ("score again + store top 200 (transaction)", fmt(results["score_and_store_top200_ms"])),
            ],
        )
    )
    if not args.no_save:
        print(f"\nwrote {write_results('talent_scoring', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
