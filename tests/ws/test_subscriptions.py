"""Mobile flow against real processes: start a computation, subscribe, hear it finish (WebSocket and SSE)."""

from __future__ import annotations

import asyncio
import json

import asyncpg
import httpx
import pytest
import websockets

from tests.api.factories import COMPANY_FIELDS, company_input, grant_input
from tests.conftest import token_for
from tests.processes import Process, Server
from tests.ws.conftest import TransportWsClient

FOLLOW = "subscription($id: ID!) { computation(id: $id) { id status progress resultCount attempts } }"
COMPLETED = "subscription { computationCompleted { id status subjectId resultCount } }"
CALCULATE = "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id status } }"


def seed(server: Server, platform_token: str, admin_token: str, grants: int = 5) -> str:
    server.data(
        "mutation($g: [GrantInput!]!) { createGrants(inputs: $g) { id } }",
        platform_token,
        {"g": [grant_input(f"Call {i}", deadline=None) for i in range(grants)]},  # real clock here
    )
    company = server.data(
        f"mutation($i: CompanyInput!) {{ createCompany(input: $i) {{ {COMPANY_FIELDS} }} }}",
        admin_token,
        {"i": company_input("Solar Engineering GmbH")},
    )
    return company["createCompany"]["id"]


async def test_client_starts_a_computation_subscribes_and_is_told_it_finished(
    live_env, processes, admin_token, platform_token
):
    server = Server(live_env)
    processes.append(server)
    company_id = seed(server, platform_token, admin_token)
    async with TransportWsClient(server.ws_url, admin_token) as client:
        await client.subscribe("all", COMPLETED)
        await asyncio.sleep(0.3)  # the completed-stream is live before the computation starts
        started = server.data(CALCULATE, admin_token, {"c": company_id})["calculateGrantMatches"]
        assert started["status"] == "QUEUED"
        await client.subscribe("one", FOLLOW, {"id": started["id"]})
        states = [m["payload"]["data"]["computation"] async for m in client.collect("one") if m["type"] == "next"]
        assert states[0]["id"] == started["id"]
        assert states[-1]["status"] == "SUCCEEDED" and states[-1]["resultCount"] == 5
        assert [s["status"] for s in states] == sorted({s["status"] for s in states}, key=_order)
        completed = await client.next_for("all")
        assert completed["id"] == "all" and completed["type"] == "next"
        assert completed["payload"]["data"]["computationCompleted"]["id"] == started["id"]

    # A client that reconnects after missing everything still gets the final state, then `complete`.
    async with TransportWsClient(server.ws_url, admin_token) as late:
        await late.subscribe("late", FOLLOW, {"id": started["id"]})
        messages = [m async for m in late.collect("late")]
        assert [m["type"] for m in messages] == ["next", "complete"]
        assert messages[0]["payload"]["data"]["computation"]["status"] == "SUCCEEDED"

    # Another tenant cannot follow it, and does not hear of it.
    async with TransportWsClient(server.ws_url, token_for("tenant-b", ("ORG_ADMIN",))) as other:
        await other.subscribe("x", FOLLOW, {"id": started["id"]})
        messages = [m async for m in other.collect("x")]
        assert messages[0]["type"] == "next"
        assert messages[0]["payload"]["errors"][0]["extensions"]["code"] == "NOT_FOUND"

    # The same subscription over SSE, for clients without WebSockets.
    async with (
        httpx.AsyncClient(timeout=20) as http,
        http.stream(
            "POST",
            f"{server.url}/graphql",
            json={"query": FOLLOW, "variables": {"id": started["id"]}},
            headers={"Authorization": f"Bearer {admin_token}", "Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        body = "".join([chunk async for chunk in response.aiter_text()])
    events = [line[len("data: ") :] for line in body.splitlines() if line.startswith("data: ") and line != "data: "]
    assert json.loads(events[0])["data"]["computation"]["status"] == "SUCCEEDED"
    assert "event: complete" in body


def _order(status: str) -> int:
    return ["QUEUED", "RUNNING", "SUCCEEDED", "FAILED"].index(status)


async def test_bad_tokens_close_the_connection_with_4403_and_subscriptions_are_limited(
    live_env, processes, admin_token
):
    server = Server({**live_env, "MATCHGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION": "2"})
    processes.append(server)
    async with TransportWsClient(server.ws_url, admin_token) as client:
        for op_id in ("1", "2", "3"):
            await client.subscribe(op_id, COMPLETED)
        refused = await client.next_for("3")
        assert refused["type"] == "error" and "limit" in refused["payload"][0]["message"]
    for payload in ({}, {"Authorization": "Bearer not-a-token"}):
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            assert closed.value.rcvd.code == 4403


async def test_started_through_one_api_process_reported_by_another(live_env, processes, admin_token, platform_token):
    """API processes hold no state: two of them (no worker inside) and one separate worker on one database."""
    api_a = Server(live_env, "--no-worker")
    processes.append(api_a)
    api_b = Server(live_env, "--no-worker")
    processes.append(api_b)
    company_id = seed(api_a, platform_token, admin_token)
    async with TransportWsClient(api_b.ws_url, admin_token) as client:
        await client.subscribe("all", COMPLETED)
        await asyncio.sleep(0.3)
        started = api_a.data(CALCULATE, admin_token, {"c": company_id})["calculateGrantMatches"]
        await asyncio.sleep(1.0)
        assert (
            api_a.data("query($id: ID!) { computation(id: $id) { status } }", admin_token, {"id": started["id"]})[
                "computation"
            ]["status"]
            == "QUEUED"
        ), "no worker runs inside the API processes"
        processes.append(Process("worker", "--concurrency", "2", env=live_env))
        message = await client.next_for("all", timeout=30)
        finished = message["payload"]["data"]["computationCompleted"]
        assert finished["id"] == started["id"] and finished["status"] == "SUCCEEDED"


async def test_worker_killed_mid_job_is_replaced_and_the_job_completes_once(
    live_env, processes, admin_token, platform_token, pg_socket_dir, database_name
):
    server = Server(live_env, "--no-worker")
    processes.append(server)
    company_id = seed(server, platform_token, admin_token, grants=8)
    # Hold the company's row lock so the computation blocks inside the worker, mid-job.
    blocker = await asyncpg.connect(user="postgres", host=pg_socket_dir, database=database_name)
    lock = blocker.transaction()
    await lock.start()
    await blocker.execute("SELECT 1 FROM companies WHERE id = $1 FOR UPDATE", __import__("uuid").UUID(company_id))
    started = server.data(CALCULATE, admin_token, {"c": company_id})["calculateGrantMatches"]
    first = Process("worker", env=live_env)
    processes.append(first)
    status_query = "query($id: ID!) { computation(id: $id) { status attempts resultCount } }"
    for _ in range(100):
        state = server.data(status_query, admin_token, {"id": started["id"]})["computation"]
        if state["status"] == "RUNNING":
            break
        await asyncio.sleep(0.1)
    assert state == {"status": "RUNNING", "attempts": 1, "resultCount": None}
    first.kill()
    await lock.rollback()
    await blocker.close()

    second = Process("worker", env=live_env)  # picks the job up once its heartbeat (2 s) is stale
    processes.append(second)
    for _ in range(300):
        state = server.data(status_query, admin_token, {"id": started["id"]})["computation"]
        if state["status"] in ("SUCCEEDED", "FAILED"):
            break
        await asyncio.sleep(0.1)
    assert state == {"status": "SUCCEEDED", "attempts": 2, "resultCount": 8}
    check = await asyncpg.connect(user="postgres", host=pg_socket_dir, database=database_name)
    try:
        rows = await check.fetchval("SELECT count(*) FROM grant_matches")
        distinct = await check.fetchval("SELECT count(DISTINCT (company_id, grant_id)) FROM grant_matches")
        for _ in range(100):  # the worker acknowledges finished jobs in buffered batches
            queued = await check.fetchval("SELECT count(*) FROM pgqueuer")
            if queued == 0:
                break
            await asyncio.sleep(0.1)
    finally:
        await check.close()
    assert rows == distinct == 8
    assert queued == 0, "the job is done and gone from the queue"
