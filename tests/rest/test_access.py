"""Authentication, roles and tenancy on every REST route, as the GraphQL API decides them: no token 401, another
tenant's (or an invisible) object 404, a role that may not act 403 — and the objects left unchanged."""

from __future__ import annotations

import uuid

import pytest

from graphql_app.rest.routes import ROUTES
from tests.conftest import token_for
from tests.rest.conftest import GrantWorld, RestClient, TalentWorld


def route_requests(grants: GrantWorld, talent: TalentWorld) -> dict[str, tuple[str, str, dict]]:
    """One valid request per route (by operation id), on tenant-a's objects."""
    company, grant, match = grants.company_id, grants.grant_ids[0], grants.match_ids[0]
    job_match = talent.match_id
    return {
        "listMatches": ("GET", "/api/grants/matches", {"params": {"company_id": company}}),
        "calculateMatches": ("POST", "/api/grants/matches/calculate", {"json": {"company_id": company}}),
        "matchStats": ("GET", "/api/grants/matches/stats", {"params": {"company_id": company}}),
        "getMatch": ("GET", f"/api/grants/matches/match/{match}", {}),
        "applyMatchAction": ("PATCH", f"/api/grants/matches/match/{match}/action", {"json": {"action": "save"}}),
        "realtimeMatches": ("GET", f"/api/grants/matches/{company}", {}),
        "companyMatches": ("GET", f"/api/grants/matches/{company}/saved", {}),
        "refreshMatches": ("POST", f"/api/grants/matches/{company}/refresh", {}),
        "markMatchViewed": ("PATCH", f"/api/grants/matches/{company}/{grant}/view", {}),
        "setMatchSaved": ("PATCH", f"/api/grants/matches/{company}/{grant}/save", {}),
        "setMatchDismissed": ("PATCH", f"/api/grants/matches/{company}/{grant}/dismiss", {}),
        "computeMatches": ("POST", "/api/talent/matches/compute", {"params": {"job_id": talent.job_id}}),
        "jobMatches": ("GET", f"/api/talent/matches/job/{talent.job_id}", {}),
        "memberMatches": ("GET", f"/api/talent/matches/member/{talent.member_id}", {}),
        "getJobMatch": ("GET", f"/api/talent/matches/{job_match}", {}),
        "getMatchExplanation": ("GET", f"/api/talent/matches/{job_match}/explanation", {}),
        "submitFeedback": (
            "POST",
            f"/api/talent/matches/{job_match}/feedback",
            {"json": {"stage": "day_30", "rating": 3}},
        ),
        "listFeedback": ("GET", f"/api/talent/matches/{job_match}/feedback", {}),
        "recordOutcome": ("POST", f"/api/talent/matches/{job_match}/outcome", {"json": {"outcome": "hired"}}),
        "updateMatchStatus": ("PUT", f"/api/talent/matches/{job_match}/status", {"json": {"status": "org_interested"}}),
    }


#: Routes whose GraphQL field refuses a role with FORBIDDEN (tenant-a's token of that role). The others let any
#: authenticated caller ask and answer 404 for what the caller may not see (a member's or job's existence is not
#: revealed): a stranger member gets 404 there, checked below.
WRONG_ROLE = {
    **{route.operation_id: ("MEMBER",) for route in ROUTES if route.api.tag == "grants"},
    "updateMatchStatus": ("ORG_USER",),
    "recordOutcome": ("ORG_USER",),
    "submitFeedback": ("PLATFORM_ADMIN",),
}


def test_every_route_has_an_access_case():
    assert {route.operation_id for route in ROUTES} == set(
        route_requests(GrantWorld("c", ["g"], ["m"]), TalentWorld("o", "j", "m", "t", "x"))
    )


@pytest.fixture
async def worlds(grant_world, talent_world):
    return grant_world, talent_world


async def test_no_token_or_a_bad_one_is_401_on_every_route(http, worlds):
    requests = route_requests(*worlds)
    expired = token_for("tenant-a", ("ORG_ADMIN",), ttl_seconds=-60)
    for operation_id, (method, path, kwargs) in requests.items():
        for client in (RestClient(http, None), RestClient(http, expired), RestClient(http, "not.a.jwt")):
            response = await client.request(method, path, **kwargs)
            assert response.status_code == 401, (operation_id, response.text)
            assert response.json()["error"]["code"] == "UNAUTHENTICATED", operation_id
            assert response.headers["www-authenticate"] == "Bearer"


async def test_another_tenant_gets_404_on_every_route_and_changes_nothing(http, rest_admin, worlds):
    grants, talent = worlds
    before_match = await rest_admin.ok("GET", f"/api/grants/matches/match/{grants.match_ids[0]}")
    before_job_match = await rest_admin.ok("GET", f"/api/talent/matches/{talent.match_id}")
    outsider = RestClient(http, token_for("tenant-b", ("ORG_ADMIN",)))
    stranger = RestClient(http, token_for("members", ("MEMBER",), member_id=str(uuid.uuid4())))
    for operation_id, (method, path, kwargs) in route_requests(grants, talent).items():
        if operation_id == "memberMatches":  # organisations list their own matches with a member: none here
            assert (await outsider.ok(method, path, **kwargs))["total"] == 0
            assert (await stranger.error(method, path, 404, **kwargs))["code"] == "NOT_FOUND"
            continue
        error = await outsider.error(method, path, 404, **kwargs)
        assert error["code"] == "NOT_FOUND", operation_id
        if operation_id not in WRONG_ROLE:
            assert (await stranger.error(method, path, 404, **kwargs))["code"] == "NOT_FOUND", operation_id
    assert await rest_admin.ok("GET", f"/api/grants/matches/match/{grants.match_ids[0]}") == before_match
    assert await rest_admin.ok("GET", f"/api/talent/matches/{talent.match_id}") == before_job_match
    # The other tenant's own lists do not show tenant-a's matches.
    assert (await outsider.ok("GET", "/api/grants/matches"))["total"] == 0
    assert (await outsider.ok("GET", "/api/grants/matches/stats"))["total"] == 0


async def test_a_role_that_may_not_act_gets_403(http, rest_admin, worlds):
    grants, talent = worlds
    requests = route_requests(grants, talent)
    for operation_id, roles in WRONG_ROLE.items():
        method, path, kwargs = requests[operation_id]
        tenant = "platform" if roles == ("PLATFORM_ADMIN",) else "tenant-a"
        client = RestClient(http, token_for(tenant, roles, member_id=str(uuid.uuid4())))
        error = await client.error(method, path, 403, **kwargs)
        assert error["code"] == "FORBIDDEN", operation_id
    assert (await rest_admin.ok("GET", f"/api/talent/matches/{talent.match_id}"))["match_status"] == "pending_review"
    assert (await rest_admin.ok("GET", f"/api/grants/matches/match/{grants.match_ids[0]}"))["is_saved"] is False
