"""Test fixtures: one embedded Postgres per session, a migrated template database cloned per test,
the real embedding model loaded once, and the real ASGI app driven over HTTP (httpx)."""

from __future__ import annotations

import os

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

import asyncio
import itertools
import logging
import tempfile
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from graphql_app.auth import mint_token
from graphql_app.clock import FixedClock
from graphql_app.context import AppServices
from graphql_app.db.embedded import socket_dir_of, start_embedded_postgres
from graphql_app.db.engine import Database
from graphql_app.db.setup import migrate
from graphql_app.jobs.worker import ComputationWorker
from graphql_app.matching.embeddings import Embedder, load_embedder
from graphql_app.services.webhooks import WebhookPolicy
from graphql_app.settings import Settings

logging.getLogger("pgserver").setLevel(logging.WARNING)

TEMPLATE_DB = "matchgraph_template"
JWT_SECRET = "test-secret-" + "x" * 32
#: "Now" for every API test: deadlines are set relative to it.
TEST_NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
_db_counter = itertools.count()


@pytest.fixture(scope="session")
def pg_data_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="matchgraph-test-"))


@pytest.fixture(scope="session")
def pg_socket_dir(pg_data_dir: Path) -> str:
    return socket_dir_of(start_embedded_postgres(pg_data_dir))


@pytest.fixture(scope="session")
async def template_database(pg_socket_dir: str) -> str:
    """A migrated database that each test clones (CREATE DATABASE … TEMPLATE …)."""
    conn = await asyncpg.connect(user="postgres", host=pg_socket_dir, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE_DB}"')
        await conn.execute(f'CREATE DATABASE "{TEMPLATE_DB}"')
    finally:
        await conn.close()
    await migrate(database_url(pg_socket_dir, TEMPLATE_DB))
    return TEMPLATE_DB


def database_url(socket_dir: str, name: str) -> str:
    return f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real all-MiniLM-L6-v2 model, loaded once per test session."""
    return load_embedder()


@pytest.fixture
async def database_name(pg_socket_dir: str, template_database: str) -> AsyncIterator[str]:
    name = f"test_{os.getpid()}_{next(_db_counter)}"
    conn = await asyncpg.connect(user="postgres", host=pg_socket_dir, database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    finally:
        await conn.close()
    yield name
    conn = await asyncpg.connect(user="postgres", host=pg_socket_dir, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


#: Suites run twice: through compiled plans (graphql_app.compiled) and through the resolvers alone. Both paths
#: must give the same answers, errors, permissions and tenant scoping (see docs/architecture.md).
BOTH_EXECUTION_PATHS = {
    "tests.api.test_grant_matches",
    "tests.api.test_tenancy",
    "tests.api.test_bad_input",
    "tests.api.test_statement_counts",
    "tests.api.test_response_cache",
    "tests.api.test_smoke",
    "tests.api.test_talent",
    "tests.security.test_bad_requests",
    "tests.security.test_query_limits",
    "tests.security.test_bounded_resources",
}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "execution_path" in metafunc.fixturenames and metafunc.module.__name__ in BOTH_EXECUTION_PATHS:
        metafunc.parametrize("execution_path", ["compiled", "interpreted"])


@pytest.fixture
def execution_path() -> str:
    """How read queries execute: "compiled" (the default, plans with resolvers as fallback) or "interpreted"."""
    return "compiled"


@pytest.fixture
def settings(
    request: pytest.FixtureRequest, tmp_path: Path, pg_socket_dir: str, database_name: str, execution_path: str
) -> Settings:
    return Settings(
        database_url=database_url(pg_socket_dir, database_name),
        data_dir=tmp_path,
        jwt_secret=JWT_SECRET,
        compiled_queries=execution_path == "compiled",
        scoring_processes=0,  # live scoring in a thread here; tests/api/test_scoring_pool.py runs the pool
        # Grant imports queue a GRANT_FANOUT computation only in tests marked `grant_fanout`: the others check
        # matches and computations that a background fan-out would change under them.
        grant_fanout=request.node.get_closest_marker("grant_fanout") is not None,
    )


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(TEST_NOW)


@pytest.fixture
async def services(settings: Settings, clock: FixedClock, embedder: Embedder) -> AsyncIterator[AppServices]:
    db = Database(settings.database_url, pool_size=5)
    yield AppServices(settings=settings, db=db, clock=clock, embedder=embedder)
    await db.dispose()


@pytest.fixture
async def worker(services: AppServices) -> AsyncIterator[ComputationWorker]:
    """A real queue worker on the test database, in the test's event loop."""
    worker = ComputationWorker(
        services.db,
        services.clock,
        concurrency=4,
        heartbeat_timeout=5,
        dequeue_timeout=0.5,  # delayed jobs (webhook retries) are picked at the latest this long after they are due
        webhooks=WebhookPolicy.from_settings(services.settings),
    )
    task = asyncio.create_task(worker.run())
    yield worker
    worker.stop()
    await asyncio.wait_for(task, 15)


