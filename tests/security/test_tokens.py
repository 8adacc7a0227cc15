"""Tokens: claims are type-checked strictly, a connection lives no longer than its token, and computations are
tenant-scoped before anything else."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import jwt
import pytest
import websockets

from tests.clients.conftest import CALCULATE
from tests.conftest import JWT_SECRET, GraphQLClient, token_for


def signed(**claims) -> str:
    base = {"sub": "someone", "tenant_id": "tenant-a", "roles": ["ORG_USER"], "exp": int(time.time()) + 600}
    return jwt.encode({**base, **claims}, JWT_SECRET, algorithm="HS256")


@pytest.mark.parametrize(
    "claims",
    [
        {"roles": {"ORG_USER": True, "PLATFORM_ADMIN": False}},
        {"roles": 5},
        {"roles": "PLATFORM_ADMIN"},
        {"roles": ["ORG_USER", 7]},
        {"roles": ["ROOT"]},
        {"sub": 42},
        {"sub": ""},
        {"tenant_id": ["tenant-a", "tenant-b"]},
        {"member_id": 12345},
        {"member_id": "not-a-uuid"},
    ],
    ids=lambda claims: json.dumps(claims),
)
async def test_malformed_claims_are_unauthenticated(http, claims):
    response = await http.post(
        "/graphql", json={"query": "{ me { roles } }"}, headers={"Authorization": f"Bearer {signed(**claims)}"}
    )
    assert response.status_code == 200
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_a_websocket_is_closed_when_its_token_expires(live_server):
    token = signed(exp=int(time.time()) + 3)
    async with live_server() as server:
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(
                json.dumps(
                    {
                        "id": "1",
                        "type": "subscribe",
                        "payload": {"query": "subscription { computationCompleted { id } }"},
                    }
                )
            )
            with pytest.raises(websockets.ConnectionClosed) as closed:
                while True:
                    await asyncio.wait_for(ws.recv(), 15)
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "Token expired")


async def test_no_operation_runs_after_expiry(live_server):
    """Whether the expiry timer or the per-operation token check gets there first, nothing runs: 4403."""
    token = signed(exp=int(time.time()) + 3)
    async with live_server() as server:
        async with websockets.connect(server.ws_url, subprotocols=["graphql-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await asyncio.sleep(3.05)
            with pytest.raises(websockets.ConnectionClosed) as closed:
                start = {
                    "id": "1",
                    "type": "start",
                    "payload": {"query": "subscription { computationCompleted { id } }"},
                }
                await ws.send(json.dumps(start))
                while True:
                    message = json.loads(await asyncio.wait_for(ws.recv(), 15))
                    assert message["type"] == "ka", message  # never data for the expired token
        assert closed.value.rcvd.code == 4403


async def test_an_sse_stream_ends_when_its_token_expires(live_server):
    token = signed(exp=int(time.time()) + 3)
    async with (
        live_server() as server,
        httpx.AsyncClient(timeout=20) as http,
        http.stream(
            "POST",
            server.graphql_url,
            json={"query": "subscription { computationCompleted { id } }"},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as response,
    ):
        body = "".join([chunk async for chunk in response.aiter_text()])  # returns: the stream ended
    assert "event: complete" in body


async def test_the_same_subject_in_another_tenant_sees_no_computation(http, as_platform_admin):
    from tests.api.factories import create_company, create_grants, grant_input

    subject = "shared-subject@example.com"
    owner = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",), subject=subject))
    await create_grants(as_platform_admin, [grant_input("A call")])
    company = await create_company(owner)
    started = (await owner.data(CALCULATE, {"c": company["id"]}))["calculateGrantMatches"]
    for roles in (("ORG_ADMIN",), ("MEMBER",)):
        stranger = GraphQLClient(http, token_for("tenant-b", roles, subject=subject))
        code = await stranger.error_code("query($id: ID!) { computation(id: $id) { id } }", {"id": started["id"]})
        assert code == "NOT_FOUND"
    # A member of the same tenant sees only what they started; the organisation sees all of its tenant's.
    member = GraphQLClient(http, token_for("tenant-a", ("MEMBER",), subject="a-member"))
    assert (
        await member.error_code("query($id: ID!) { computation(id: $id) { id } }", {"id": started["id"]}) == "NOT_FOUND"
    )
    colleague = GraphQLClient(http, token_for("tenant-a", ("ORG_USER",)))
    assert (await colleague.data("query($id: ID!) { computation(id: $id) { id } }", {"id": started["id"]}))[
        "computation"
    ]
