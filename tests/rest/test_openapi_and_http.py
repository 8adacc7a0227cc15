"""The OpenAPI document and its page, unknown paths and methods under /api, and REST routes running on the GraphQL
view's own execution (compiled plans, limits)."""

from __future__ import annotations

import dataclasses
import re

import httpx

from graphql_app.app import create_app
from graphql_app.rest.routes import ROUTES
from tests.conftest import token_for
from tests.rest.conftest import RestClient


async def test_the_openapi_document_describes_every_route(http):
    response = await http.get("/api/openapi.json")
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    document = response.json()
    assert document["openapi"] == "3.1.0"
    described = {(path, method.upper()) for path, item in document["paths"].items() for method in item}
    assert described == {(route.full_path, route.method) for route in ROUTES}
    assert len(described) == 20
    list_matches = document["paths"]["/api/grants/matches"]["get"]
    assert [param["name"] for param in list_matches["parameters"]] == [
        "company_id",
        "status",
        "min_score",
        "page",
        "page_size",
    ]
    assert list_matches["parameters"][1]["schema"]["enum"] == ["active", "saved", "dismissed"]
    assert list_matches["parameters"][4]["schema"] == {
        "type": "integer",
        "default": 20,
        "minimum": 1,
        "maximum": 100,
        "description": "Items per page (1-100).",
    }
    assert "grantMatches(" in list_matches["x-graphql-documents"][0]
    match = document["components"]["schemas"]["MatchResponse"]
    assert {"id", "company_id", "grant_id", "score_breakdown", "is_viewed", "grant", "updated_at"} <= set(
        match["properties"]
    )
    talent_match = document["components"]["schemas"]["JobMatchResponse"]["properties"]
    assert talent_match["match_quality"]["enum"] == ["exceptional", "strong", "moderate", "developing"]
    status = document["paths"]["/api/talent/matches/{match_id}/status"]["put"]
    assert status["requestBody"]["content"]["application/json"]["schema"]["required"] == ["status"]
    assert set(status["responses"]) == {"200", "400", "401", "403", "404", "409"}
    assert set(document["paths"]["/api/talent/matches/{match_id}/explanation"]["get"]["responses"]) >= {"200", "202"}
    assert set(document["paths"]["/api/grants/matches/{company_id}/{grant_id}/view"]["patch"]["responses"]) >= {"204"}
    assert document["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


async def test_the_docs_page_is_served_without_any_cdn(http):
    page = await http.get("/api/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r"(src|href)=\"(https?:)?//", page.text), "every asset comes from this server"
    assert '"url": "/api/openapi.json"' in page.text
    assets = re.findall(r'(?:src|href)="(/api/docs-assets/[^"]+)"', page.text)
    assert any(path.endswith("swagger-ui-bundle.js") for path in assets)
    assert any(path.endswith("swagger-ui.css") for path in assets)
    for path in assets:
        asset = await http.get(path)
        assert asset.status_code == 200 and len(asset.content) > 100, path
        if "/vendor/" in path:
            assert "immutable" in asset.headers["cache-control"]
    bootstrap = (await http.get("/api/docs-assets/matchgraph-swagger-ui.js")).text
    assert "validatorUrl: null" in bootstrap


async def test_unknown_paths_and_methods_answer_the_error_envelope(http, rest_admin):
    error = await rest_admin.error("GET", "/api/grants/nothing-here", 404)
    assert error["code"] == "NOT_FOUND"
    response = await rest_admin.request("DELETE", "/api/talent/matches/00000000-0000-4000-8000-000000000000/status")
    assert response.status_code == 405 and response.headers["allow"] == "PUT"
    assert response.json()["error"]["code"] == "METHOD_NOT_ALLOWED"
    too_large = {"company_id": "x" * (4 * 1024 * 1024)}
    assert (await rest_admin.error("POST", "/api/grants/matches/calculate", 413, json=too_large))["code"] == (
        "PAYLOAD_TOO_LARGE"
    )
    # Literal paths are not captured by the parameterised ones.
    assert (await rest_admin.ok("GET", "/api/grants/matches/stats"))["company_id"] is None
    assert (await rest_admin.error("POST", "/api/grants/matches/calculate", 400, json={}))["details"] == {
        "field": "company_id"
    }


async def test_reads_run_on_compiled_plans_and_the_same_limits(services, worker, grant_world):
    """The app's compiled plans serve the REST reads they cover, as they serve `/graphql`; request limits and the
    rate limit of expensive operations apply the same (here a budget of 2 live computations a minute)."""
    settings = dataclasses.replace(services.settings, rate_limit="2/minute")
    app = create_app(settings, services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://plans.test") as http:
        client = RestClient(http, token_for("tenant-a", ("ORG_USER",)))
        served = app.state.compiled_queries.served
        page = await client.ok("GET", "/api/grants/matches", params={"company_id": grant_world.company_id})
        assert page["total"] == 3
        await client.ok("GET", f"/api/grants/matches/match/{grant_world.match_ids[0]}")
        assert app.state.compiled_queries.served == served + 2
        live = f"/api/grants/matches/{grant_world.company_id}"
        await client.ok("GET", live)
        await client.ok("GET", live)
        error = await client.error("GET", live, 429)
        assert error["code"] == "RATE_LIMITED"
        response = await client.request("GET", live)
        assert int(response.headers["retry-after"]) >= 1
