"""The Starlette application: `/graphql` (POST, GET, GraphiQL, WebSockets), the REST adapters under `/api`
(graphql_app.rest), `/livez`, `/readyz`, `/healthz` and `/metrics`.

`create_app` wires process-wide services in the lifespan, in the background: the database (embedded or
configured, migrated in embedded mode), the event listener, the scoring processes, the worker, and the embedding
model (loaded in a thread, off the request path).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Route, WebSocketRoute
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL

from graphql_app import tracing
from graphql_app.auth import TokenVerifier
from graphql_app.clock import Clock
from graphql_app.compiled import CompiledQueries
from graphql_app.context import AppServices
from graphql_app.db.embedded import embedded_server, supervise
from graphql_app.db.engine import Database
from graphql_app.db.setup import check_embedding_model_id, migrate, resolve_database_url
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.jobs.schedules import Scheduler, scheduler
from graphql_app.jobs.worker import ComputationWorker
from graphql_app.loaders import Loaders
from graphql_app.logs import RequestLog
from graphql_app.metrics import OperationNames
from graphql_app.response_cache import ResponseCache
from graphql_app.rest import rest_routes
from graphql_app.services.scoring_pool import ScoringPool
from graphql_app.services.webhooks import WebhookPolicy
from graphql_app.settings import Settings, load_settings
from graphql_app.web import graphiql, health
from graphql_app.web.body_limit import BodySizeLimit
from graphql_app.web.broadcast import RawSendMiddleware
from graphql_app.web.compression import Compression
from graphql_app.web.origins import OriginPolicy
from graphql_app.web.startup import Startup, StartupGate
from graphql_app.web.view import DocumentsSetting, MatchgraphGraphQL
from schema.root import build_schema

logger = logging.getLogger(__name__)


async def open_services(settings: Settings, *, clock: Clock | None = None) -> AppServices:
    """Connect (starting the embedded Postgres and migrating when it is used) and check the configured embedding
    model against the stored vectors; the model itself loads later (``AppServices.start_loading_embedder``)."""
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


def create_app(
    settings: Settings | None = None,
    *,
    services: AppServices | None = None,
    on_start_failure: Callable[[BaseException], None] | None = None,
) -> Starlette:
    """The ASGI app. Pass ``services`` to share already-open ones (tests); otherwise they open at start-up.

    Start-up runs in the background (:mod:`graphql_app.web.startup`): ``/livez`` answers at once, other requests
    wait for it. ``on_start_failure`` is called if it fails (``matchgraph serve`` then exits with status 1)."""
    settings = settings or (services.settings if services else load_settings())

    async def start(app: Starlette, cleanup: contextlib.AsyncExitStack) -> None:
        if services is None:
            app.state.services = await open_services(settings)
            cleanup.push_async_callback(app.state.services.db.dispose)
        current: AppServices = app.state.services
        if settings.tracing:
            tracing.instrument_database(current.db)
        if current.events is None:
            current.events = ComputationEventHub(current.db.target)
            await current.events.start()
            cleanup.push_async_callback(_stop_events, current)
        if app.state.response_cache is not None:
            current.events.on_change(app.state.response_cache.invalidate)
        if current.scoring_pool is None and settings.scoring_processes > 0:
            current.scoring_pool = ScoringPool(
                current.db.url,
                processes=settings.scoring_processes,
                statement_timeout=settings.statement_timeout_seconds,
            )
            cleanup.push_async_callback(_close_scoring_pool, current)
            current.scoring_pool.warm_up()
        if settings.preloads_embedding_model and current.embedder is None:
            current.start_loading_embedder()
        pools = [current.db]
        if settings.embedded:

            async def reset_pools() -> None:
                for db in pools:
                    await db.reset_connections()

            supervisor = asyncio.create_task(
                supervise(embedded_server(settings.data_dir), reset_pools), name="embedded-postgres-supervisor"
            )
            cleanup.callback(supervisor.cancel)
        if settings.run_worker:
            # Computations run longer than requests: a pool of their own, with the workers' statement timeout.
            worker_db = Database(
                current.db.url,
                pool_size=max(2, settings.worker_concurrency),
                statement_timeout=settings.worker_statement_timeout_seconds,
            )
            cleanup.push_async_callback(worker_db.dispose)
            if settings.tracing:
                tracing.instrument_database(worker_db)
            pools.append(worker_db)
            app.state.extra_pools = {"worker": worker_db}
            worker = ComputationWorker(
                worker_db,
                current.clock,
                concurrency=settings.worker_concurrency,
                heartbeat_timeout=settings.worker_heartbeat_seconds,
                trace_jobs=settings.tracing,
                webhooks=WebhookPolicy.from_settings(settings),
            )
            worker_task = asyncio.create_task(worker.run(), name="computation-worker")
            cleanup.push_async_callback(_stop_worker, worker, worker_task)
            jobs = scheduler(worker_db, current.clock, settings)
            app.state.scheduler = jobs
            cleanup.push_async_callback(_stop_worker, jobs, asyncio.create_task(jobs.run(), name="scheduler"))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as cleanup:
            app.state.startup.begin(lambda: start(app, cleanup), on_start_failure)
            try:
                yield
            finally:
                await app.state.startup.cancel()

    startup = Startup()
    origins = OriginPolicy.from_setting(settings.allowed_origins, development=settings.embedded)
    # Tracing watches every WebSocket frame; without it the broadcast path may write frames itself.
    middleware = [tracing.asgi_middleware()] if settings.tracing else [Middleware(RawSendMiddleware)]
    middleware += [
        Middleware(RequestLog),
        Middleware(StartupGate, startup=startup, wait_seconds=settings.startup_wait_seconds),
        origins.cors_middleware(),
    ]
    if settings.compression:
        middleware.append(Middleware(Compression))
    middleware.append(Middleware(BodySizeLimit, max_bytes=settings.max_body_bytes))
    app = Starlette(lifespan=lifespan, middleware=middleware)
    app.state.settings = settings
    app.state.startup = startup
    app.state.extra_pools = {}
    app.state.operation_names = OperationNames(settings.metrics_operation_names)
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
    health_routes = [
        Route("/livez", health.livez, methods=["GET"]),
        Route("/readyz", health.readyz, methods=["GET"]),
        Route("/healthz", health.healthz, methods=["GET"]),
    ]
    if settings.metrics:
        health_routes.append(Route("/metrics", health.metrics_endpoint, methods=["GET"]))
    app.router.routes.extend(
        [
            *health_routes,
            Route("/graphql", graphql),  # every method: the view answers what it does not serve with JSON
            WebSocketRoute("/graphql", graphql),
            graphiql.assets_mount(),
            *rest_routes(graphql),
        ]
    )
    return app


async def _stop_events(services: AppServices) -> None:
    await services.events.stop()
    services.events = None


async def _close_scoring_pool(services: AppServices) -> None:
    await services.scoring_pool.close()
    services.scoring_pool = None


async def _stop_worker(worker: ComputationWorker | Scheduler, task: asyncio.Task) -> None:
    worker.stop()
    with contextlib.suppress(asyncio.CancelledError, TimeoutError):
        await asyncio.wait_for(task, 10)
