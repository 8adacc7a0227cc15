"""/metrics after a few requests: operations by name, type, execution path and error code, response-cache hits,
computations by kind and final state, event fan-out, queue and pool gauges; client operation names are capped;
the optional bearer token."""

from __future__ import annotations

import asyncio

import httpx

from tests.api.factories import calculate, create_company, create_grants, grant_input
from tests.conftest import GraphQLClient, token_for
from tests.ops.conftest import sample
from tests.ws.conftest import TransportWsClient

PAGE = """query CompanyMatches($companyId: ID!) {
  grantMatches(companyId: $companyId, status: ACTIVE, first: 20) {
    totalCount edges { node { id score grant { id title } company { id name } } }
  }
}"""
COMPLETED = "subscription { computationCompleted { id status } }"


def delta(before: str, after: str, name: str, **labels: str) -> float:
    return (sample(after, name, **labels) or 0.0) - (sample(before, name, **labels) or 0.0)


async def test_metrics_count_operations_paths_codes_cache_hits_computations_and_fanout(live_server):
    admin_token = token_for("tenant-a", ("ORG_ADMIN",))
    async with (
        live_server(response_cache=True, metrics_operation_names=5) as server,
        httpx.AsyncClient(base_url=server.url) as http,
    ):
        admin = GraphQLClient(http, admin_token)
        platform = GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))
        before = (await http.get("/metrics")).text
        await create_grants(platform, [grant_input("Solar Boost"), grant_input("Wind Retrofit")])
        company = await create_company(admin)
        async with TransportWsClient(server.ws_url, admin_token) as subscriber:
            await subscriber.subscribe("done", COMPLETED)
            await asyncio.sleep(0.3)  # the subscription listens before the computation starts
            computation = await calculate(admin, company["id"])
            assert computation["status"] == "SUCCEEDED"
            heard = await subscriber.next_for("done")
            assert heard["payload"]["data"]["computationCompleted"]["id"] == computation["id"]
        first = await admin.data(PAGE, {"companyId": company["id"]})
        assert await admin.data(PAGE, {"companyId": company["id"]}) == first  # from the response cache
        missing = 'query Broken { computation(id: "00000000-0000-0000-0000-000000000000") { id } }'
        assert await admin.error_code(missing) == "NOT_FOUND"
        for i in range(10):  # more distinct names than the cap (5)
            await admin.data(f"query Flood{i} {{ me {{ subject }} }}")
        after = (await http.get("/metrics")).text

    requests = "matchgraph_graphql_requests_total"
    page = {"operation": "CompanyMatches", "type": "query"}
    assert delta(before, after, requests, **page, path="compiled", code="OK") == 1
    assert delta(before, after, requests, **page, path="cache", code="OK") == 1
    assert delta(before, after, "matchgraph_graphql_request_duration_seconds_count", **page, path="compiled") == 1
    assert delta(before, after, requests, operation="Broken", type="query", code="NOT_FOUND") == 1
    assert delta(before, after, requests, operation="anonymous", type="mutation", path="resolvers", code="OK") >= 3
    assert delta(before, after, "matchgraph_response_cache_lookups_total", result="hit") >= 1
    assert delta(before, after, "matchgraph_computations_total", kind="GRANT_MATCHES", status="SUCCEEDED") == 1
    assert delta(before, after, "matchgraph_computation_duration_seconds_count", kind="GRANT_MATCHES") == 1
    assert delta(before, after, "matchgraph_event_fanout_seconds_count") >= 1
    # Operation names are capped: the first names a process sees are labels, later ones "other".
    assert sample(after, requests, operation="Flood9") is None
    assert delta(before, after, requests, operation="other", type="query") >= 5
    # Read at scrape: the queue (empty again) and this process's pools.
    assert sample(after, "matchgraph_queue_jobs", status="queued") == 0
    assert sample(after, "matchgraph_queue_oldest_queued_job_age_seconds") == 0
    assert sample(after, "matchgraph_db_pool_connections", pool="api_resolvers", state="idle") >= 1
    assert sample(after, "matchgraph_db_pool_connections", pool="api_plans", state="in_use") == 0
    assert sample(after, "matchgraph_embedding_model_loaded") == 1


async def test_a_queued_job_shows_in_the_queue_gauges(services):
    import dataclasses

    from graphql_app.app import create_app

    app = create_app(dataclasses.replace(services.settings, run_worker=False), services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        admin = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",)))
        company = await create_company(admin)
        await admin.data("mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id } }", {"c": company["id"]})
        scraped = (await http.get("/metrics")).text
    assert sample(scraped, "matchgraph_queue_jobs", status="queued") == 1
    assert sample(scraped, "matchgraph_queue_oldest_queued_job_age_seconds") >= 0


async def test_metrics_can_require_a_bearer_token_or_be_switched_off(live_server):
    async with live_server(metrics_token="scrape-secret") as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/metrics")).status_code == 401
        assert (await http.get("/metrics", headers={"Authorization": "Bearer wrong"})).status_code == 401
        allowed = await http.get("/metrics", headers={"Authorization": "Bearer scrape-secret"})
        assert allowed.status_code == 200 and "matchgraph_graphql_requests_total" in allowed.text
    async with live_server(metrics=False) as server, httpx.AsyncClient(base_url=server.url) as http:
        assert (await http.get("/metrics")).status_code == 404
