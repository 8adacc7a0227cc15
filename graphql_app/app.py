"""The Starlette application: `/graphql` (POST, GET, GraphiQL, WebSockets), the REST adapters under `/api`
(graphql_app.rest) and `/healthz`.

`create_app` wires process-wide services in the lifespan: the database (embedded or configured, migrated in
embedded mode), the embedding model (loaded once, off the request path) and the token verifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from sqlalchemy import text
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from graphql_app.auth import TokenVerifier
from graphql_app.clock import Clock
from graphql_app.compiled import CompiledQueries
from graphql_app.context import AppServices
from graphql_app.db.embedded import embedded_server, supervise
from graphql_app.db.engine import Database
from graphql_app.db.setup import check_embedding_model_id, migrate, resolve_database_url
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.jobs.worker import ComputationWorker
from graphql_app.loaders import Loaders
from graphql_app.response_cache import ResponseCache
from graphql_app.rest import rest_routes
from graphql_app.services.scoring_pool import ScoringPool
from graphql_app.settings import Settings, load_settings
from graphql_app.web import graphiql
from graphql_app.web.body_limit import BodySizeLimit
from graphql_app.web.compression import Compression
from graphql_app.web.origins import OriginPolicy
from graphql_app.web.view import DocumentsSetting, MatchgraphGraphQL
from schema.root import build_schema

logger = logging.getLogger(__name__)


async def open_services(settings: Settings, *, clock: Clock | None = None) -> AppServices:
    """Connect (starting the embedded Postgres and migrating when it is used) and check the configured embedding
    model against the stored vectors; the model itself loads on first use (``AppServices.get_embedder``)."""
    url = await resolve_database_url(settings)
    if settings.embedded:
        await migrate(url)
    db = Database(url, pool_size=settings.db_pool_size, statement_timeout=settings.statement_timeout_seconds)
    services = AppServices(settings=settings, db=db, clock=clock or Clock(), loaders=Loaders)
    async with db.reader() as conn:
        await check_embedding_model_id(conn, settings.embedding_model)
    # Long-lived objects (the schema, imported modules) would otherwise be walked by every full collection,
    # pausing requests; frozen, they are left out of collections.
    gc.collect()
    gc.freeze()
    return services


def create_app(settings: Settings | None = None, *, services: AppServices | None = None) -> Starlette:
    """The ASGI app. Pass ``services`` to share already-open ones (tests); otherwise they open at start-up."""
    settings = settings or (services.settings if services else load_settings())

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        owns_services = services is None
        app.state.services = current = services or await open_services(settings)
        if current.events is None:
            current.events = ComputationEventHub(current.db.asyncpg_dsn)
            await current.events.start()
        if app.state.response_cache is not None:
            current.events.on_change(app.state.response_cache.invalidate)
        owns_scoring_pool = current.scoring_pool is None and settings.scoring_processes > 0
        if owns_scoring_pool:
            current.scoring_pool = ScoringPool(
                current.db.url,
                processes=settings.scoring_processes,
                statement_timeout=settings.statement_timeout_seconds,
            )
            current.scoring_pool.warm_up()
        supervisor = None
        if settings.embedded:
            pools = [current.db]

            async def reset_pools() -> None:
                for db in pools:
                    await db.reset_connections()

            supervisor = asyncio.create_task(
                supervise(embedded_server(settings.data_dir), reset_pools), name="embedded-postgres-supervisor"
            )
        worker = worker_task = worker_db = None
        if settings.run_worker:
            # Computations run longer than requests: a pool of their own, with the workers' statement timeout.
            worker_db = Database(
                current.db.url,
                pool_size=max(2, settings.worker_concurrency),
                statement_timeout=settings.worker_statement_timeout_seconds,
            )
            if supervisor is not None:
                pools.append(worker_db)
            worker = ComputationWorker(
                worker_db,
                current.clock,
                concurrency=settings.worker_concurrency,
                heartbeat_timeout=settings.worker_heartbeat_seconds,
            )
            worker_task = asyncio.create_task(worker.run(), name="computation-worker")
        try:
            yield
        finally:
            if supervisor is not None:
                supervisor.cancel()
            if worker is not None:
                worker.stop()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(worker_task, 10)
                await worker_db.dispose()
            await current.events.stop()
            if owns_scoring_pool:
                await asyncio.to_thread(current.scoring_pool.close)
                current.scoring_pool = None
            if owns_services:
                await current.db.dispose()

    async def healthz(request: Request) -> JSONResponse:
        try:
            async with request.app.state.services.db.reader() as conn:
                await asyncio.wait_for(conn.execute(text("SELECT 1")), timeout=2)
        except Exception as exc:
            logger.warning("health check failed: %r", exc)
            return JSONResponse({"status": "unavailable", "database": "unreachable"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    origins = OriginPolicy.from_setting(settings.allowed_origins, development=settings.embedded)
    middleware = [origins.cors_middleware()]
    if settings.compression:
        middleware.append(Middleware(Compression))
    middleware.append(Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes))
    app = Starlette(lifespan=lifespan, middleware=middleware)
    if services is not None:
        services.loaders = services.loaders or Loaders
        app.state.services = services
    app.state.verifier = TokenVerifier(settings)
    app.state.response_cache = (
        ResponseCache(ttl=settings.response_cache_ttl, max_entries=settings.response_cache_entries)
        if settings.response_cache
        else None
    )
    schema = build_schema(
        introspection=settings.introspection,
        batch_max_operations=settings.batch_max_operations,
        limits=settings.request_limits,
        rate_limit=settings.rate_limit or None,
    )
    app.state.compiled_queries = CompiledQueries(schema) if settings.compiled_queries else None
    graphql = MatchgraphGraphQL(
        app.state,
        origins=origins,
        documents=DocumentsSetting(
            persisted_queries=settings.persisted_queries, trusted_only=settings.trusted_documents
        ),
        schema=schema,
        graphql_ide="graphiql" if settings.graphiql else None,
        keep_alive=True,
        keep_alive_interval=15,
        max_subscriptions_per_connection=settings.max_subscriptions_per_connection,
        # graphql-ws (legacy) is safe on Strawberry >= 0.312.3 (pinned 0.341.2); SSE for clients without WebSockets.
        subscription_protocols=(GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL, GRAPHQL_SSE_PROTOCOL),
    )
    app.router.routes.extend(
        [
            Route("/healthz", healthz, methods=["GET"]),
            Route("/graphql", graphql),  # every method: the view answers what it does not serve with JSON
            WebSocketRoute("/graphql", graphql),
            graphiql.assets_mount(),
            *rest_routes(graphql),
        ]
    )
    return app
