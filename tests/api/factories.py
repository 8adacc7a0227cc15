"""Building test data through the public API (so embeddings and validation run for real)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from tests.conftest import TEST_NOW, GraphQLClient

GRANT_FIELDS = "id title countries naceCodes sizes isCarbonFocused deadline daysLeft isOpen"
COMPANY_FIELDS = "id name country size naceCodes carbonCategories certifications taxonomyObjectives"


def deadline_in(days: float, now: datetime = TEST_NOW) -> str:
    return (now + timedelta(days=days)).isoformat()


def grant_input(title: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "title": title,
        "description": f"{title}: funding for renewable energy and energy efficiency projects of European SMEs.",
        "funder": "European Innovation Council",
        "countries": [],
        "naceCodes": [],
        "sizes": [],
        "carbonCategories": ["renewable_energy"],
        "certifications": [],
        "taxonomyObjectives": ["CLIMATE_CHANGE_MITIGATION"],
        "isCarbonFocused": False,
        "deadline": deadline_in(90),
        "amountMin": 50000,
        "amountMax": 250000,
        "currency": "EUR",
        "url": "https://example.eu/call",
    }
    base.update(overrides)
    return base


def company_input(name: str, **overrides: Any) -> dict[str, Any]:
    base = {
        "name": name,
        "country": "DE",
        "employees": 35,
        "naceCodes": ["M71.12"],
        "description": "Engineering consultancy planning solar parks and energy-efficient building retrofits.",
        "carbonCategories": ["renewable_energy", "energy_efficiency"],
        "certifications": ["ISO_14001"],
        "taxonomyObjectives": ["CLIMATE_CHANGE_MITIGATION"],
    }
    base.update(overrides)
    return base


async def create_grants(admin: GraphQLClient, inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    data = await admin.data(
        f"mutation($inputs: [GrantInput!]!) {{ createGrants(inputs: $inputs) {{ {GRANT_FIELDS} }} }}",
        {"inputs": inputs},
    )
    return data["createGrants"]


async def create_company(client: GraphQLClient, **fields: Any) -> dict[str, Any]:
    name = fields.pop("name", "Solar Engineering GmbH")
    data = await client.data(
        f"mutation($input: CompanyInput!) {{ createCompany(input: $input) {{ {COMPANY_FIELDS} }} }}",
        {"input": company_input(name, **fields)},
    )
    return data["createCompany"]


COMPUTATION_FIELDS = "id kind status progress resultCount totalCount error subjectId attempts"


async def calculate(client: GraphQLClient, company_id: str) -> dict[str, Any]:
    """Start a grant-match computation and wait (polling the API) until the worker has finished it."""
    data = await client.data(
        f"mutation($id: ID!) {{ calculateGrantMatches(companyId: $id) {{ {COMPUTATION_FIELDS} }} }}",
        {"id": company_id},
    )
    started = data["calculateGrantMatches"]
    assert started["status"] == "QUEUED", started
    return await wait_for_computation(client, started["id"])


async def wait_for_computation(client: GraphQLClient, computation_id: str, timeout: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        data = await client.data(
            f"query($id: ID!) {{ computation(id: $id) {{ {COMPUTATION_FIELDS} }} }}", {"id": computation_id}
        )
        if data["computation"]["status"] in ("SUCCEEDED", "FAILED"):
            return data["computation"]
        assert asyncio.get_running_loop().time() < deadline, f"computation still {data['computation']['status']}"
        await asyncio.sleep(0.05)
