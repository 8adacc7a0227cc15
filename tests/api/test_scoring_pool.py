"""Live scoring in a worker process answers exactly as in-process scoring, errors included."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.factories import create_company, create_grants, grant_input
from tests.conftest import token_for

LIVE = """query($c: ID!, $first: Int!, $after: String) {
  liveGrantMatches(companyId: $c, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { score semanticScore ruleScore carbonScore collaborativeScore recencyScore
                          matchReasons scoreBreakdown grant { title } } }
  }
}"""


async def test_live_pages_from_the_scoring_process_equal_in_process_ones(
    live_server, services, as_platform_admin, as_admin, as_other_tenant
):
    grants = [grant_input(f"Call {i}", countries=["DE"] if i % 3 else []) for i in range(12)]
    await create_grants(as_platform_admin, grants)
    company = await create_company(as_admin)
    stranger = await create_company(as_other_tenant, name="Elsewhere AB", country="SE")
    first_page = {"c": company["id"], "first": 5, "after": None}
    requests = [first_page, {**first_page, "first": 50}]
    # In this process first (no pool yet), including the second page through the first page's cursor.
    assert services.scoring_pool is None
    expected = [await as_admin.execute(LIVE, variables) for variables in requests]
    after = expected[0]["data"]["liveGrantMatches"]["pageInfo"]["endCursor"]
    requests.append({**first_page, "after": after})
    expected.append(await as_admin.execute(LIVE, requests[-1]))
    assert expected[-1]["data"]["liveGrantMatches"]["pageInfo"]["hasPreviousPage"]
    assert all(not body.get("errors") for body in expected)

    token = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server(scoring_processes=1) as server, httpx.AsyncClient(timeout=60) as client:
        pool = services.scoring_pool
        assert pool is not None and pool.pages == 0

        async def pooled(variables: dict) -> dict:
            headers = {"Authorization": f"Bearer {token}"}
            response = await client.post(
                server.graphql_url, json={"query": LIVE, "variables": variables}, headers=headers
            )
            return response.json()

        for variables, in_process in zip(requests, expected, strict=True):
            assert await pooled(variables) == in_process
        assert pool.pages == len(requests)
        # The worker process's copy of the catalogue follows a grant created here, in another process.
        total = expected[1]["data"]["liveGrantMatches"]["totalCount"]
        await create_grants(as_platform_admin, [grant_input("Created after the copy")])
        grown = (await pooled(requests[1]))["data"]["liveGrantMatches"]
        assert grown["totalCount"] == total + 1
        assert "Created after the copy" in [e["node"]["grant"]["title"] for e in grown["edges"]]
        # Another tenant's company: NOT_FOUND, raised in the worker process, reaches the client as usual.
        refused = await pooled({"c": stranger["id"], "first": 5})
        assert refused["errors"][0]["extensions"]["code"] == "NOT_FOUND" and refused["data"] is None
    assert services.scoring_pool is None  # stopped with the app


async def test_a_scoring_process_that_dies_fails_its_requests_instead_of_hanging(live_server, services, as_admin):
    company = await create_company(as_admin)
    token = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server(scoring_processes=1) as server, httpx.AsyncClient(timeout=60) as client:

        async def pooled() -> dict:
            body = {"query": LIVE, "variables": {"c": company["id"], "first": 5}}
            response = await client.post(server.graphql_url, json=body, headers={"Authorization": f"Bearer {token}"})
            return response.json()

        assert not (await pooled()).get("errors")
        (worker,) = services.scoring_pool._workers
        worker.process.kill()
        worker.process.join(timeout=10)
        failed = await asyncio.wait_for(pooled(), timeout=30)
        assert failed["data"] is None and failed["errors"][0]["extensions"]["code"] == "INTERNAL_SERVER_ERROR"
