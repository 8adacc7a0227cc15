"""HTTP details (GET queries, masking) and the demo dataset loader."""

from __future__ import annotations

from sqlalchemy import func, select, text

from graphql_app.db.models import companies, grant_matches, grants, job_matches, jobs, placement_feedback
from graphql_app.demo.seed import DEMO_ALERT_THRESHOLDS, seed_demo
from tests.conftest import token_for


async def test_queries_over_get(http):
    token = token_for("tenant-a", ("ORG_USER",))
    response = await http.get(
        "/graphql", params={"query": "{ me { tenantId roles } }"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 200
    assert response.json()["data"]["me"] == {"tenantId": "tenant-a", "roles": ["ORG_USER"]}


async def test_mutations_are_refused_over_get(http):
    token = token_for("platform", ("PLATFORM_ADMIN",))
    response = await http.get(
        "/graphql",
        params={"query": 'mutation { createGrant(input: {title: "x"}) { id } }'},
        headers={"Authorization": f"Bearer {token}"},
    )
    assert response.status_code in (400, 405)


async def test_unexpected_errors_are_masked(services, as_admin):
    async with services.db.transaction() as conn:
        await conn.execute(text("DROP TABLE grant_matches"))
    body = await as_admin.execute("{ grantMatches { totalCount } }")
    error = body["errors"][0]
    assert error["message"] == "Unexpected error."
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert "grant_matches" not in str(body)


async def test_demo_dataset_loads_both_tenants_with_matches_and_tokens(services, capsys):
    tokens = await seed_demo(services, grant_count=40, company_count=12)
    assert set(tokens) == {"acme-ventures", "nordic-green"}
    assert set(tokens["acme-ventures"]) == {"ORG_USER", "ORG_ADMIN", "MEMBER", "PLATFORM_ADMIN"}
    async with services.db.reader() as conn:
        assert await conn.scalar(select(func.count()).select_from(grants)) == 40
        tenants = set((await conn.execute(select(companies.c.tenant_id).distinct())).scalars())
        assert tenants == {"acme-ventures", "nordic-green"}
        assert await conn.scalar(select(func.count()).select_from(grant_matches)) > 12
        assert await conn.scalar(select(func.count()).where(grant_matches.c.is_saved)) > 0
        # Alert settings: every company alerted, with thresholds of the demo's range and some filters.
        settings = (
            await conn.execute(
                select(companies.c.alert_min_score, companies.c.alert_carbon_focused_only, companies.c.alert_min_amount)
            )
        ).all()
        assert {row.alert_min_score for row in settings} <= set(DEMO_ALERT_THRESHOLDS)
        assert len({row.alert_min_score for row in settings}) > 1
        assert any(row.alert_carbon_focused_only or row.alert_min_amount for row in settings)
    again = await seed_demo(services, grant_count=40, company_count=12)  # only if empty: nothing added
    assert set(again) == set(tokens)
    async with services.db.reader() as conn:
        assert await conn.scalar(select(func.count()).select_from(grants)) == 40
    assert "Demo tokens for tenant acme-ventures" in capsys.readouterr().out
    async with services.db.reader() as conn:
        placed = (await conn.execute(select(job_matches.c.tenant_id).where(job_matches.c.status == "PLACED"))).all()
        assert {row.tenant_id for row in placed} == {"acme-ventures", "nordic-green"}
        assert (
            await conn.scalar(select(func.count()).select_from(placement_feedback)) == 4
        )  # two organisations × (member and organisation at DAY_30); DAY_90 is left for the README
        assert await conn.scalar(select(func.count()).select_from(jobs)) == 5
