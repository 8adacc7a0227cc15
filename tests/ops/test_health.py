"""Liveness and readiness: /livez, /readyz (every check), /healthz (readyz without the model); the embedding
model loads in the background and the fields that need it answer a retryable SERVICE_UNAVAILABLE meanwhile; a
start-up that fails ends `matchgraph serve` with status 1."""

from __future__ import annotations

import asyncio
import dataclasses

import asyncpg
import httpx
from sqlalchemy import text

from graphql_app.app import create_app
from graphql_app.context import AppServices
from graphql_app.db.setup import migration_head
from tests.conftest import LiveServer, token_for
from tests.processes import free_port, run_matchgraph

SEARCH = '{ searchGrants(text: "solar parks", first: 3) { similarity } }'
AUTH = {"Authorization": f"Bearer {token_for('tenant-a', ('ORG_ADMIN',))}"}
ALL_OK = {
    "status": "ok",
    "startup": "ok",
    "database": "ok",
    "migrations": "ok",
    "eventListener": "ok",
    "embeddingModel": "ok",
}


async def poll(client: httpx.AsyncClient, path: str, until) -> httpx.Response:
    """GET ``path`` until ``until(response)`` holds (at most 30 s), the last response."""
    for _ in range(300):
        response = await client.get(path)
        if until(response):
            return response
        await asyncio.sleep(0.1)
    return response


async def test_livez_readyz_and_healthz_report_every_check(live_server):
    async with live_server() as server, httpx.AsyncClient(base_url=server.url) as client:
        live = await client.get("/livez")
        assert (live.status_code, live.json()) == (200, {"status": "alive"})
        ready = await client.get("/readyz")
        assert (ready.status_code, ready.json()) == (200, ALL_OK)
        health = await client.get("/healthz")
        assert health.status_code == 200
        assert health.json() == {k: v for k, v in ALL_OK.items() if k != "embeddingModel"}
        assert health.headers["x-request-id"]


async def test_readyz_fails_while_the_migrations_are_behind(live_server, services: AppServices):
    async with live_server() as server, httpx.AsyncClient(base_url=server.url) as client:
        async with services.db.transaction() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0004'"))
        ready = await client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["migrations"].startswith("at 0004, expected 0")
        assert (await client.get("/healthz")).status_code == 503
        assert (await client.get("/livez")).status_code == 200
        async with services.db.transaction() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": migration_head()})
        assert (await client.get("/readyz")).status_code == 200


async def test_a_model_that_cannot_load_fails_readiness_and_embedding_fields_answer_retryable(services):
    settings = dataclasses.replace(
        services.settings,
        embedding_model="matchgraph-tests/no-such-model",
        run_worker=False,
        preload_embedding_model=True,
    )
    broken = dataclasses.replace(services, settings=settings, embedder=None)
    async with (
        LiveServer(create_app(settings, services=broken)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        ready = await poll(client, "/readyz", lambda r: r.json()["embeddingModel"] != "loading")
        assert ready.status_code == 503 and ready.json()["embeddingModel"] == "failed"
        assert (await client.get("/healthz")).status_code == 200  # reads are served
        answer = await client.post("/graphql", json={"query": SEARCH}, headers=AUTH)
        error = answer.json()["errors"][0]
        assert error["extensions"]["code"] == "SERVICE_UNAVAILABLE"
        assert error["extensions"]["retryAfter"] == int(answer.headers["retry-after"]) > 0
        listed = await client.post("/graphql", json={"query": "{ grants { totalCount } }"}, headers=AUTH)
        assert listed.json() == {"data": {"grants": {"totalCount": 0}}}


async def test_fields_that_need_the_model_answer_retryable_until_it_has_loaded(services):
    settings = dataclasses.replace(
        services.settings, preload_embedding_model=False, embedding_wait_seconds=0, run_worker=False
    )
    lazy = dataclasses.replace(services, settings=settings, embedder=None)
    async with (
        LiveServer(create_app(settings, services=lazy)) as server,
        httpx.AsyncClient(base_url=server.url) as client,
    ):
        ready = await client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["embeddingModel"] == "on first use"
        first = (await client.post("/graphql", json={"query": SEARCH}, headers=AUTH)).json()
        assert first["errors"][0]["extensions"] == {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5}
        ready = await poll(client, "/readyz", lambda r: r.json()["embeddingModel"] != "loading")
        assert ready.status_code == 200 and ready.json()["embeddingModel"] == "ok"
        again = (await client.post("/graphql", json={"query": SEARCH}, headers=AUTH)).json()
        assert again == {"data": {"searchGrants": []}}
    assert lazy.embedder is services.embedder


async def test_serve_exits_with_status_1_when_start_up_fails(live_env, pg_socket_dir, database_name):
    conn = await asyncpg.connect(user="postgres", host=pg_socket_dir, database=database_name)
    try:
        await conn.execute("INSERT INTO embedding_models (model_id, dimension) VALUES ('some/other-model', 768)")
    finally:
        await conn.close()
    result = await asyncio.to_thread(run_matchgraph, "serve", "--port", str(free_port()), env=live_env)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "some/other-model" in result.stderr and "could not start" in result.stderr
