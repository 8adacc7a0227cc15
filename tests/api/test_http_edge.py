"""The HTTP edge as browsers and mobile clients meet it: CORS and the WebSocket origin check (one allowed-origins
setting), response compression, HTTP batching, and request errors answered as JSON with a code."""

from __future__ import annotations

import dataclasses
import gzip
import json

import brotli
import httpx
import pytest
import websockets
import zstandard

from graphql_app.app import create_app
from tests.api.factories import create_grants, grant_input
from tests.conftest import token_for

ALLOWED = "https://app.example.com"
OTHER = "https://evil.example"
PAGE = "{ grants(first: 40) { totalCount edges { node { id title description funder deadline } } } }"


def client_for(services, **overrides) -> httpx.AsyncClient:
    app = create_app(dataclasses.replace(services.settings, **overrides), services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://matchgraph.test")


def auth(token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token or token_for('tenant-a', ('ORG_ADMIN',))}"}


async def test_preflight_and_response_headers_follow_the_allowed_origins(services):
    async with client_for(services, allowed_origins=f"{ALLOWED}, https://admin.example.com:8443") as http:
        preflight = await http.options(
            "/graphql",
            headers={
                "Origin": ALLOWED,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization, content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == ALLOWED
        allowed_headers = preflight.headers["access-control-allow-headers"].lower()
        assert "authorization" in allowed_headers and "content-type" in allowed_headers
        assert "access-control-allow-credentials" not in preflight.headers  # bearer tokens, never cookies

        response = await http.post(
            "/graphql", json={"query": "{ me { tenantId } }"}, headers={"Origin": ALLOWED, **auth()}
        )
        assert response.json() == {"data": {"me": {"tenantId": "tenant-a"}}}
        assert response.headers["access-control-allow-origin"] == ALLOWED

        refused = await http.options("/graphql", headers={"Origin": OTHER, "Access-Control-Request-Method": "POST"})
        assert refused.status_code == 400 and "access-control-allow-origin" not in refused.headers
        other = await http.post("/graphql", json={"query": "{ me { tenantId } }"}, headers={"Origin": OTHER, **auth()})
        assert "access-control-allow-origin" not in other.headers  # the browser withholds the answer


async def test_no_origin_is_allowed_by_default_against_an_external_database(services):
    assert not services.settings.embedded
    async with client_for(services) as http:
        response = await http.options(
            "/graphql", headers={"Origin": "http://localhost:5173", "Access-Control-Request-Method": "POST"}
        )
    assert response.status_code == 400


async def test_loopback_origins_are_allowed_in_development(services):
    from graphql_app.web.origins import OriginPolicy

    development = OriginPolicy.from_setting(None, development=True)
    assert development.allows("http://localhost:5173") and development.allows("http://127.0.0.1:3000")
    assert not development.allows("http://localhost.evil.example") and not development.allows(OTHER)
    assert not OriginPolicy.from_setting(None, development=False).allows("http://localhost:5173")
    assert not OriginPolicy.from_setting("none", development=True).allows("http://localhost:5173")
    assert OriginPolicy.from_setting("*", development=False).allows(OTHER)
    with pytest.raises(ValueError, match="MATCHGRAPH_ALLOWED_ORIGINS"):
        OriginPolicy.from_setting("https://app.example.com/path", development=False)


async def test_websocket_handshakes_follow_the_same_origins(live_server):
    async with live_server(allowed_origins=ALLOWED) as server:
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"], origin=ALLOWED) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": auth()}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"], origin=OTHER):
                pass
        assert refused.value.response.status_code == 403
        # Not a browser (no Origin header): not an origin question.
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": auth()}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"


@pytest.mark.parametrize(
    ("encoding", "decode"),
    [
        ("zstd", lambda b: zstandard.ZstdDecompressor().decompressobj().decompress(b)),
        ("br", brotli.decompress),
        ("gzip", gzip.decompress),
    ],
)
async def test_large_json_responses_are_compressed_as_the_client_accepts(services, as_platform_admin, encoding, decode):
    await create_grants(as_platform_admin, [grant_input(f"Energy efficiency call {i}") for i in range(30)])
    async with client_for(services) as http:
        request = {"json": {"query": PAGE}, "headers": {"Accept-Encoding": encoding, **auth()}}
        async with http.stream("POST", "/graphql", **request) as response:
            raw = b"".join([chunk async for chunk in response.aiter_raw()])
    assert response.headers["content-encoding"] == encoding
    body = json.loads(decode(raw))
    assert body["data"]["grants"]["totalCount"] == 30
    assert len(raw) < len(json.dumps(body)) / 3


async def test_small_responses_streams_and_clients_without_encodings_are_not_compressed(services, as_admin):
    async with client_for(services) as http:
        small = await http.post(
            "/graphql", json={"query": "{ me { tenantId } }"}, headers={"Accept-Encoding": "gzip", **auth()}
        )
        assert "content-encoding" not in small.headers
        plain = await http.post("/graphql", json={"query": PAGE}, headers={"Accept-Encoding": "identity", **auth()})
        assert "content-encoding" not in plain.headers
        async with http.stream(
            "POST",
            "/graphql",
            json={"query": "subscription { computationCompleted { id } }"},
            headers={"Accept": "text/event-stream", "Accept-Encoding": "gzip, br", **auth()},
        ) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            assert "content-encoding" not in stream.headers


async def test_compression_can_be_switched_off(services, as_platform_admin):
    await create_grants(as_platform_admin, [grant_input(f"Energy efficiency call {i}") for i in range(30)])
    async with client_for(services, compression=False) as http:
        response = await http.post("/graphql", json={"query": PAGE}, headers={"Accept-Encoding": "gzip", **auth()})
    assert "content-encoding" not in response.headers


async def test_batches_are_opt_in_and_capped(services):
    batch = [{"query": "{ me { tenantId } }"}, {"query": "query Two { me { roles } }"}]
    async with client_for(services) as http:
        off = await http.post("/graphql", json=batch, headers=auth())
    assert off.status_code == 400
    assert off.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
    async with client_for(services, batch_max_operations=2) as http:
        on = await http.post("/graphql", json=batch, headers=auth())
        assert on.json() == [{"data": {"me": {"tenantId": "tenant-a"}}}, {"data": {"me": {"roles": ["ORG_ADMIN"]}}}]
        too_many = await http.post("/graphql", json=[*batch, batch[0]], headers=auth())
    assert too_many.status_code == 400
    assert too_many.json()["errors"][0] == {"message": "Too many operations", "extensions": {"code": "BAD_REQUEST"}}


async def test_requests_the_view_refuses_answer_json_with_a_code(http):
    wrong_method = await http.put("/graphql", json={"query": "{ me { subject } }"})
    assert wrong_method.status_code == 405
    assert wrong_method.json()["errors"][0]["extensions"]["code"] == "METHOD_NOT_ALLOWED"
    wrong_type = await http.post("/graphql", content=b"{ me }", headers={"Content-Type": "text/plain"})
    assert wrong_type.status_code == 400
    assert wrong_type.json()["errors"][0]["extensions"]["code"] == "BAD_REQUEST"
