"""Load the talent demo: organisations and jobs for both demo tenants, members, matches, placements."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import insert, select, update

from graphql_app.context import AppServices
from graphql_app.db.models import job_matches, jobs, members, organisations, placement_feedback, placement_outcomes
from graphql_app.demo.talent_dataset import ORGANISATIONS, generate_demo_members
from graphql_app.services import job_match_scoring, talent

PLACED_DAYS_AGO = 100


async def seed_talent(services: AppServices, *, seed: int = 7, member_count: int = 60) -> list[str]:
    """Insert the talent demo; returns the ids of the members who were placed (for their tokens)."""
    db, embedder, now = services.db, await services.get_embedder(wait=None), services.clock.now()
    people = generate_demo_members(seed, member_count)
    bios = await asyncio.to_thread(embedder.encode, [p.bio for p in people])
    cultures = await asyncio.to_thread(embedder.encode, [o["culture_statement"] for o in ORGANISATIONS.values()])
    placed: list[str] = []
    async with db.transaction() as conn:
        member_rows = [
            {
                **talent.validate_member(
                    {**asdict(p), "traits": [{"trait": t, "value": v} for t, v in p.traits.items()]}, partial=False
                ),
                "bio_embedding": vec,
            }
            for p, vec in zip(people, bios, strict=True)
        ]
        await conn.execute(insert(members), member_rows)
        for (tenant, spec), culture in zip(ORGANISATIONS.items(), cultures, strict=True):
            org = (
                await conn.execute(
                    insert(organisations)
                    .values(
                        tenant_id=tenant,
                        name=spec["name"],
                        values=spec["values"],
                        culture_statement=spec["culture_statement"],
                        culture_embedding=culture,
                        team_trait_norms={
                            t: {"mean": m, "tolerance": tol} for t, (m, tol) in spec["team_trait_norms"].items()
                        },
                        team_skills=spec["team_skills"],
                    )
                    .returning(*organisations.c)
                )
            ).one()
            for title, skills, traits in spec["jobs"]:
                job = (
                    await conn.execute(
                        insert(jobs)
                        .values(
                            tenant_id=tenant,
                            organisation_id=org.id,
                            title=title,
                            description=f"{title} at {spec['name']}.",
                            required_skills=skills,
                            desired_traits=traits,
                        )
                        .returning(*jobs.c)
                    )
                ).one()
                cohort = await job_match_scoring.load_cohort(conn, org.culture_embedding)
                await job_match_scoring.store_job_matches(conn, job, org, cohort, 25)
            best = (
                await conn.execute(
                    select(job_matches)
                    .where(job_matches.c.organisation_id == org.id)
                    .order_by(job_matches.c.belonging_probability.desc())
                    .limit(1)
                )
            ).one()
            start = now - timedelta(days=PLACED_DAYS_AGO)
            await conn.execute(
                update(job_matches).where(job_matches.c.id == best.id).values(status="PLACED", placed_at=start)
            )
            await conn.execute(
                insert(placement_outcomes).values(
                    match_id=best.id,
                    outcome="RETAINED",
                    start_date=start.date(),
                    recorded_by="demo",
                    notes="Going well.",
                )
            )
            await conn.execute(
                insert(placement_feedback),
                [
                    {
                        "match_id": best.id,
                        "stage": stage,
                        "respondent": who,
                        "rating": rating,
                        "submitted_by": "demo",
                        "comments": "Demo feedback.",
                    }
                    # The member's DAY_90 feedback is left for the README's example to submit.
                    for stage, who, rating in (("DAY_30", "MEMBER", 4), ("DAY_30", "ORGANISATION", 5))
                ],
            )
            placed.append(str(best.member_id))
    return placed
