"""The talent reads on compiled plans answer exactly like the resolvers: job and member match lists with their
member, job, organisation, tiers, levels, explanation, feedback and outcome; single jobs, members, matches; the
jobs list; the organisation — for the organisation, its members and platform admins, in one statement."""

from __future__ import annotations

import uuid

import pytest

from graphql_app.compiled import talent_fields
from tests.api.talent_factories import compute, create_member, create_organisation_and_job
from tests.api.test_compiled_queries import (
    ADMIN_A,
    PLATFORM,
    USER_A,
    assert_same,
)
from tests.conftest import GraphQLClient, token_for

ORGANISATION_ALL = """__typename id tenantId name values cultureStatement teamSkills modelVersion createdAt updatedAt
  teamTraitNorms { __typename trait mean tolerance }"""
JOB_ALL = f"""__typename id title description isOpen createdAt updatedAt
  requiredSkills {{ skill weight }} desiredTraits {{ __typename trait value }} organisation {{ {ORGANISATION_ALL} }}"""
MEMBER_ALL = """__typename id displayName headline bio skills values profileCompleteness createdAt updatedAt
  traits { trait value }"""
MATCH_ALL = f"""__typename id createdAt updatedAt qualityTier status memberInterest modelVersion
  belongingLevels {{ __typename authenticity acceptance complementarity }}
  member {{ {MEMBER_ALL} }} job {{ {JOB_ALL} }} organisation {{ id name }}
  explanation {{ __typename
    ... on MatchExplanation {{ topStrengths growthAreas confidenceStatement summaryText generatedAt
                              belongingBreakdown {{ authenticity acceptance complementarity }} }}
    ... on ExplanationPending {{ computation {{ id status }} }} }}
  feedback {{ __typename id stage respondent rating comments submittedAt }}
  outcome {{ __typename outcome startDate endDate notes recordedAt }}"""

JOB_PAGE = f"""
query JobPage($j: ID!, $first: Int!, $after: String, $quality: QualityTier, $status: JobMatchStatus) {{
  jobMatches(jobId: $j, first: $first, after: $after, quality: $quality, status: $status) {{
    __typename totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ __typename cursor node {{ {MATCH_ALL} }} }}
  }}
}}"""

MEMBER_PAGE = f"""
query MemberPage($m: ID!, $first: Int!, $status: JobMatchStatus) {{
  memberMatches(memberId: $m, first: $first, status: $status) {{
    totalCount pageInfo {{ hasNextPage endCursor }} edges {{ cursor node {{ {MATCH_ALL} }} }}
  }}
}}"""

SINGLES = f"""
query Singles($j: ID!, $m: ID!, $match: ID!) {{
  job(id: $j) {{ {JOB_ALL} matches(first: 2) {{ totalCount edges {{ node {{ id qualityTier }} }} }} }}
  member(id: $m) {{ {MEMBER_ALL} matches(first: 3) {{ totalCount edges {{ cursor node {{ id status job {{ title }} }} }} }} }}
  jobMatch(id: $match) {{ {MATCH_ALL} }}
  organisation {{ {ORGANISATION_ALL} }}
}}"""

JOBS = f"""
query Jobs($first: Int!, $after: String, $closed: Boolean!) {{
  jobs(first: $first, after: $after, includeClosed: $closed) {{
    totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ cursor node {{ {JOB_ALL} matches(first: 2, quality: null, status: PENDING_REVIEW) {{ totalCount }} }} }}
  }}
}}"""

ADMIN_NUMBERS = """
query Numbers($j: ID!) {
  jobMatches(jobId: $j, first: 3) { edges { node { id scores { probability authenticity acceptance
    complementarity weights } organisation { belongingWeights modelVersion } } } }
}"""


