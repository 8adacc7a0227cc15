"""Persisted documents: Apollo's automatic persisted queries (APQ) and the trusted-documents mode, on every
transport, shared by every API process through PostgreSQL."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

import httpx
import pytest
import websockets
from sqlalchemy import text

from graphql_app.app import create_app
from graphql_app.services.persisted_documents import ManifestError, documents_of_manifest
from tests.conftest import JWT_SECRET, token_for
from tests.processes import process_env, run_matchgraph

ME = "query Me { me { tenantId roles } }"
ME_DATA = {"me": {"tenantId": "tenant-a", "roles": ["ORG_ADMIN"]}}
GRANTS = "query Grants { grants(first: 5) { totalCount } }"


def sha(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str) -> dict:
    return {"persistedQuery": {"version": 1, "sha256Hash": sha(document)}}


def app_client(services, **overrides):
    app = create_app(dataclasses.replace(services.settings, **overrides), services=services)
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://matchgraph.test")


AUTH = {"Authorization": f"Bearer {token_for('tenant-a', ('ORG_ADMIN',))}"}


async def stored_hashes(services) -> dict[str, bool]:
    async with services.db.reader() as conn:
        rows = (await conn.execute(text("SELECT sha256, trusted FROM persisted_documents"))).all()
    return {row.sha256: row.trusted for row in rows}


async def test_automatic_persisted_queries_register_once_and_run_by_hash(services):
    _, http = app_client(services)
    async with http:
        unknown = await http.post("/graphql", json={"extensions": persisted(ME)}, headers=AUTH)
        assert unknown.status_code == 200
        assert unknown.json() == {
            "errors": [{"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}]
        }
        assert "no-cache" in unknown.headers["cache-control"]
        assert await stored_hashes(services) == {}

        registered = await http.post("/graphql", json={"query": ME, "extensions": persisted(ME)}, headers=AUTH)
        assert registered.json() == {"data": ME_DATA}
        assert await stored_hashes(services) == {sha(ME): False}

        by_hash = await http.post("/graphql", json={"extensions": persisted(ME)}, headers=AUTH)
        assert by_hash.json() == {"data": ME_DATA}
        params = {"extensions": json.dumps(persisted(ME)), "operationName": "Me"}
        by_get = await http.get("/graphql", params=params, headers=AUTH)
        assert by_get.json() == {"data": ME_DATA}

    # Another API process (its own memory, the same database) knows the document too.
    _, other_process = app_client(services)
    async with other_process:
        assert (await other_process.post("/graphql", json={"extensions": persisted(ME)}, headers=AUTH)).json() == {
            "data": ME_DATA
        }


async def test_compiled_plans_serve_persisted_queries(services, as_platform_admin):
    app, http = app_client(services, compiled_queries=True)
    async with http:
        await http.post("/graphql", json={"query": GRANTS, "extensions": persisted(GRANTS)}, headers=AUTH)
        served_before = app.state.compiled_queries.served
        response = await http.post("/graphql", json={"extensions": persisted(GRANTS)}, headers=AUTH)
        got = await http.get("/graphql", params={"extensions": json.dumps(persisted(GRANTS))}, headers=AUTH)
    assert response.json() == got.json() == {"data": {"grants": {"totalCount": 0}}}
    assert app.state.compiled_queries.served == served_before + 2


async def test_a_hash_that_does_not_match_its_text_is_refused_and_not_stored(services):
    _, http = app_client(services)
    async with http:
        response = await http.post("/graphql", json={"query": ME, "extensions": persisted(GRANTS)}, headers=AUTH)
        malformed = await http.post(
            "/graphql", json={"extensions": {"persistedQuery": {"version": 2, "sha256Hash": sha(ME)}}}, headers=AUTH
        )
    assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert malformed.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert await stored_hashes(services) == {}


async def test_anonymous_callers_and_invalid_documents_register_nothing(services):
    invalid = "{ me { noSuchField } }"
    _, http = app_client(services)
    async with http:
        anonymous = await http.post("/graphql", json={"query": ME, "extensions": persisted(ME)})
        wrong = await http.post("/graphql", json={"query": invalid, "extensions": persisted(invalid)}, headers=AUTH)
    assert anonymous.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert wrong.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert await stored_hashes(services) == {}


async def test_persisted_queries_can_be_switched_off(services):
    _, http = app_client(services, persisted_queries=False)
    async with http:
        response = await http.post("/graphql", json={"extensions": persisted(ME)}, headers=AUTH)
    assert response.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_SUPPORTED"


def write_manifest(tmp_path: Path, documents: list[str]) -> Path:
    manifest = {
        "format": "apollo-persisted-query-manifest",
        "version": 1,
        "operations": [{"id": sha(d), "name": "op", "type": "query", "body": d} for d in documents],
    }
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest))
    return path


def cli_env(services) -> dict[str, str]:
    return process_env(MATCHGRAPH_DATABASE_URL=services.settings.database_url, MATCHGRAPH_JWT_SECRET=JWT_SECRET)


async def test_trusted_documents_mode_runs_only_registered_documents(services, tmp_path):
    subscription = "subscription Done { computationCompleted { id } }"
    result = run_matchgraph("trust-documents", str(write_manifest(tmp_path, [ME, subscription])), env=cli_env(services))
    assert result.returncode == 0, result.stderr
    assert "Trusted 2 documents" in result.stdout
    assert await stored_hashes(services) == {sha(ME): True, sha(subscription): True}

    _, http = app_client(services, trusted_documents=True)
    async with http:
        assert (await http.post("/graphql", json={"extensions": persisted(ME)}, headers=AUTH)).json() == {
            "data": ME_DATA
        }
        assert (await http.post("/graphql", json={"query": ME}, headers=AUTH)).json() == {"data": ME_DATA}
        for body in ({"query": GRANTS}, {"query": GRANTS, "extensions": persisted(GRANTS)}):
            refused = (await http.post("/graphql", json=body, headers=AUTH)).json()
            assert refused["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
            assert "data" not in refused or refused["data"] is None
        streamed = await http.post("/graphql", json={"query": GRANTS}, headers={"Accept": "text/event-stream", **AUTH})
        assert streamed.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
    assert sha(GRANTS) not in await stored_hashes(services)  # clients cannot register in this mode


async def test_trusted_documents_mode_applies_to_websockets(services, tmp_path, live_server):
    trusted = "subscription Done { computationCompleted { id } }"
    assert (
        run_matchgraph("trust-documents", str(write_manifest(tmp_path, [trusted])), env=cli_env(services)).returncode
        == 0
    )
    async with live_server(trusted_documents=True) as server:
        for protocol, start in (("graphql-transport-ws", "subscribe"), ("graphql-ws", "start")):
            async with websockets.connect(server.ws_url, subprotocols=[protocol]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                await ws.send(json.dumps({"id": "1", "type": start, "payload": {"query": ME}}))
                refusal = await receive(ws)
                assert refusal["type"] == "error" and refusal["id"] == "1"
                errors = refusal["payload"] if isinstance(refusal["payload"], list) else [refusal["payload"]]
                assert errors[0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_IN_LIST"
                # A trusted document named by its hash alone runs.
                await ws.send(json.dumps({"id": "2", "type": start, "payload": {"extensions": persisted(trusted)}}))
                await ws.send(json.dumps({"id": "3", "type": start, "payload": {"query": ME}}))
                answer = await receive(ws)
                assert answer["id"] == "3" and answer["type"] == "error"  # 2 is live, waiting for events


async def receive(ws) -> dict:
    """The next protocol message that is not a keep-alive."""
    while True:
        message = json.loads(await ws.recv())
        if message["type"] not in ("ka", "ping", "pong"):
            return message


def test_manifests_in_the_formats_clients_generate(tmp_path):
    apollo = {"format": "apollo-persisted-query-manifest", "version": 1, "operations": [{"id": sha(ME), "body": ME}]}
    assert documents_of_manifest(json.dumps(apollo)) == {sha(ME): ME}
    assert documents_of_manifest(json.dumps({sha(ME): ME, f"sha256:{sha(GRANTS)}": GRANTS})) == {
        sha(ME): ME,
        sha(GRANTS): GRANTS,
    }
    assert documents_of_manifest(json.dumps([ME])) == {sha(ME): ME}
    with pytest.raises(ManifestError, match="not the SHA-256"):
        documents_of_manifest(json.dumps({"1": ME}))
    with pytest.raises(ManifestError, match="not JSON"):
        documents_of_manifest("{")


async def test_a_manifest_with_an_invalid_document_registers_nothing(services, tmp_path):
    result = run_matchgraph(
        "trust-documents", str(write_manifest(tmp_path, [ME, "{ me { nope } }"])), env=cli_env(services)
    )
    assert result.returncode == 1 and "not valid against this schema" in result.stderr
    assert await stored_hashes(services) == {}
