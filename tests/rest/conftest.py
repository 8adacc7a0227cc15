"""Fixtures of the REST adapter tests: a REST client per principal, and the data of both APIs built through the
GraphQL API (so the REST answers can be compared with GraphQL's for the same objects)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.api.factories import calculate, create_company, create_grants, deadline_in, grant_input
from tests.api.talent_factories import compute, create_member, create_organisation_and_job
from tests.conftest import GraphQLClient, token_for


class RestClient:
    """Sends REST requests as one principal (no token: anonymous)."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return await self.http.request(method, path, headers=headers, **kwargs)

    async def ok(self, method: str, path: str, status: int = 200, **kwargs: Any) -> Any:
        """The JSON body of an answer that must have ``status``."""
        response = await self.request(method, path, **kwargs)
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    async def error(self, method: str, path: str, status: int, **kwargs: Any) -> dict[str, Any]:
        """The error of an answer that must have ``status`` (checked against the envelope)."""
        response = await self.request(method, path, **kwargs)
        assert response.status_code == status, (response.status_code, response.text)
        body = response.json()
        assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}, body
        return body["error"]


@pytest.fixture
def rest_admin(http) -> RestClient:
    """ORG_ADMIN of tenant-a (the tenant of ``as_admin``)."""
    return RestClient(http, token_for("tenant-a", ("ORG_ADMIN",)))


@dataclass
class GrantWorld:
    company_id: str
    grant_ids: list[str]
    match_ids: list[str]


@pytest.fixture
async def grant_world(as_admin: GraphQLClient, as_platform_admin: GraphQLClient) -> GrantWorld:
    """Three open grants and one of tenant-a's companies with its matches calculated and stored."""
    grants = await create_grants(
        as_platform_admin,
        [
            grant_input("Green Innovation Fund", isCarbonFocused=True, deadline=deadline_in(30)),
            grant_input("Solar Retrofit Programme", countries=["DE", "AT"], deadline=deadline_in(120)),
            grant_input(
                "SME Energy Efficiency Call", deadline=deadline_in(200), carbonCategories=["energy_efficiency"]
            ),
        ],
    )
    company = await create_company(as_admin)
    done = await calculate(as_admin, company["id"])
    assert done["status"] == "SUCCEEDED", done
    data = await as_admin.data(
        "query($c: ID!) { grantMatches(companyId: $c, first: 100) { edges { node { id } } } }", {"c": company["id"]}
    )
    match_ids = [edge["node"]["id"] for edge in data["grantMatches"]["edges"]]
    assert len(match_ids) == 3
    return GrantWorld(company["id"], [grant["id"] for grant in grants], match_ids)


@dataclass
class TalentWorld:
    org_id: str
    job_id: str
    member_id: str
    member_token: str
    match_id: str


@pytest.fixture
async def talent_world(http, as_admin: GraphQLClient) -> TalentWorld:
    """tenant-a's organisation and job, a member, and their match."""
    org, job = await create_organisation_and_job(as_admin)
    member, member_client = await create_member(http, "Ada Member", skills=["python", "c++", "ros"])
    await compute(as_admin, job_id=job["id"])
    data = await as_admin.data("query($j: ID!) { jobMatches(jobId: $j) { edges { node { id } } } }", {"j": job["id"]})
    match_id = data["jobMatches"]["edges"][0]["node"]["id"]
    return TalentWorld(org["id"], job["id"], member["id"], member_client.token, match_id)


UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
UTC_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
LOWER_WORD = re.compile(r"^[a-z][a-z0-9_]*$")


def assert_shape(example: Any, actual: Any, where: str = "$") -> None:
    """``actual`` has the example's shape: every key of the example (at any depth), values of the same JSON type,
    UUIDs where the example has UUIDs, UTC timestamps spelled with ``Z`` where it has them, lower-case words where
    it has lower-case words (enum values)."""
    if isinstance(example, dict):
        assert isinstance(actual, dict), f"{where}: {actual!r} is not an object"
        missing = set(example) - set(actual)
        assert not missing, f"{where}: keys {sorted(missing)} missing from {sorted(actual)}"
        for key, value in example.items():
            assert_shape(value, actual[key], f"{where}.{key}")
    elif isinstance(example, list):
        assert isinstance(actual, list), f"{where}: {actual!r} is not an array"
        if example:
            assert actual, f"{where}: empty, the example has items"
            for index, item in enumerate(actual):
                assert_shape(example[0], item, f"{where}[{index}]")
    elif isinstance(example, bool):
        assert isinstance(actual, bool), f"{where}: {actual!r} is not a boolean"
    elif isinstance(example, int):
        assert isinstance(actual, int) and not isinstance(actual, bool), f"{where}: {actual!r} is not an integer"
    elif isinstance(example, float):
        assert isinstance(actual, int | float) and not isinstance(actual, bool), f"{where}: {actual!r} not a number"
    elif isinstance(example, str):
        assert isinstance(actual, str), f"{where}: {actual!r} is not a string"
        for pattern in (UUID, UTC_TIMESTAMP, LOWER_WORD):
            if pattern.match(example):
                assert pattern.match(actual), f"{where}: {actual!r} does not look like {example!r}"
    else:
        raise AssertionError(f"{where}: unexpected example value {example!r}")