@pytest.fixture
async def talent(http, as_admin) -> dict:
    """An organisation with two jobs (one closed later), five members, matches in several states, an outcome,
    feedback; and another tenant's organisation and job."""
    _, job = await create_organisation_and_job(as_admin)
    second = (
        await as_admin.data(
            'mutation { createJob(input: {title: "Data Engineer", requiredSkills: [{skill: "sql", weight: 3}]}) '
            "{ id title } }"
        )
    )["createJob"]
    people = [
        await create_member(http, f"Member {i}", skills=["python", "c++", "ros", "sql"][: i + 1]) for i in range(5)
    ]
    await compute(as_admin, job_id=job["id"])
    await compute(as_admin, job_id=second["id"])
    other_admin = GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    _, other_job = await create_organisation_and_job(other_admin, title="Elsewhere")
    await compute(other_admin, job_id=other_job["id"])
    page = await as_admin.data(
        "query($j: ID!) { jobMatches(jobId: $j, first: 10) { edges { node { id member { id } } } } }", {"j": job["id"]}
    )
    matches = [edge["node"] for edge in page["jobMatches"]["edges"]]
    move = "mutation($m: ID!, $s: JobMatchStatus!) { updateJobMatchStatus(matchId: $m, status: $s) { id } }"
    for status in ("ORG_INTERESTED", "INTERVIEWING", "OFFERED", "PLACED"):
        await as_admin.data(move, {"m": matches[0]["id"], "s": status})
    await as_admin.data(move, {"m": matches[1]["id"], "s": "ORG_DECLINED"})
    await as_admin.data(
        'mutation($m: ID!) { recordPlacementOutcome(matchId: $m, input: {outcome: RETAINED, startDate: "2026-01-02",'
        ' notes: "Going well"}) { id } }',
        {"m": matches[0]["id"]},
    )
    await as_admin.data(
        'mutation($m: ID!) { submitPlacementFeedback(matchId: $m, input: {stage: DAY_30, rating: 4, comments: "Good"})'
        " { id } }",
        {"m": matches[0]["id"]},
    )
    member_by_id = {person["id"]: client for person, client in people}
    placed_member = matches[0]["member"]["id"]
    await member_by_id[placed_member].data(
        "mutation($m: ID!) { setMatchInterest(matchId: $m, interest: INTERESTED) { id } }", {"m": matches[0]["id"]}
    )
    await as_admin.data("mutation($j: ID!) { updateJob(id: $j, input: {isOpen: false}) { id } }", {"j": second["id"]})
    return {
        "job": job,
        "closed_job": second,
        "other_job": other_job,
        "matches": matches,
        "placed_member": placed_member,
        "member_token": member_by_id[placed_member].token,
        "other_member": next(p["id"] for p, _ in people if p["id"] != placed_member),
    }


async def test_the_organisations_page_and_its_filters(two_apps, talent):
    job = talent["job"]["id"]
    for token in (ADMIN_A, USER_A, PLATFORM):
        for variables in (
            {"j": job, "first": 20},
            {"j": job, "first": 2},
            {"j": job, "first": 5, "status": "PLACED"},
            {"j": job, "first": 5, "status": "PENDING_REVIEW"},
            {"j": job, "first": 5, "quality": "STRONG"},
            {"j": job, "first": 5, "quality": "DEVELOPING", "status": "ORG_DECLINED"},
            {"j": talent["closed_job"]["id"], "first": 20},
        ):
            body = await assert_same(two_apps, token, JOB_PAGE, variables, compiled=True)
            assert not body.get("errors"), body
    placed = await assert_same(two_apps, ADMIN_A, JOB_PAGE, {"j": job, "first": 5, "status": "PLACED"}, compiled=True)
    node = placed["data"]["jobMatches"]["edges"][0]["node"]
    assert node["outcome"]["outcome"] == "RETAINED" and node["feedback"][0]["stage"] == "DAY_30"
    assert node["memberInterest"] == "INTERESTED" and node["explanation"]["__typename"] == "MatchExplanation"


