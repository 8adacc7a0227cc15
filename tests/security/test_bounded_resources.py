"""Resources a request can take are bounded: request bodies, WebSocket messages, statement time, the caches of
documents and plans, and a caller's budget of expensive operations."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest
import websockets
from sqlalchemy import text

from graphql_app.app import create_app
from graphql_app.db.engine import Database, count_statements
from schema.extensions import _known_failure
from tests.api.factories import company_input, create_grants, grant_input
from tests.conftest import token_for

AUTH = {"Authorization": f"Bearer {token_for('tenant-a', ('ORG_ADMIN',))}"}
CREATE = "mutation($i: CompanyInput!) { createCompany(input: $i) { id } }"


def app_and_client(services, **overrides):
    app = create_app(dataclasses.replace(services.settings, **overrides), services=services)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://matchgraph.test")


async def company_count(services) -> int:
    async with services.db.reader() as conn:
        return await conn.scalar(text("SELECT count(*) FROM companies"))


async def test_bodies_over_the_limit_are_413_and_write_nothing(services):
    _, http = app_and_client(services, max_body_bytes=64 * 1024)
    big = {"query": CREATE, "variables": {"i": company_input("Big", description="x" * 70_000)}}
    async with http:
        declared = await http.post("/graphql", json=big, headers=AUTH)

        async def chunks():  # no Content-Length: the limit holds while reading
            payload = json.dumps(big).encode()
            for start in range(0, len(payload), 8192):
                yield payload[start : start + 8192]

        streamed = await http.post("/graphql", content=chunks(), headers={"Content-Type": "application/json", **AUTH})
        fits = await http.post(
            "/graphql", json={"query": CREATE, "variables": {"i": company_input("Fits")}}, headers=AUTH
        )
    for response in (declared, streamed):
        assert response.status_code == 413
        assert response.json()["errors"][0]["extensions"]["code"] == "PAYLOAD_TOO_LARGE"
    assert fits.json()["data"]["createCompany"]["id"]
    assert await company_count(services) == 1


async def test_a_websocket_message_over_the_limit_closes_the_socket(live_server):
    async with live_server(max_body_bytes=16 * 1024) as server:
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
            await ws.recv()
            variables = {"i": company_input("Big", description="x" * 20_000)}
            await ws.send(
                json.dumps({"id": "1", "type": "subscribe", "payload": {"query": CREATE, "variables": variables}})
            )
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == 1009  # message too big
        # A document over the token limit is refused by the protocol, with the reason.
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
            await ws.recv()
            await ws.send(
                json.dumps({"id": "2", "type": "subscribe", "payload": {"query": "{" + " me" * 5_100 + " }"}})
            )
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == 4400 and "tokens" in closed.value.rcvd.reason
        assert await company_count_of(server) == 0


async def company_count_of(server) -> int:
    async with httpx.AsyncClient(base_url=server.url) as http:
        body = (await http.post("/graphql", json={"query": "{ companies { totalCount } }"}, headers=AUTH)).json()
    return body["data"]["companies"]["totalCount"]


async def test_statement_timeout_cancels_and_answers_timeout(services):
    url = services.settings.database_url
    api = Database(url, pool_size=1, statement_timeout=15)
    quick = Database(url, pool_size=1, statement_timeout=0.05)
    try:
        async with api.reader() as conn:
            assert await conn.scalar(text("SHOW statement_timeout")) == "15s"
        with pytest.raises(Exception) as cancelled:
            async with quick.reader() as conn:
                await conn.execute(text("SELECT pg_sleep(2)"))
        assert _known_failure(cancelled.value) == (
            "The request took longer than the server's statement timeout and was cancelled.",
            "TIMEOUT",
        )
    finally:
        await api.dispose()
        await quick.dispose()


async def test_documents_over_the_length_limit_are_refused_before_parsing(http, execution_path):
    literal = "x" * 60_000
    for headers in ({}, AUTH):
        body = (
            await http.post(
                "/graphql", json={"query": f'{{ searchGrants(text: "{literal}") {{ similarity }} }}'}, headers=headers
            )
        ).json()
        assert body["errors"][0]["extensions"]["code"] == "DOCUMENT_TOO_LARGE", body


async def test_long_and_invalid_documents_do_not_fill_the_caches(services, execution_path):
    app, http = app_and_client(services, compiled_queries=execution_path == "compiled")
    caches = app.state.compiled_queries if execution_path == "compiled" else None
    view = next(route.app for route in app.router.routes if getattr(route, "path", "") == "/graphql")
    schema_caches = view.schema.document_caches
    async with http:
        for i in range(30):
            padding = " " * 25_000  # long (under the length limit) but valid: whitespace is free for the token limit
            # Introspection: never answered by a plan, so Strawberry's own caches see every document.
            await http.post("/graphql", json={"query": f"{{ __schema {{ __typename }} }}{padding}# {i}"}, headers=AUTH)
            await http.post("/graphql", json={"query": f"{{ me {{ nope{i} }} }}"}, headers=AUTH)
            await http.post("/graphql", json={"query": "{ me { subject"}, headers=AUTH)
        await http.post("/graphql", json={"query": "{ __schema { __typename } }"}, headers=AUTH)
    assert all(len(query) < 20_000 for query, _ in schema_caches._parsed)
    assert not any("nope" in query for query in schema_caches._valid)
    assert len(schema_caches._valid) == 1
    if caches is not None:  # refusals are remembered (not measured again), long documents not kept at all
        assert all(len(query) < 20_000 for query, _ in caches._documents)
        assert all(planned is None for (query, _), planned in caches._documents.items() if "nope" in query)


async def test_expensive_operations_have_a_per_caller_budget(services, as_platform_admin):
    await create_grants(as_platform_admin, [grant_input("Hydrogen electrolysers for steel")])
    _, http = app_and_client(services, rate_limit="3/minute")
    search = {"query": '{ searchGrants(text: "hydrogen", first: 3) { grant { title } } }'}
    async with http:
        for _ in range(3):
            assert "errors" not in (await http.post("/graphql", json=search, headers=AUTH)).json()
        with count_statements() as log:
            refused_response = await http.post("/graphql", json=search, headers=AUTH)
        refused = refused_response.json()
        assert int(refused_response.headers["retry-after"]) >= 1
        other = token_for("tenant-a", ("ORG_ADMIN",), subject="someone-else@tenant-a")
        others = (await http.post("/graphql", json=search, headers={"Authorization": f"Bearer {other}"})).json()
        two_at_once = {
            "query": '{ a: searchGrants(text: "x") { similarity } b: searchGrants(text: "y") { similarity } }'
        }
        third = token_for("tenant-a", ("ORG_ADMIN",), subject="third@tenant-a")
        pair = (await http.post("/graphql", json=two_at_once, headers={"Authorization": f"Bearer {third}"})).json()
        again = (await http.post("/graphql", json=two_at_once, headers={"Authorization": f"Bearer {third}"})).json()
    error = refused["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] >= 1
    assert log.count == 0
    assert "errors" not in others
    assert "errors" not in pair and again["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_subscriptions_per_connection_are_limited_with_a_code(live_server):
    subscription = {"query": "subscription { computationCompleted { id } }"}
    async with live_server(max_subscriptions_per_connection=1) as server:
        for protocol, start in (("graphql-transport-ws", "subscribe"), ("graphql-ws", "start")):
            async with websockets.connect(server.ws_url, subprotocols=[protocol]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(json.dumps({"id": "1", "type": start, "payload": subscription}))
                await ws.send(json.dumps({"id": "2", "type": start, "payload": subscription}))
                while (message := json.loads(await ws.recv()))["type"] == "ka":
                    pass
            errors = message["payload"] if isinstance(message["payload"], list) else [message["payload"]]
            assert (message["id"], errors[0]["extensions"]["code"]) == ("2", "TOO_MANY_SUBSCRIPTIONS"), message
