"""Building talent data through the API."""

from __future__ import annotations

import uuid
from typing import Any

from tests.api.factories import wait_for_computation
from tests.conftest import GraphQLClient, token_for

ORGANISATION = {
    "name": "Acme Robotics",
    "values": ["curiosity", "ownership", "kindness"],
    "cultureStatement": "We are a calm, collaborative team that solves hard robotics problems together.",
    "teamTraitNorms": [
        {"trait": "collaborative_orientation", "mean": 0.8, "tolerance": 0.2},
        {"trait": "pressure_response", "mean": 0.6, "tolerance": 0.2},
    ],
    "teamSkills": ["python", "ros"],
}
JOB = {
    "title": "Robotics Software Engineer",
    "description": "Build motion planning for warehouse robots.",
    "requiredSkills": [{"skill": "Python", "weight": 2}, {"skill": "C++", "weight": 1}, {"skill": "ROS", "weight": 1}],
    "desiredTraits": [
        {"trait": "pressure_response", "value": 0.7},
        {"trait": "strategic_thinking", "value": 0.8},
        {"trait": "collaborative_orientation", "value": 0.7},
    ],
}


def member_input(name: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "displayName": name,
        "headline": "Robotics engineer",
        "bio": "I enjoy calm, collaborative teams and hard robotics problems.",
        "skills": ["python", "c++"],
        "values": ["curiosity", "kindness"],
        "traits": [
            {"trait": "pressure_response", "value": 0.92},
            {"trait": "collaborative_orientation", "value": 0.8},
            {"trait": "strategic_thinking", "value": 0.5},
        ],
        "profileCompleteness": 0.9,
    }
    base.update(overrides)
    return base


async def create_organisation_and_job(org_admin: GraphQLClient, **job_overrides: Any) -> tuple[dict, dict]:
    org = (
        await org_admin.data(
            "mutation($i: OrganisationInput!) { createOrganisation(input: $i) { id name } }", {"i": ORGANISATION}
        )
    )["createOrganisation"]
    job = await create_job(org_admin, **job_overrides)
    return org, job


async def create_job(org_admin: GraphQLClient, **overrides: Any) -> dict:
    data = await org_admin.data(
        "mutation($i: JobInput!) { createJob(input: $i) { id title } }", {"i": {**JOB, **overrides}}
    )
    return data["createJob"]


async def create_member(http, name: str, **overrides: Any) -> tuple[dict, GraphQLClient]:
    """A member creates their own profile; returns it and a client acting as that member."""
    member_id = str(uuid.uuid4())
    client = GraphQLClient(http, token_for("members", ("MEMBER",), member_id=member_id))
    data = await client.data(
        "mutation($i: MemberInput!) { createMember(input: $i) { id displayName } }",
        {"i": member_input(name, **overrides)},
    )
    assert data["createMember"]["id"] == member_id
    return data["createMember"], client


async def compute(client: GraphQLClient, job_id: str | None = None, member_id: str | None = None) -> dict:
    data = await client.data(
        "mutation($j: ID, $m: ID) { computeJobMatches(jobId: $j, memberId: $m) { id status kind } }",
        {"j": job_id, "m": member_id},
    )
    started = data["computeJobMatches"]
    assert started["status"] == "QUEUED" and started["kind"] == "JOB_MATCHES"
    done = await wait_for_computation(client, started["id"])
    assert done["status"] == "SUCCEEDED", done
    return done


JOB_MATCHES = """
query($j: ID!, $q: QualityTier, $s: JobMatchStatus, $first: Int) {
  jobMatches(jobId: $j, quality: $q, status: $s, first: $first) {
    totalCount
    edges { node { id qualityTier status memberInterest modelVersion
                   belongingLevels { authenticity acceptance complementarity }
                   member { id displayName } job { id title } organisation { name } } }
  }
}"""
