"""Load the demo dataset into a database: grants, companies in two tenants, computed matches, interactions."""

from __future__ import annotations

import random
from dataclasses import asdict
from datetime import timedelta

from sqlalchemy import func, select, update

from graphql_app.auth import mint_token
from graphql_app.context import AppServices
from graphql_app.db.models import companies, grant_matches, grants, job_matches
from graphql_app.demo.dataset import DEMO_TENANTS, generate_demo_companies, generate_demo_grants
from graphql_app.demo.talent_seed import seed_talent
from graphql_app.services import catalogue
from graphql_app.services.grant_matching import (
    STORED_MATCHES_PER_COMPANY,
    lock_company,
    recompute_and_store_matches,
)

BATCH = 250


async def seed_demo(
    services: AppServices,
    *,
    only_if_empty: bool = True,
    grant_count: int = 300,
    company_count: int = 200,
    seed: int = 7,
) -> dict[str, dict[str, str]]:
    """Load the dataset (skipped when data exists and ``only_if_empty``); print and return demo tokens."""
    db, embedder, now = services.db, await services.get_embedder(wait=None), services.clock.now()
    async with db.reader() as conn:
        existing = await conn.scalar(select(func.count()).select_from(grants))
    if existing and only_if_empty:
        print(f"Database already holds {existing} grants; demo data not loaded again (use --force).")
    else:
        grant_items = []
        for g in generate_demo_grants(seed=seed, count=grant_count):
            item = asdict(g)
            days = item.pop("deadline_in_days")
            item["deadline"] = (
                None
                if days is None
                else (now + timedelta(days=days)).replace(hour=23, minute=59, second=0, microsecond=0)
            )
            item["countries"] = list(item["countries"])
            grant_items.append(item)
        for start in range(0, len(grant_items), BATCH):
            await catalogue.create_grants(db, embedder, grant_items[start : start + BATCH])
        by_tenant: dict[str, list[dict]] = {}
        for c in generate_demo_companies(seed=seed, count=company_count):
            item = asdict(c)
            by_tenant.setdefault(item.pop("tenant"), []).append(item)
        for tenant, items in by_tenant.items():
            for start in range(0, len(items), BATCH):
                await catalogue.create_companies(db, embedder, tenant, items[start : start + BATCH])
        await _set_alert_settings(services, seed)
        await _compute_matches_and_interactions(services, seed)
        placed_members = await seed_talent(services, seed=seed)
        print(f"Loaded the talent demo: {len(placed_members)} placed members; tokens for them below.")
        print(f"Loaded {len(grant_items)} grants and {company_count} companies in tenants {', '.join(by_tenant)}.")
    return await print_demo_tokens(services)


#: The demo companies' alert thresholds (docs/alerts.md): most between 0.55 and 0.7; some carbon-focused grants
#: only, some large awards only. Every demo company has alerts on, so any of them shows one arriving.
DEMO_ALERT_THRESHOLDS = (0.55, 0.6, 0.65, 0.7)
DEMO_ALERT_MIN_AMOUNT = 250_000


async def _set_alert_settings(services: AppServices, seed: int) -> None:
    rng = random.Random(seed + 1)
    async with services.db.transaction() as conn:
        company_ids = list((await conn.execute(select(companies.c.id).order_by(companies.c.name))).scalars())
        for company_id in company_ids:
            roll = rng.random()
            values: dict = {"alert_min_score": rng.choice(DEMO_ALERT_THRESHOLDS)}
            if roll < 0.15:
                values["alert_carbon_focused_only"] = True
            elif roll < 0.25:
                values["alert_min_amount"] = DEMO_ALERT_MIN_AMOUNT
            await conn.execute(update(companies).where(companies.c.id == company_id).values(**values))


async def _compute_matches_and_interactions(services: AppServices, seed: int) -> None:
    rng = random.Random(seed)
    db, now = services.db, services.clock.now()
    async with db.reader() as conn:
        company_ids = list((await conn.execute(select(companies.c.id).order_by(companies.c.name))).scalars())
    for company_id in company_ids:
        async with db.transaction() as conn:
            company = await lock_company(conn, company_id)
            stored, _ = await recompute_and_store_matches(conn, company, now, 40)
            for match in stored[:8]:
                roll = rng.random()
                values = {"is_viewed": True, "viewed_at": now}
                if roll < 0.35:
                    values["is_saved"] = True
                elif roll < 0.5:
                    values["is_dismissed"] = True
                elif roll > 0.8:
                    continue
                await conn.execute(
                    update(grant_matches)
                    .where(grant_matches.c.company_id == company_id, grant_matches.c.grant_id == match.grant_id)
                    .values(**values)
                )
    # A second pass so collaborative scores reflect the peers' interactions made above.
    for company_id in company_ids:
        async with db.transaction() as conn:
            company = await lock_company(conn, company_id)
            await recompute_and_store_matches(conn, company, now, STORED_MATCHES_PER_COMPANY // 2)


async def print_demo_tokens(services: AppServices) -> dict[str, dict[str, str]]:
    """A token per role and demo tenant; the MEMBER token is a placed member of that organisation's jobs."""
    async with services.db.reader() as conn:
        placed = {
            row.tenant_id: str(row.member_id)
            for row in await conn.execute(
                select(job_matches.c.tenant_id, job_matches.c.member_id).where(job_matches.c.status == "PLACED")
            )
        }
    tokens: dict[str, dict[str, str]] = {}
    for tenant in DEMO_TENANTS:
        tokens[tenant] = {
            role: mint_token(
                services.settings,
                subject=f"demo-{role.lower()}@{tenant}",
                tenant_id=tenant,
                roles=[role],
                member_id=placed.get(tenant) if role == "MEMBER" else None,
            )
            for role in ("ORG_USER", "ORG_ADMIN", "MEMBER", "PLATFORM_ADMIN")
        }
    for tenant, by_role in tokens.items():
        print(f"\nDemo tokens for tenant {tenant} (valid 12 h):")
        for role, token in by_role.items():
            note = f"  (member {placed[tenant]})" if role == "MEMBER" and tenant in placed else ""
            print(f"  {role:<15} {token}{note}")
    return tokens
