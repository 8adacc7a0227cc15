"""`subscription grantAlerts` across API processes, with standard clients: Python's `gql` over WebSocket and a
plain SSE reader, on `serve --no-worker`, while grants are imported through another `serve` whose worker runs
the fan-out."""

from __future__ import annotations

import asyncio
import contextlib
import json
from datetime import UTC, datetime, timedelta

import httpx
from gql import Client, gql
from gql.transport.websockets import WebsocketsTransport

from tests.api.factories import company_input, grant_input
from tests.conftest import token_for
from tests.processes import Server

SUBSCRIBE = """subscription($c: ID!) {
  grantAlerts(companyId: $c) { unreadCount alert { reason score isRead grant { title deadline } } }
}"""
CREATE_COMPANY = "mutation($input: CompanyInput!) { createCompany(input: $input) { id } }"
SETTINGS = """mutation($c: ID!) {
  updateCompanyAlertSettings(companyId: $c, input: {alertMinScore: 0}) { alertMinScore }
}"""
IMPORT = "mutation($inputs: [GrantInput!]!) { createGrants(inputs: $inputs) { id } }"
MARK_ALL = "mutation($c: ID!) { markGrantAlertsRead(companyId: $c) { markedCount unreadCount } }"


async def _gql_updates(url: str, token: str, company_id: str, into: asyncio.Queue) -> None:
    transport = WebsocketsTransport(url=url, init_payload={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport) as session:
        async for result in session.subscribe(gql(SUBSCRIBE), variable_values={"c": company_id}):
            await into.put(result["grantAlerts"])


async def _sse_updates(url: str, token: str, company_id: str, into: asyncio.Queue) -> None:
    async with (
        httpx.AsyncClient(timeout=None) as http,
        http.stream(
            "POST",
            f"{url}/graphql",
            json={"query": SUBSCRIBE, "variables": {"c": company_id}},
            headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("data: ") and line != "data: ":
                await into.put(json.loads(line[len("data: ") :])["data"]["grantAlerts"])


async def test_an_import_through_one_process_alerts_subscribers_of_another(live_env, processes, admin_token):
    platform_token = token_for("platform", ("PLATFORM_ADMIN",))
    fanout_env = {**live_env, "MATCHGRAPH_GRANT_FANOUT": "true"}
    subscribed_to, writer = await asyncio.gather(
        asyncio.to_thread(Server, live_env, "--no-worker"), asyncio.to_thread(Server, fanout_env)
    )
    processes += [subscribed_to, writer]
    company_id = writer.data(CREATE_COMPANY, admin_token, {"input": company_input("Solar Engineering GmbH")})[
        "createCompany"
    ]["id"]
    writer.data(SETTINGS, admin_token, {"c": company_id})

    over_ws: asyncio.Queue = asyncio.Queue()
    over_sse: asyncio.Queue = asyncio.Queue()
    tasks = [
        asyncio.create_task(_gql_updates(subscribed_to.ws_url, admin_token, company_id, over_ws)),
        asyncio.create_task(_sse_updates(subscribed_to.url, admin_token, company_id, over_sse)),
    ]
    try:
        # The unread count comes first, on both transports.
        for updates in (over_ws, over_sse):
            assert await asyncio.wait_for(updates.get(), 30) == {"unreadCount": 0, "alert": None}

        # Processes run on the real clock: a deadline ahead of it.
        deadline = (datetime.now(UTC) + timedelta(days=90)).isoformat()
        writer.data(IMPORT, platform_token, {"inputs": [grant_input("Clean energy call", deadline=deadline)]})
        for updates in (over_ws, over_sse):
            update = await asyncio.wait_for(updates.get(), 60)
            assert update["unreadCount"] == 1
            assert update["alert"]["reason"] == "NEW_GRANT" and update["alert"]["isRead"] is False
            assert update["alert"]["grant"]["title"] == "Clean energy call"

        # Read on another device: the count drops on every subscriber.
        marked = writer.data(MARK_ALL, admin_token, {"c": company_id})["markGrantAlertsRead"]
        assert marked == {"markedCount": 1, "unreadCount": 0}
        for updates in (over_ws, over_sse):
            assert await asyncio.wait_for(updates.get(), 30) == {"unreadCount": 0, "alert": None}
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # Another tenant cannot follow the company's alerts.
    other = token_for("tenant-b", ("ORG_ADMIN",))
    refused: asyncio.Queue = asyncio.Queue()
    try:
        await asyncio.wait_for(_gql_updates(subscribed_to.ws_url, other, company_id, refused), 30)
        raise AssertionError("subscription of another tenant's company was accepted")
    except Exception as exc:  # gql raises the error the server sent
        assert "not found" in str(exc).lower(), repr(exc)
    assert refused.empty()
