"""One completion event, many subscribers: the broadcast path executes and encodes it once per audience and writes
each subscriber's frame itself; clients see exactly what they saw before."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid

import pytest
import websockets

from graphql_app.auth import TokenVerifier
from graphql_app.services.computation_records import set_computation_state, start_computation
from graphql_app.web import broadcast
from tests.conftest import token_for
from tests.ws.conftest import TransportWsClient

COMPLETED = "subscription { computationCompleted { id status subjectId resultCount } }"
WITH_FLAG = "subscription($full: Boolean!) { computationCompleted { id status error @include(if: $full) } }"


async def _finish_one(services, tenant: str) -> uuid.UUID:
    principal = TokenVerifier(services.settings).verify(token_for(tenant))
    record = await start_computation(services.db, principal, tenant, "GRANT_MATCHES", uuid.uuid4(), {})
    async with services.db.transaction() as conn:
        await set_computation_state(conn, record.id, status="SUCCEEDED", progress=1.0, result_count=7)
    return record.id


def _completed(message: dict) -> dict:
    return message["payload"]["data"]["computationCompleted"]


class _Clients:
    """Several connected graphql-transport-ws clients, closed on exit."""

    def __init__(self, url: str, tokens: list[str]) -> None:
        self.clients = [TransportWsClient(url, token) for token in tokens]

    async def __aenter__(self) -> list[TransportWsClient]:
        for client in self.clients:
            await client.__aenter__()
        return self.clients

    async def __aexit__(self, *exc: object) -> None:
        for client in self.clients:
            with contextlib.suppress(websockets.ConnectionClosed):  # one test aborts a socket itself
                await client.__aexit__(None, None, None)


async def test_one_event_is_broadcast_once_per_audience_to_every_subscriber(live_server, services):
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    async with (
        live_server() as server,
        _Clients(server.ws_url, [admin] * 4 + [token_for("tenant-b", ("ORG_ADMIN",))]) as clients,
    ):
        *same, flagged = clients[:4]
        other_tenant = clients[4]
        for number, client in enumerate(same):
            await client.subscribe(f"done-{number}", COMPLETED)
        await other_tenant.subscribe("done", COMPLETED)
        await flagged.subscribe("full", WITH_FLAG, {"full": True})
        await flagged.subscribe("lean", WITH_FLAG, {"full": False})
        await asyncio.sleep(0.3)  # the streams are live
        before = dict(broadcast.stats)
        first = await _finish_one(services, "tenant-a")
        second = await _finish_one(services, "tenant-a")

        for number, client in enumerate(same):
            messages = [await client.next_for(f"done-{number}") for _ in range(2)]
            assert [m["type"] for m in messages] == ["next", "next"]
            assert [m["id"] for m in messages] == [f"done-{number}"] * 2
            assert [_completed(m)["id"] for m in messages] == [str(first), str(second)]  # each once, in order
            assert _completed(messages[0]) == {
                "id": str(first),
                "status": "SUCCEEDED",
                "subjectId": _completed(messages[0])["subjectId"],
                "resultCount": 7,
            }
        full = _completed(await flagged.next_for("full"))
        lean = _completed(await flagged.next_for("lean"))
        assert full == {"id": str(first), "status": "SUCCEEDED", "error": None}
        assert lean == {"id": str(first), "status": "SUCCEEDED"}
        # Two events; three audiences see them (COMPLETED, full, lean: tenant-b's audience does not):
        # 3 + 1 + 1 frames written by the broadcast per event.
        assert broadcast.stats["audiences"] - before["audiences"] == 6
        assert broadcast.stats["frames"] - before["frames"] == 10
        with pytest.raises(TimeoutError):  # another tenant never hears of it
            await other_tenant.next_for("done", timeout=1)


async def test_a_completed_operation_and_a_closed_socket_get_nothing_and_stop_no_one_else(live_server, services):
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server() as server, _Clients(server.ws_url, [admin] * 3) as (keeps, unsubscribes, vanishes):
        for client in (keeps, unsubscribes, vanishes):
            await client.subscribe("done", COMPLETED)
        await unsubscribes.subscribe("other", COMPLETED)
        await asyncio.sleep(0.3)
        await unsubscribes.send({"id": "done", "type": "complete"})
        vanishes.ws.transport.abort()  # no closing handshake: the server learns of it when it writes
        await asyncio.sleep(0.2)
        finished = await _finish_one(services, "tenant-a")

        assert _completed(await keeps.next_for("done"))["id"] == str(finished)
        assert _completed(await unsubscribes.next_for("other"))["id"] == str(finished)
        with pytest.raises(TimeoutError):
            await unsubscribes.next_for("done", timeout=1)
        # The next event still reaches the live subscribers.
        again = await _finish_one(services, "tenant-a")
        assert _completed(await keeps.next_for("done"))["id"] == str(again)
        assert _completed(await unsubscribes.next_for("other"))["id"] == str(again)


async def test_with_tracing_every_event_takes_the_ordinary_path(live_server, services):
    """Tracing watches each WebSocket frame, so the broadcast writes none itself; clients see no difference."""
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server(tracing=True) as server, _Clients(server.ws_url, [admin] * 2) as clients:
        for client in clients:
            await client.subscribe("done", COMPLETED)
        await asyncio.sleep(0.3)
        before = dict(broadcast.stats)
        finished = await _finish_one(services, "tenant-a")
        for client in clients:
            message = await client.next_for("done")
            assert (message["type"], _completed(message)["id"]) == ("next", str(finished))
        assert broadcast.stats == before


async def test_a_socket_that_cannot_keep_up_gets_its_events_through_its_own_stream(live_server, services):
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server() as server, _Clients(server.ws_url, [admin] * 2) as (slow, fast):
        await slow.subscribe("slow", COMPLETED)
        await fast.subscribe("fast", COMPLETED)
        await asyncio.sleep(0.3)
        # The server-side protocol of the slow socket, paused as its transport pauses it when the buffer is full.
        targets = {
            member.target.prefix: member.target
            for broadcaster in services.events._matchgraph_broadcasters.values()
            for members in broadcaster.audiences.values()
            for member in members
        }
        slow_protocol = targets[b'{"id":"slow","type":"next",'].protocol
        slow_protocol.pause_writing()
        before = dict(broadcast.stats)
        finished = await _finish_one(services, "tenant-a")
        assert _completed(await fast.next_for("fast"))["id"] == str(finished)  # not held up by the slow one
        await asyncio.sleep(0.2)
        assert broadcast.stats["handed_back"] - before["handed_back"] == 1
        slow_protocol.resume_writing()
        message = await slow.next_for("slow")
        assert (message["type"], _completed(message)["id"]) == ("next", str(finished))


async def test_the_legacy_protocol_gets_data_messages_with_its_own_ids(live_server, services):
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server() as server, websockets.connect(server.ws_url, subprotocols=["graphql-ws"]) as ws:
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {admin}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        for op_id in ("a", "b"):
            await ws.send(json.dumps({"id": op_id, "type": "start", "payload": {"query": COMPLETED}}))
        await asyncio.sleep(0.3)
        before = dict(broadcast.stats)
        finished = await _finish_one(services, "tenant-a")
        messages = [await _legacy_message(ws) for _ in range(2)]
        assert sorted((m["type"], m["id"]) for m in messages) == [("data", "a"), ("data", "b")]
        assert all(m["payload"]["data"]["computationCompleted"]["id"] == str(finished) for m in messages)
        assert broadcast.stats["frames"] - before["frames"] == 2

        await ws.send(json.dumps({"id": "a", "type": "stop"}))
        assert await _legacy_message(ws) == {"type": "complete", "id": "a"}
        again = await _finish_one(services, "tenant-a")
        message = await _legacy_message(ws)
        assert (message["id"], message["payload"]["data"]["computationCompleted"]["id"]) == ("b", str(again))
        with pytest.raises(TimeoutError):
            await _legacy_message(ws, timeout=1)


async def _legacy_message(ws, timeout: float = 20) -> dict:
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), timeout))
        if message["type"] != "ka":
            return message
