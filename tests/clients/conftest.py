"""Fixtures for tests that drive a live server with third-party clients (gql, Node's graphql-ws and Apollo)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx
import pytest
from sqlalchemy import func, select

from graphql_app.context import AppServices
from graphql_app.db.models import computations
from graphql_app.services.computation_records import GRANT_FANOUT
from tests.api.factories import create_company, create_grants, grant_input
from tests.conftest import GraphQLClient, LiveServer, token_for


@pytest.fixture
def admin_token() -> str:
    return token_for("tenant-a", ("ORG_ADMIN",))


@pytest.fixture
async def server(live_server) -> AsyncIterator[LiveServer]:
    async with live_server() as server:
        yield server


@pytest.fixture
async def company_id(server: LiveServer, admin_token: str, services: AppServices) -> str:
    """A company of tenant-a with five open grants to match, created through the live server's API. Where the
    grant fan-out is on, the grants' fan-out has finished before the company exists (so it raises no alert for it
    that a test would then find waiting)."""
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        platform = GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))
        await create_grants(platform, [grant_input(f"Clean energy call {i}") for i in range(5)])
        await _fanouts_finished(services)
        return (await create_company(GraphQLClient(http, admin_token)))["id"]


async def _fanouts_finished(services: AppServices, timeout: float = 30) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    pending = select(func.count()).where(
        computations.c.kind == GRANT_FANOUT, computations.c.status.in_(("QUEUED", "RUNNING"))
    )
    while True:
        async with services.db.reader() as conn:
            if not (await conn.execute(pending)).scalar_one():
                return
        assert asyncio.get_running_loop().time() < deadline, "the grants' fan-out did not finish"
        await asyncio.sleep(0.05)


CALCULATE = "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id status } }"
FOLLOW = "subscription($id: ID!) { computation(id: $id) { id status progress resultCount } }"
COMPLETED = "subscription { computationCompleted { id kind status } }"


async def start_computation(server: LiveServer, token: str, company_id: str) -> str:
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        data = await GraphQLClient(http, token).data(CALCULATE, {"c": company_id})
    assert data["calculateGrantMatches"]["status"] == "QUEUED"
    return data["calculateGrantMatches"]["id"]