@pytest.fixture
async def http(services: AppServices, worker: ComputationWorker) -> AsyncIterator[httpx.AsyncClient]:
    from graphql_app.app import create_app

    app = create_app(services=services)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://matchgraph.test") as client:
        yield client


def token_for(
    tenant: str = "tenant-a",
    roles: tuple[str, ...] = ("ORG_ADMIN",),
    subject: str | None = None,
    **extra: Any,
) -> str:
    settings = Settings(jwt_secret=JWT_SECRET, database_url="postgresql://unused")
    return mint_token(
        settings,
        subject=subject or f"user-{uuid.uuid4().hex[:6]}@{tenant}",
        tenant_id=tenant,
        roles=list(roles),
        **extra,
    )


class GraphQLClient:
    """Sends operations to /graphql over HTTP as a given principal."""

    def __init__(self, http: httpx.AsyncClient, token: str | None) -> None:
        self.http = http
        self.token = token

    async def execute(self, query: str, variables: dict | None = None) -> dict:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}, headers=headers
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, variables: dict | None = None) -> dict:
        """The `data` of a response that must have no errors."""
        body = await self.execute(query, variables)
        assert not body.get("errors"), body["errors"]
        return body["data"]

    async def error_code(self, query: str, variables: dict | None = None) -> str:
        """The `extensions.code` of the first error (the response must have one)."""
        body = await self.execute(query, variables)
        assert body.get("errors"), f"expected an error, got {body}"
        return body["errors"][0]["extensions"]["code"]


class LiveServer:
    """The app served by uvicorn on a real loopback port, inside the test's event loop (shared services, so no
    second model load): real HTTP and WebSocket clients, including other processes (Node, Chromium), reach it."""

    def __init__(self, app: Any, **uvicorn_options: Any) -> None:
        import socket

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.graphql_url = f"{self.url}/graphql"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        self.app = app
        self.server = uvicorn.Server(
            uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", **uvicorn_options)
        )
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> LiveServer:
        self._task = asyncio.create_task(self.server.serve())
        # Listening, then started in the background (graphql_app.web.startup): ready once start-up is done. Other
        # apps (a test's page server) have no background start-up.
        startup = getattr(self.app.state, "startup", None)
        while not self.server.started or (startup is not None and startup.state == "starting"):
            if self._task.done():
                self._task.result()
            await asyncio.sleep(0.01)
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.should_exit = True
        await asyncio.wait_for(self._task, 15)


@pytest.fixture
async def live_server(services: AppServices, worker: ComputationWorker):
    """Start the app on a loopback port with settings overridden: ``async with live_server(**overrides) as s``."""
    import contextlib
    import dataclasses

    from graphql_app.app import create_app

    @contextlib.asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[LiveServer]:
        settings = dataclasses.replace(services.settings, run_worker=False, **overrides)
        # As `matchgraph serve` runs uvicorn: WebSocket messages held to the body limit.
        async with LiveServer(create_app(settings, services=services), ws_max_size=settings.max_body_bytes) as server:
            yield server

    return start


@pytest.fixture
def as_admin(http: httpx.AsyncClient) -> GraphQLClient:
    """ORG_ADMIN of tenant-a."""
    return GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",)))


@pytest.fixture
def as_other_tenant(http: httpx.AsyncClient) -> GraphQLClient:
    """ORG_ADMIN of tenant-b."""
    return GraphQLClient(http, token_for("tenant-b", ("ORG_ADMIN",)))


@pytest.fixture
def as_platform_admin(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))


@pytest.fixture
def anonymous(http: httpx.AsyncClient) -> GraphQLClient:
    return GraphQLClient(http, None)
