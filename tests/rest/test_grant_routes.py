"""Contract tests of the grant API's routes (`/api/grants`): each answers in the document's shape (the examples in
tests/rest/examples.py) with the values GraphQL gives for the same objects."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx

from graphql_app.app import create_app
from graphql_app.services.computation_admin import cancel_computation, list_computations
from tests.api.factories import create_company
from tests.conftest import GraphQLClient, token_for
from tests.rest.conftest import RestClient, assert_shape
from tests.rest.examples import GRANT_MATCH_LIST, GRANT_MATCH_RESPONSE, REALTIME_MATCHES

#: REST key → GraphQL field of a stored match.
MATCH_FIELDS = {
    "id": "id",
    "score": "score",
    "rule_score": "ruleScore",
    "semantic_score": "semanticScore",
    "recency_score": "recencyScore",
    "collaborative_score": "collaborativeScore",
    "carbon_score": "carbonScore",
    "match_reasons": "matchReasons",
    "score_breakdown": "scoreBreakdown",
    "is_viewed": "isViewed",
    "is_saved": "isSaved",
    "is_dismissed": "isDismissed",
}
GRAPHQL_MATCH = (
    " ".join(MATCH_FIELDS.values()) + " createdAt company { id } grant { id title deadline isCarbonFocused }"
)
LIVE_FIELDS = {
    key: value for key, value in MATCH_FIELDS.items() if key not in ("id", "is_viewed", "is_saved", "is_dismissed")
}


def assert_same_match(rest: dict, graphql: dict) -> None:
    for key, field in MATCH_FIELDS.items():
        assert rest[key] == graphql[field], key
    assert rest["company_id"] == graphql["company"]["id"]
    assert rest["grant_id"] == rest["grant"]["id"] == graphql["grant"]["id"]
    assert rest["grant"]["title"] == graphql["grant"]["title"]
    assert rest["grant"]["is_carbon_focused"] == graphql["grant"]["isCarbonFocused"]
    assert rest["created_at"].replace("Z", "+00:00") == graphql["createdAt"]
    assert rest["grant"]["deadline"].replace("Z", "+00:00") == graphql["grant"]["deadline"]


async def graphql_matches(client, company_id: str | None = None, **arguments) -> dict:
    data = await client.data(
        f"""query($c: ID, $s: GrantMatchStatus, $m: Float, $first: Int!) {{
          grantMatches(companyId: $c, status: $s, minScore: $m, first: $first) {{
            totalCount edges {{ node {{ {GRAPHQL_MATCH} }} }} }} }}""",
        {"c": company_id, "s": arguments.get("status"), "m": arguments.get("min_score"), "first": 100},
    )
    return data["grantMatches"]


async def test_list_matches_in_the_documents_shape_with_graphqls_values(rest_admin, as_admin, grant_world):
    body = await rest_admin.ok("GET", "/api/grants/matches", params={"company_id": grant_world.company_id})
    assert_shape(GRANT_MATCH_LIST, body)
    for item in body["items"]:
        assert_shape(GRANT_MATCH_RESPONSE, item)
    expected = await graphql_matches(as_admin, grant_world.company_id)
    assert body["total"] == expected["totalCount"] == 3
    assert (body["page"], body["page_size"]) == (1, 20)
    assert [item["id"] for item in body["items"]] == [edge["node"]["id"] for edge in expected["edges"]]
    for item, edge in zip(body["items"], expected["edges"], strict=True):
        assert_same_match(item, edge["node"])
    # Without company_id: the whole tenant.
    tenant = await rest_admin.ok("GET", "/api/grants/matches")
    assert tenant["total"] == 3


async def test_list_matches_pages_and_filters(rest_admin, as_admin, grant_world):
    expected = [edge["node"]["id"] for edge in (await graphql_matches(as_admin, grant_world.company_id))["edges"]]
    pages = []
    for page in (1, 2, 3):
        body = await rest_admin.ok("GET", "/api/grants/matches", params={"page": page, "page_size": 1})
        assert (body["total"], body["page"], body["page_size"]) == (3, page, 1)
        pages += [item["id"] for item in body["items"]]
    assert pages == expected
    past_the_end = await rest_admin.ok("GET", "/api/grants/matches", params={"page": 3, "page_size": 2})
    assert past_the_end["items"] == [] and past_the_end["total"] == 3
    far = await rest_admin.ok("GET", "/api/grants/matches", params={"page": 40, "page_size": 100})
    assert far["items"] == [] and far["total"] == 3

    await as_admin.data(
        "mutation($id: ID!) { applyGrantMatchAction(matchId: $id, action: DISMISS) { id } }", {"id": expected[0]}
    )
    dismissed = await rest_admin.ok("GET", "/api/grants/matches", params={"status": "dismissed"})
    assert [item["id"] for item in dismissed["items"]] == [expected[0]]
    active = await rest_admin.ok("GET", "/api/grants/matches", params={"status": "active"})
    assert [item["id"] for item in active["items"]] == expected[1:]
    threshold = sorted(item["score"] for item in (await rest_admin.ok("GET", "/api/grants/matches"))["items"])[1]
    above = await rest_admin.ok("GET", "/api/grants/matches", params={"min_score": threshold})
    graphql_above = await graphql_matches(as_admin, min_score=threshold)
    assert [item["id"] for item in above["items"]] == [edge["node"]["id"] for edge in graphql_above["edges"]]
    assert above["total"] == graphql_above["totalCount"] == 2

    # Out of range, as GraphQL decides it (`first`), named as the REST parameter.
    error = await rest_admin.error("GET", "/api/grants/matches", 400, params={"page_size": 101})
    assert error["code"] == "BAD_USER_INPUT" and error["details"]["field"] == "page_size"
    error = await rest_admin.error("GET", "/api/grants/matches", 400, params={"status": "SAVED"})
    assert error["code"] == "BAD_USER_INPUT" and error["details"]["field"] == "status"
    assert (await rest_admin.error("GET", "/api/grants/matches", 400, params={"page": 0}))["details"]["field"] == "page"
    assert (await rest_admin.error("GET", "/api/grants/matches", 400, params={"min_score": 2}))[
        "code"
    ] == "BAD_USER_INPUT"
    assert (await rest_admin.error("GET", "/api/grants/matches", 400, params={"page": 102, "page_size": 100}))[
        "details"
    ]["field"] == "page"


async def test_calculate_answers_once_the_matches_are_stored(rest_admin, as_admin, grant_world):
    body = await rest_admin.ok("POST", "/api/grants/matches/calculate", json={"company_id": grant_world.company_id})
    assert set(body) == {"task_id", "status", "company_id", "matches_count"}
    computation = (
        await as_admin.data(
            "query($id: ID!) { computation(id: $id) { status kind resultCount subjectId } }", {"id": body["task_id"]}
        )
    )["computation"]
    assert computation == {
        "status": "SUCCEEDED",
        "kind": "GRANT_MATCHES",
        "resultCount": 3,
        "subjectId": grant_world.company_id,
    }
    assert body == {
        "task_id": body["task_id"],
        "status": "succeeded",
        "company_id": grant_world.company_id,
        "matches_count": 3,
    }
    error = await rest_admin.error("POST", "/api/grants/matches/calculate", 400, json={})
    assert error["details"]["field"] == "company_id"
    assert (await rest_admin.error("POST", "/api/grants/matches/calculate", 400, content=b"{"))["code"] == "BAD_REQUEST"


async def test_calculate_answers_504_with_the_task_when_it_does_not_finish_in_time(services):
    """No worker runs here (this test does not use the `http` fixture, whose worker would), so the computation
    stays queued past the (short) wait."""
    settings = dataclasses.replace(services.settings, rest_calculate_timeout_seconds=0.3)
    app = create_app(services=dataclasses.replace(services, settings=settings))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://idle.test") as http:
        token = token_for("tenant-a", ("ORG_USER",))
        company = await create_company(GraphQLClient(http, token))
        error = await RestClient(http, token).error(
            "POST", "/api/grants/matches/calculate", 504, json={"company_id": company["id"]}
        )
        assert error["code"] == "TIMEOUT" and error["details"]["status"] == "queued"
        computation = await GraphQLClient(http, token).data(
            "query($id: ID!) { computation(id: $id) { status subjectId } }", {"id": error["details"]["task_id"]}
        )
        assert computation["computation"] == {"status": "QUEUED", "subjectId": company["id"]}


async def test_calculate_answers_409_when_an_operator_cancels_the_computation(services):
    """No worker runs here: the computation waits in the queue until the operator cancels it, and the waiting
    request answers at once rather than at its timeout."""
    app = create_app(services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://idle.test") as http:
        token = token_for("tenant-a", ("ORG_USER",))
        company = await create_company(GraphQLClient(http, token))
        request = asyncio.create_task(
            RestClient(http, token).error(
                "POST", "/api/grants/matches/calculate", 409, json={"company_id": company["id"]}
            )
        )
        queued = []
        while not queued:
            await asyncio.sleep(0.05)
            queued = await list_computations(services.db, statuses=("QUEUED",))
        await cancel_computation(services.db, queued[0].id)
        error = await asyncio.wait_for(request, 30)
        assert error["code"] == "COMPUTATION_CANCELLED" and error["details"]["task_id"] == str(queued[0].id)


async def test_stats(rest_admin, as_admin, grant_world):
    await as_admin.data(
        "mutation($id: ID!) { applyGrantMatchAction(matchId: $id, action: SAVE) { id } }",
        {"id": grant_world.match_ids[0]},
    )
    fields = "total saved dismissed viewed averageScore topScore histogram { lower upper count }"
    for params in ({"company_id": grant_world.company_id}, {}):
        body = await rest_admin.ok("GET", "/api/grants/matches/stats", params=params)
        expected = (
            await as_admin.data(
                f"query($c: ID) {{ grantMatchStats(companyId: $c) {{ {fields} }} }}", {"c": params.get("company_id")}
            )
        )["grantMatchStats"]
        assert body == {
            "company_id": params.get("company_id"),
            "total": expected["total"],
            "saved": expected["saved"],
            "dismissed": expected["dismissed"],
            "viewed": expected["viewed"],
            "average_score": expected["averageScore"],
            "top_score": expected["topScore"],
            "histogram": expected["histogram"],
        }
        assert (body["total"], body["saved"]) == (3, 1)


async def test_get_one_match(rest_admin, as_admin, grant_world):
    match_id = grant_world.match_ids[1]
    body = await rest_admin.ok("GET", f"/api/grants/matches/match/{match_id}")
    assert_shape(GRANT_MATCH_RESPONSE, body)
    expected = await as_admin.data(f"query($id: ID!) {{ grantMatch(id: $id) {{ {GRAPHQL_MATCH} }} }}", {"id": match_id})
    assert_same_match(body, expected["grantMatch"])
    assert body["grant"]["currency"] == "EUR" and body["grant"]["taxonomy_objectives"] == ["climate_change_mitigation"]
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await rest_admin.error("GET", f"/api/grants/matches/match/{missing}", 404))["code"] == "NOT_FOUND"
    assert (await rest_admin.error("GET", "/api/grants/matches/match/not-a-uuid", 400))["code"] == "BAD_USER_INPUT"


async def test_match_actions(rest_admin, as_admin, grant_world):
    path = f"/api/grants/matches/match/{grant_world.match_ids[0]}/action"
    flags = "query($id: ID!) { grantMatch(id: $id) { isSaved isDismissed } }"
    for action, saved, dismissed in (("save", True, False), ("dismiss", False, True), ("restore", False, False)):
        body = await rest_admin.ok("PATCH", path, json={"action": action})
        assert_shape(GRANT_MATCH_RESPONSE, body)
        assert (body["is_saved"], body["is_dismissed"]) == (saved, dismissed)
        assert (await as_admin.data(flags, {"id": grant_world.match_ids[0]}))["grantMatch"] == {
            "isSaved": saved,
            "isDismissed": dismissed,
        }
    error = await rest_admin.error("PATCH", path, 400, json={"action": "archive"})
    assert error["code"] == "BAD_USER_INPUT" and error["details"]["field"] == "action"
    assert (await rest_admin.error("PATCH", path, 400, json={}))["details"]["field"] == "action"
    assert (await rest_admin.error("PATCH", path, 400, json=["save"]))["code"] == "BAD_REQUEST"


async def test_realtime_matches(rest_admin, as_admin, grant_world):
    path = f"/api/grants/matches/{grant_world.company_id}"
    body = await rest_admin.ok("GET", path)
    assert_shape(REALTIME_MATCHES, body)
    assert set(body) == {"items", "total", "company_id"} and body["company_id"] == grant_world.company_id
    expected = (
        await as_admin.data(
            f"""query($c: ID!) {{ liveGrantMatches(companyId: $c, first: 100) {{ totalCount
                edges {{ node {{ {" ".join(LIVE_FIELDS.values())} grant {{ id title isCarbonFocused }} }} }} }} }}""",
            {"c": grant_world.company_id},
        )
    )["liveGrantMatches"]
    assert body["total"] == expected["totalCount"] == 3
    for item, edge in zip(body["items"], expected["edges"], strict=True):
        for key, field in LIVE_FIELDS.items():
            assert item[key] == edge["node"][field], key
        assert item["grant"]["id"] == edge["node"]["grant"]["id"]
        assert item["grant"]["is_carbon_focused"] == edge["node"]["grant"]["isCarbonFocused"]
    second = await rest_admin.ok("GET", path, params={"page": 2, "page_size": 2})
    assert [item["grant"]["id"] for item in second["items"]] == [expected["edges"][2]["node"]["grant"]["id"]]
    best = max(item["score"] for item in body["items"])
    assert (await rest_admin.ok("GET", path, params={"min_score": best}))["total"] == 1


async def test_company_matches(rest_admin, as_admin, grant_world):
    await as_admin.data(
        "mutation($id: ID!) { applyGrantMatchAction(matchId: $id, action: DISMISS) { id } }",
        {"id": grant_world.match_ids[2]},
    )
    body = await rest_admin.ok("GET", f"/api/grants/matches/{grant_world.company_id}/saved", params={"page_size": 2})
    assert_shape(GRANT_MATCH_LIST, body)
    expected = await graphql_matches(as_admin, grant_world.company_id)
    assert body["total"] == 3 and body["page_size"] == 2
    for item, edge in zip(body["items"], expected["edges"][:2], strict=True):
        assert_same_match(item, edge["node"])
    rest = await rest_admin.ok(
        "GET", f"/api/grants/matches/{grant_world.company_id}/saved", params={"page": 2, "page_size": 2}
    )
    assert [item["id"] for item in rest["items"]] == [expected["edges"][2]["node"]["id"]]


async def test_refresh(rest_admin, as_admin, grant_world):
    path = f"/api/grants/matches/{grant_world.company_id}/refresh"
    body = await rest_admin.ok("POST", path, params={"save_results": "false", "limit": 2})
    assert set(body) == {"items", "total", "company_id", "saved", "candidate_count"}
    assert (body["total"], body["saved"], body["candidate_count"], body["company_id"]) == (
        2,
        False,
        3,
        grant_world.company_id,
    )
    assert_shape(REALTIME_MATCHES["items"][0], body["items"][0])
    live = (
        await as_admin.data(
            "query($c: ID!) { liveGrantMatches(companyId: $c, first: 2) { edges { node { score grant { id } } } } }",
            {"c": grant_world.company_id},
        )
    )["liveGrantMatches"]["edges"]
    assert [(item["grant"]["id"], item["score"]) for item in body["items"]] == [
        (edge["node"]["grant"]["id"], edge["node"]["score"]) for edge in live
    ]
    saved = await rest_admin.ok("POST", path)
    assert saved["saved"] is True and saved["total"] == 3
    assert (await rest_admin.error("POST", path, 400, params={"limit": 0}))["details"]["field"] == "limit"
    assert (await rest_admin.error("POST", path, 400, params={"save_results": "maybe"}))["details"][
        "field"
    ] == "save_results"


async def test_view_save_and_dismiss_by_company_and_grant(rest_admin, as_admin, grant_world):
    grant_id = grant_world.grant_ids[0]
    base = f"/api/grants/matches/{grant_world.company_id}/{grant_id}"
    flags = """query($c: ID!) { grantMatches(companyId: $c) { edges { node { grant { id } isViewed isSaved isDismissed } } } }"""

    async def graphql_flags() -> dict:
        edges = (await as_admin.data(flags, {"c": grant_world.company_id}))["grantMatches"]["edges"]
        return next(edge["node"] for edge in edges if edge["node"]["grant"]["id"] == grant_id)

    response = await rest_admin.request("PATCH", f"{base}/view")
    assert response.status_code == 204 and response.content == b""
    assert (await graphql_flags())["isViewed"] is True

    body = await rest_admin.ok("PATCH", f"{base}/save")
    assert_shape(GRANT_MATCH_RESPONSE, body)
    assert (body["is_saved"], body["grant_id"]) == (True, grant_id)
    assert (await graphql_flags())["isSaved"] is True
    body = await rest_admin.ok("PATCH", f"{base}/dismiss")
    assert (body["is_saved"], body["is_dismissed"]) == (False, True)
    body = await rest_admin.ok("PATCH", f"{base}/dismiss", params={"dismissed": "false"})
    assert body["is_dismissed"] is False
    body = await rest_admin.ok("PATCH", f"{base}/save", params={"saved": "true"})
    body = await rest_admin.ok("PATCH", f"{base}/save", params={"saved": "false"})
    assert (await graphql_flags()) == {
        "grant": {"id": grant_id},
        "isViewed": True,
        "isSaved": False,
        "isDismissed": False,
    }

    unknown_grant = "00000000-0000-4000-8000-000000000000"
    for action in ("view", "save", "dismiss"):
        error = await rest_admin.error(
            "PATCH", f"/api/grants/matches/{grant_world.company_id}/{unknown_grant}/{action}", 404
        )
        assert error["code"] == "NOT_FOUND"
