"""Subscriptions and queries through Python's `gql` client, as a Python integration would use it.

Both WebSocket protocols (`graphql-transport-ws` and the legacy `graphql-ws`), and a raw socket that checks
every frame the server sends is a text frame (binary frames break graphql-ws, Apollo, urql, Relay and gql).
"""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

from tests.clients.conftest import FOLLOW, start_computation
from tests.conftest import token_for

PROTOCOLS = [WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL, WebsocketsTransport.APOLLO_SUBPROTOCOL]


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_gql_follows_a_computation_to_the_end(server, admin_token, company_id, protocol):
    computation_id = await start_computation(server, admin_token, company_id)
    transport = WebsocketsTransport(
        url=server.ws_url, init_payload={"Authorization": f"Bearer {admin_token}"}, subprotocols=[protocol]
    )
    async with Client(transport=transport) as session:
        states = [
            result["computation"]
            async for result in session.subscribe(gql(FOLLOW), variable_values={"id": computation_id})
        ]
    # Current state first, every change after it, and the subscription completes after the terminal state.
    assert states[0]["id"] == computation_id
    assert states[-1]["status"] == "SUCCEEDED" and states[-1]["resultCount"] == 5


async def test_gql_is_refused_without_a_valid_token(server):
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload={"Authorization": "Bearer not-a-token"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    with pytest.raises(Exception) as refused:
        async with Client(transport=transport) as session:
            await session.execute(gql("{ me { subject } }"))
    closed = _cause_of_type(refused.value, websockets.ConnectionClosed)
    assert closed is not None and closed.rcvd.code == 4403, repr(refused.value)


async def test_gql_legacy_protocol_is_refused_without_a_valid_token(server):
    transport = WebsocketsTransport(
        url=server.ws_url,
        init_payload={"Authorization": "Bearer not-a-token"},
        subprotocols=[WebsocketsTransport.APOLLO_SUBPROTOCOL],
    )
    with pytest.raises(Exception) as refused:
        async with Client(transport=transport) as session:
            await session.execute(gql("{ me { subject } }"))
    assert "malformed" in str(refused.value) or "4403" in repr(_cause_of_type(refused.value, Exception))


def _cause_of_type(error: BaseException | None, kind: type) -> BaseException | None:
    seen = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, kind):
            return error
        seen.add(id(error))
        error = error.__cause__ or error.__context__
    return None


async def test_gql_over_http(server, admin_token):
    transport = HTTPXAsyncTransport(url=server.graphql_url, headers={"Authorization": f"Bearer {admin_token}"})
    async with Client(transport=transport) as session:
        result = await session.execute(gql("{ me { tenantId roles } }"))
    assert result == {"me": {"tenantId": "tenant-a", "roles": ["ORG_ADMIN"]}}


@pytest.mark.parametrize("protocol", ["graphql-transport-ws", "graphql-ws"])
async def test_every_websocket_frame_is_text(server, admin_token, company_id, protocol):
    computation_id = await start_computation(server, admin_token, company_id)
    frames: list[str | bytes] = []
    start = "subscribe" if protocol == "graphql-transport-ws" else "start"
    async with websockets.connect(server.ws_url, subprotocols=[protocol]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {admin_token}"}}))
        frames.append(await asyncio.wait_for(ws.recv(), 10))
        payload = {"query": FOLLOW, "variables": {"id": computation_id}}
        await ws.send(json.dumps({"id": "1", "type": start, "payload": payload}))
        while True:
            frame = await asyncio.wait_for(ws.recv(), 20)
            frames.append(frame)
            if json.loads(frame)["type"] == "complete":
                break
        # An error message travels the same way.
        await ws.send(json.dumps({"id": "2", "type": start, "payload": {"query": "{ nope }"}}))
        frames.append(await asyncio.wait_for(ws.recv(), 10))
    binary = [frame for frame in frames if not isinstance(frame, str)]
    assert not binary, f"binary frames sent: {binary[:3]}"
    assert json.loads(frames[0])["type"] == "connection_ack"
    assert json.loads(frames[-1])["type"] in ("error", "data", "next")


async def test_a_token_of_another_tenant_cannot_follow_the_computation(server, admin_token, company_id):
    computation_id = await start_computation(server, admin_token, company_id)
    other = token_for("tenant-b", ("ORG_ADMIN",))
    transport = WebsocketsTransport(url=server.ws_url, init_payload={"Authorization": f"Bearer {other}"})
    async with Client(transport=transport) as session:
        with pytest.raises(Exception) as refused:
            async for _ in session.subscribe(gql(FOLLOW), variable_values={"id": computation_id}):
                pass
    assert "not found" in str(refused.value).lower()
