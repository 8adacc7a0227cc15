"""Contract tests of the talent API's routes (`/api/talent`): each answers in the document's shape (the examples in
tests/rest/examples.py) with the values GraphQL gives for the same objects."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from tests.api.factories import wait_for_computation
from tests.api.talent_factories import compute, create_member
from tests.conftest import GraphQLClient
from tests.rest.conftest import RestClient, assert_shape
from tests.rest.examples import TALENT_EXPLANATION, TALENT_MATCH

GRAPHQL_MATCH = (
    "id qualityTier status updatedAt createdAt memberInterest modelVersion member { id } job { id } "
    "organisation { id } belongingLevels { authenticity acceptance complementarity }"
)


def assert_same_match(rest: dict, graphql: dict) -> None:
    assert rest["id"] == graphql["id"]
    assert (rest["member_id"], rest["job_id"], rest["org_id"]) == (
        graphql["member"]["id"],
        graphql["job"]["id"],
        graphql["organisation"]["id"],
    )
    assert rest["match_quality"] == graphql["qualityTier"].lower()
    assert rest["match_status"] == graphql["status"].lower()
    assert rest["computed_at"].replace("Z", "+00:00") == graphql["updatedAt"]
    assert rest["created_at"].replace("Z", "+00:00") == graphql["createdAt"]
    assert rest["belonging_components"] == {key: value.lower() for key, value in graphql["belongingLevels"].items()}
    interest = graphql["memberInterest"]
    assert rest["member_interest"] == (interest.lower() if interest else None)
    assert rest["model_version"] == graphql["modelVersion"]


async def graphql_match(client: GraphQLClient, match_id: str) -> dict:
    return (await client.data(f"query($id: ID!) {{ jobMatch(id: $id) {{ {GRAPHQL_MATCH} }} }}", {"id": match_id}))[
        "jobMatch"
    ]


async def test_get_match(http, rest_admin, as_admin, talent_world):
    body = await rest_admin.ok("GET", f"/api/talent/matches/{talent_world.match_id}")
    assert_shape(TALENT_MATCH, body)
    assert body["match_status"] == "pending_review" and body["org_id"] == talent_world.org_id
    assert_same_match(body, await graphql_match(as_admin, talent_world.match_id))
    # The member sees their own match the same way.
    member = RestClient(http, talent_world.member_token)
    assert await member.ok("GET", f"/api/talent/matches/{talent_world.match_id}") == body
    missing = "00000000-0000-4000-8000-000000000000"
    assert (await rest_admin.error("GET", f"/api/talent/matches/{missing}", 404))["code"] == "NOT_FOUND"


async def test_explanation_ready_and_pending(services, rest_admin, as_admin, talent_world):
    path = f"/api/talent/matches/{talent_world.match_id}/explanation"
    body = await rest_admin.ok("GET", path)
    assert_shape(TALENT_EXPLANATION, body)
    expected = (
        await as_admin.data(
            """query($id: ID!) { jobMatch(id: $id) { explanation { ... on MatchExplanation {
                topStrengths growthAreas confidenceStatement summaryText generatedAt
                belongingBreakdown { authenticity acceptance complementarity } } } } }""",
            {"id": talent_world.match_id},
        )
    )["jobMatch"]["explanation"]
    assert body == {
        "match_id": talent_world.match_id,
        "top_strengths": expected["topStrengths"],
        "growth_areas": expected["growthAreas"],
        "belonging_breakdown": {key: value.lower() for key, value in expected["belongingBreakdown"].items()},
        "confidence_statement": expected["confidenceStatement"],
        "summary_text": expected["summaryText"],
        "generated_at": expected["generatedAt"].replace("+00:00", "Z"),
    }
    # A match stored without an explanation (by an older version): 202 with the computation writing it.
    async with services.db.transaction() as conn:
        await conn.execute(text("UPDATE job_matches SET explanation = NULL, explanation_generated_at = NULL"))
    pending = await rest_admin.ok("GET", path, status=202)
    assert set(pending) == {"match_id", "task_id", "status"} and pending["status"] in ("queued", "running")
    done = await wait_for_computation(as_admin, pending["task_id"])
    assert done["status"] == "SUCCEEDED" and done["kind"] == "MATCH_EXPLANATION"
    assert (await rest_admin.ok("GET", path))["summary_text"] == body["summary_text"]


async def test_status_outcome_and_feedback(http, rest_admin, as_admin, talent_world, clock):
    match_path = f"/api/talent/matches/{talent_world.match_id}"
    member = RestClient(http, talent_world.member_token)
    feedback = {"stage": "day_30", "rating": 4, "comments": "Settling in well."}
    assert (await member.error("POST", f"{match_path}/feedback", 409, json=feedback))[
        "code"
    ] == "CONFLICT"  # not placed

    for status in ("org_interested", "interviewing", "offered", "placed"):
        body = await rest_admin.ok("PUT", f"{match_path}/status", json={"status": status})
        assert_shape(TALENT_MATCH, body)
        assert body["match_status"] == status
        assert_same_match(body, await graphql_match(as_admin, talent_world.match_id))
    error = await rest_admin.error("PUT", f"{match_path}/status", 409, json={"status": "interviewing"})
    assert error["code"] == "CONFLICT" and error["details"]["current_status"] == "PLACED"
    assert (await rest_admin.error("PUT", f"{match_path}/status", 400, json={"status": "hired"}))["details"][
        "field"
    ] == "status"

    start = (clock.now() - timedelta(days=1)).date().isoformat()
    outcome = await rest_admin.ok(
        "POST", f"{match_path}/outcome", json={"outcome": "hired", "start_date": start, "notes": "Great hire"}
    )
    recorded = (
        await as_admin.data(
            "query($id: ID!) { jobMatch(id: $id) { status outcome { outcome startDate endDate notes recordedAt } } }",
            {"id": talent_world.match_id},
        )
    )["jobMatch"]
    assert outcome == {
        "match_id": talent_world.match_id,
        "match_status": "placed",
        "outcome": "hired",
        "start_date": recorded["outcome"]["startDate"],
        "end_date": None,
        "notes": "Great hire",
        "recorded_at": recorded["outcome"]["recordedAt"].replace("+00:00", "Z"),
    }
    assert recorded["outcome"]["startDate"] == start
    error = await rest_admin.error("POST", f"{match_path}/outcome", 400, json={"outcome": "hired", "start_date": 5})
    assert error["details"]["field"] == "start_date"

    assert (await member.error("POST", f"{match_path}/feedback", 400, json=feedback))["details"]["field"] == "stage"
    clock.set(clock.now() + timedelta(days=31))
    given = await member.ok("POST", f"{match_path}/feedback", status=201, json=feedback)
    assert given["respondent"] == "member" and given["stage"] == "day_30" and given["match_id"] == talent_world.match_id
    error = await member.error("POST", f"{match_path}/feedback", 409, json=feedback)
    assert error["code"] == "CONFLICT"
    org_given = await rest_admin.ok("POST", f"{match_path}/feedback", status=201, json={"stage": "day_30", "rating": 5})
    assert org_given["respondent"] == "organisation" and org_given["comments"] == ""
    assert (await member.error("POST", f"{match_path}/feedback", 400, json={"stage": "day_30"}))["details"][
        "field"
    ] == "rating"

    listed = await member.ok("GET", f"{match_path}/feedback")
    expected = (
        await as_admin.data(
            "query($id: ID!) { matchFeedback(matchId: $id) { id stage respondent rating comments submittedAt } }",
            {"id": talent_world.match_id},
        )
    )["matchFeedback"]
    assert listed["match_id"] == talent_world.match_id and listed["total"] == 2
    assert listed["items"] == [
        {
            "id": record["id"],
            "stage": record["stage"].lower(),
            "respondent": record["respondent"].lower(),
            "rating": record["rating"],
            "comments": record["comments"],
            "submitted_at": record["submittedAt"].replace("+00:00", "Z"),
        }
        for record in expected
    ]
    assert listed["items"][0] == {key: value for key, value in given.items() if key != "match_id"}


async def test_compute(rest_admin, as_admin, talent_world):
    body = await rest_admin.ok(
        "POST", "/api/talent/matches/compute", status=202, params={"job_id": talent_world.job_id}
    )
    assert body["kind"] == "job_matches" and body["status"] == "queued"
    assert (body["job_id"], body["member_id"]) == (talent_world.job_id, None)
    done = await wait_for_computation(as_admin, body["task_id"])
    assert done["status"] == "SUCCEEDED" and done["kind"] == "JOB_MATCHES" and done["subjectId"] == talent_world.job_id
    pair = await rest_admin.ok(
        "POST",
        "/api/talent/matches/compute",
        status=202,
        params={"job_id": talent_world.job_id, "member_id": talent_world.member_id},
    )
    assert pair["member_id"] == talent_world.member_id
    error = await rest_admin.error("POST", "/api/talent/matches/compute", 400)
    assert error["code"] == "BAD_USER_INPUT" and error["details"]["field"] == "job_id"


async def test_job_and_member_lists(http, rest_admin, as_admin, talent_world):
    await create_member(http, "Bo Member", skills=["python"])
    await compute(as_admin, job_id=talent_world.job_id)
    expected = (
        await as_admin.data(
            f"query($j: ID!) {{ jobMatches(jobId: $j) {{ totalCount edges {{ node {{ {GRAPHQL_MATCH} }} }} }} }}",
            {"j": talent_world.job_id},
        )
    )["jobMatches"]
    assert expected["totalCount"] == 2
    path = f"/api/talent/matches/job/{talent_world.job_id}"
    first = await rest_admin.ok("GET", path, params={"limit": 1})
    assert set(first) == {"items", "total", "next_cursor", "has_more"}
    assert (first["total"], first["has_more"]) == (2, True) and first["next_cursor"]
    second = await rest_admin.ok("GET", path, params={"limit": 1, "cursor": first["next_cursor"]})
    assert (second["has_more"], second["next_cursor"]) == (False, None)
    for item, edge in zip(first["items"] + second["items"], expected["edges"], strict=True):
        assert_shape(TALENT_MATCH, item)
        assert_same_match(item, edge["node"])
    tier = expected["edges"][0]["node"]["qualityTier"].lower()
    by_tier = await rest_admin.ok("GET", path, params={"quality": tier})
    assert by_tier["items"] and {item["match_quality"] for item in by_tier["items"]} == {tier}
    assert (await rest_admin.ok("GET", path, params={"status": "placed"}))["total"] == 0
    assert (await rest_admin.error("GET", path, 400, params={"cursor": "nonsense"}))["details"]["field"] == "cursor"
    assert (await rest_admin.error("GET", path, 400, params={"limit": 500}))["details"]["field"] == "limit"

    member = RestClient(http, talent_world.member_token)
    mine = await member.ok("GET", f"/api/talent/matches/member/{talent_world.member_id}")
    graphql_mine = (
        await GraphQLClient(http, talent_world.member_token).data(
            f"query($m: ID!) {{ memberMatches(memberId: $m) {{ totalCount edges {{ node {{ {GRAPHQL_MATCH} }} }} }} }}",
            {"m": talent_world.member_id},
        )
    )["memberMatches"]
    assert mine["total"] == graphql_mine["totalCount"] == 1 and mine["has_more"] is False
    assert_shape(TALENT_MATCH, mine["items"][0])
    assert_same_match(mine["items"][0], graphql_mine["edges"][0]["node"])
    as_org = await rest_admin.ok(
        "GET", f"/api/talent/matches/member/{talent_world.member_id}", params={"status": "pending_review"}
    )
    assert [item["id"] for item in as_org["items"]] == [talent_world.match_id]
