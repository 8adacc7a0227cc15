"""The opt-in response cache never serves a stale or another caller's answer."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
import httpx
import pytest

from graphql_app.db.engine import count_statements
from graphql_app.jobs.events import ComputationEventHub
from tests.api.factories import calculate, create_company, create_grants, grant_input
from tests.conftest import GraphQLClient, token_for

PAGE = "query($c: ID) { grantMatches(companyId: $c) { totalCount edges { node { id isSaved score } } } }"


@pytest.fixture
async def cached(services, worker):
    """The app with the response cache on and its event hub listening (as the lifespan wires them)."""
    from graphql_app.app import create_app

    services.settings = dataclasses.replace(services.settings, response_cache=True)
    app = create_app(services=services)
    services.events = ComputationEventHub(services.db.asyncpg_dsn)
    await services.events.start()
    services.events.on_change(app.state.response_cache.invalidate)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        yield client, app.state.response_cache
    await services.events.stop()


async def test_repeated_queries_are_served_without_sql_and_per_caller(cached):
    http, cache = cached
    admin = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",), subject="alice"))
    platform = GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))
    await create_grants(platform, [grant_input("Call")])
    company = await create_company(admin)
    await calculate(admin, company["id"])
    first = await admin.data(PAGE, {"c": company["id"]})
    with count_statements() as log:
        again = await admin.data(PAGE, {"c": company["id"]})
    assert again == first and log.count == 0 and cache.hits >= 1
    # Another tenant asking the very same operation gets its own answer (NOT_FOUND for this company).
    other = GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    assert await other.error_code(PAGE, {"c": company["id"]}) == "NOT_FOUND"
    assert (await other.data("{ grantMatchStats { total } }"))["grantMatchStats"]["total"] == 0
    assert (await admin.data("{ grantMatchStats { total } }"))["grantMatchStats"]["total"] == 1
    # Another user of the same tenant does not get alice's `me`.
    bob = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",), subject="bob"))
    assert (await admin.data("{ me { subject } }"))["me"]["subject"] == "alice"
    assert (await bob.data("{ me { subject } }"))["me"]["subject"] == "bob"


async def test_mutations_and_finished_computations_invalidate(cached):
    http, _cache = cached
    admin = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",)))
    platform = GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))
    await create_grants(platform, [grant_input("Call")])
    company = await create_company(admin)
    assert (await admin.data(PAGE, {"c": company["id"]}))["grantMatches"]["totalCount"] == 0  # cached now
    await calculate(admin, company["id"])  # the worker's commit + NOTIFY invalidates (polling sees it too)
    page = (await admin.data(PAGE, {"c": company["id"]}))["grantMatches"]
    assert page["totalCount"] == 1
    match = page["edges"][0]["node"]
    await admin.data(
        "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: SAVE) { id } }", {"m": match["id"]}
    )
    assert (await admin.data(PAGE, {"c": company["id"]}))["grantMatches"]["edges"][0]["node"]["isSaved"] is True


async def test_a_change_announced_by_another_process_invalidates(cached, pg_socket_dir, database_name):
    http, _cache = cached
    admin = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",)))
    platform = GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))
    await create_grants(platform, [grant_input("Call")])
    company = await create_company(admin)
    await calculate(admin, company["id"])
    before = (await admin.data(PAGE, {"c": company["id"]}))["grantMatches"]["edges"][0]["node"]
    assert before["isSaved"] is False
    other_process = await asyncpg.connect(user="postgres", host=pg_socket_dir, database=database_name)
    try:
        async with other_process.transaction():
            await other_process.execute("UPDATE grant_matches SET is_saved = true")
            await other_process.execute("SELECT pg_notify('matchgraph_changes', '')")
    finally:
        await other_process.close()
    for _ in range(50):
        node = (await admin.data(PAGE, {"c": company["id"]}))["grantMatches"]["edges"][0]["node"]
        if node["isSaved"]:
            break
        await asyncio.sleep(0.02)
    assert node["isSaved"] is True


async def test_mutations_without_a_valid_token_do_not_empty_the_cache(cached):
    http, cache = cached
    admin = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",)))
    company = await create_company(admin)
    # The company's creation reaches the cache a second time through NOTIFY, a moment later: wait until the
    # page stays cached, so only what follows can empty it.
    for _ in range(100):
        await admin.data(PAGE, {"c": company["id"]})
        with count_statements() as log:
            await admin.data(PAGE, {"c": company["id"]})
        if log.count == 0:
            break
        await asyncio.sleep(0.02)
    version = cache.version
    mutation = (
        'mutation { applyGrantMatchAction(matchId: "00000000-0000-0000-0000-000000000000", action: SAVE) { id } }'
    )
    for client in (GraphQLClient(http, None), GraphQLClient(http, "not-a-token")):
        assert await client.error_code(mutation) == "UNAUTHENTICATED"
    assert cache.version == version
    with count_statements() as log:
        await admin.data(PAGE, {"c": company["id"]})
    assert log.count == 0  # still served from the cache