async def test_cursor_pages_walk_the_same_list(two_apps, talent):
    variables = {"j": talent["job"]["id"], "first": 2}
    seen = []
    while True:
        body = await assert_same(two_apps, ADMIN_A, JOB_PAGE, variables, compiled=True)
        connection = body["data"]["jobMatches"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == connection["totalCount"] == 5
    last = {**variables, "first": 3, "after": connection["pageInfo"]["endCursor"]}
    past = await assert_same(two_apps, ADMIN_A, JOB_PAGE, last, compiled=True)
    assert past["data"]["jobMatches"]["edges"] == [] and past["data"]["jobMatches"]["totalCount"] == 5


async def test_a_members_view_and_single_objects(two_apps, talent):
    member = talent["placed_member"]
    for token in (talent["member_token"], ADMIN_A, PLATFORM):
        for status in (None, "PLACED", "PENDING_REVIEW"):
            body = await assert_same(
                two_apps, token, MEMBER_PAGE, {"m": member, "first": 10, "status": status}, compiled=True
            )
            assert not body.get("errors"), body
    singles = {"j": talent["job"]["id"], "m": member, "match": talent["matches"][0]["id"]}
    for token in (ADMIN_A, USER_A):
        body = await assert_same(two_apps, token, SINGLES, singles, compiled=True)
        assert body["data"]["member"]["matches"]["totalCount"] >= 1
    # The member: their own profile and match; an open job; their organisation account has no organisation.
    await assert_same(two_apps, talent["member_token"], SINGLES, singles, compiled=False)


async def test_the_jobs_list(two_apps, talent):
    for token in (ADMIN_A, PLATFORM, talent["member_token"]):
        for closed in (False, True):
            variables = {"first": 2, "closed": closed}
            while True:
                body = await assert_same(two_apps, token, JOBS, variables, compiled=True)
                page = body["data"]["jobs"]
                if not page["pageInfo"]["hasNextPage"]:
                    break
                variables["after"] = page["pageInfo"]["endCursor"]
    own_first = await assert_same(two_apps, ADMIN_A, JOBS, {"first": 10, "closed": True}, compiled=True)
    titles = [edge["node"]["title"] for edge in own_first["data"]["jobs"]["edges"]]
    assert titles[-1] == "Elsewhere" and "Data Engineer" in titles  # the organisation's own (closed too) first


async def test_numbers_are_for_platform_admins(two_apps, talent):
    job = talent["job"]["id"]
    numbers = await assert_same(two_apps, PLATFORM, ADMIN_NUMBERS, {"j": job}, compiled=True)
    assert numbers["data"]["jobMatches"]["edges"][0]["node"]["scores"]["weights"]
    refused = await assert_same(two_apps, ADMIN_A, ADMIN_NUMBERS, {"j": job}, compiled=False)
    assert {e["extensions"]["code"] for e in refused["errors"]} == {"FORBIDDEN"}


async def test_other_tenants_members_and_missing_rows_are_the_resolvers_answer(two_apps, talent):
    other_member = token_for("members", ("MEMBER",), member_id=talent["other_member"])
    cases = [
        (ADMIN_A, JOB_PAGE, {"j": talent["other_job"]["id"], "first": 5}),  # another organisation's job
        (talent["member_token"], JOB_PAGE, {"j": talent["job"]["id"], "first": 5}),  # members do not list a job
        (ADMIN_A, JOB_PAGE, {"j": str(uuid.uuid4()), "first": 5}),
        (ADMIN_A, JOB_PAGE, {"j": talent["job"]["id"], "first": 0}),
        (ADMIN_A, JOB_PAGE, {"j": talent["job"]["id"], "first": 5, "after": "garbage"}),
        (other_member, MEMBER_PAGE, {"m": talent["placed_member"], "first": 5}),  # someone else's matches
        (
            token_for("tenant-b", ("ORG_ADMIN",)),
            SINGLES,
            {"j": talent["job"]["id"], "m": talent["placed_member"], "match": talent["matches"][0]["id"]},
        ),
    ]
    for token, query, variables in cases:
        body = await assert_same(two_apps, token, query, variables, compiled=False)
        assert body["errors"], body
    # A closed job is NOT_FOUND to a member, found by its organisation.
    closed_job = "query($j: ID!) { job(id: $j) { id title } }"
    body = await assert_same(
        two_apps, talent["member_token"], closed_job, {"j": talent["closed_job"]["id"]}, compiled=False
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    body = await assert_same(two_apps, ADMIN_A, closed_job, {"j": talent["closed_job"]["id"]}, compiled=True)
    assert body["data"]["job"]["title"] == "Data Engineer"


def test_every_talent_field_mapped_is_compared_here():
    asked = {
        word.split("(")[0]
        for word in (JOB_PAGE + MEMBER_PAGE + SINGLES + JOBS + ADMIN_NUMBERS).replace("{", " ").split()
    }
    for mapping in (*talent_fields.OBJECT_FIELDS.values(), talent_fields.QUERY_FIELDS):
        assert set(mapping) <= asked, set(mapping) - asked
