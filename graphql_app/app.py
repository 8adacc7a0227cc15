"""The Starlette application: `/graphql` (POST, GET, GraphiQL, WebSockets) and `/healthz`.

`create_app` wires process-wide services in the lifespan: the database (embedded or configured, migrated in
embedded mode), the embedding model (loaded once, off the request path) and the token verifier.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import orjson
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http import GraphQLHTTPResponse
from strawberry.http.parse_content_type import parse_content_type
from strawberry.subscriptions import GRAPHQL_SSE_PROTOCOL, GRAPHQL_TRANSPORT_WS_PROTOCOL, GRAPHQL_WS_PROTOCOL
from strawberry.types import ExecutionResult
from strawberry.types.unset import UNSET, UnsetType

from graphql_app.auth import TokenVerifier, bearer_token
from graphql_app.clock import Clock
from graphql_app.compiled import CompiledQueries
from graphql_app.context import AppServices, Context
from graphql_app.db.engine import Database
from graphql_app.db.models import EMBEDDING_DIMENSION
from graphql_app.db.setup import check_embedding_model, migrate, resolve_database_url
from graphql_app.errors import MatchgraphError
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.jobs.worker import ComputationWorker
from graphql_app.matching.embeddings import load_embedder
from graphql_app.response_cache import CHANGES_CHANNEL, ResponseCache, operation_kind
from graphql_app.settings import Settings, load_settings
from schema import build_schema
from schema.extensions import ensure_error_codes

logger = logging.getLogger(__name__)


class MatchgraphGraphQL(GraphQL):
    """Strawberry's ASGI view with our context (principal from the bearer token) and orjson encoding."""

    def __init__(self, app_state: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_state = app_state

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    async def run(self, request, context=UNSET, root_value=UNSET):
        """Serve plain JSON POSTs of compiled queries straight from the plan's JSON; everything else (and every
        request a plan hands back) takes Strawberry's full HTTP path."""
        if (
            context is UNSET
            and isinstance(request, Request)
            and request.method == "POST"
            and getattr(self.app_state, "compiled_queries", None) is not None
        ):
            response = await self._compiled_response(request)
            if response is not None:
                return response
        return await super().run(request, context, root_value)

    async def _compiled_response(self, request: Request) -> Response | None:
        # Exactly the requests Strawberry would parse as one JSON operation (its own content-type test) and
        # answer without a streaming transport; anything else, and any doubt, takes Strawberry's path.
        content_type, _ = parse_content_type(request.headers.get("content-type") or "")
        if "application/json" not in content_type or self._get_stream_transport_from_headers(request.headers):
            return None
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict) or body.get("extensions") not in (None, {}):
            return None
        if not isinstance(body.get("query"), str):
            return None
        variables, operation_name = body.get("variables"), body.get("operationName")
        if not isinstance(variables, dict | None) or not isinstance(operation_name, str | None):
            return None
        request.state.compiled_plan_tried = True  # a plan that hands back is not run again in execute_single
        context = await self.get_context(request, response=None)
        if context.principal is None:
            return None
        query = body["query"]

        async def answer() -> bytes | None:
            data = await self.app_state.compiled_queries.execute_to_json(query, operation_name, variables, context)
            return None if data is None else b'{"data":' + data + b"}"

        cache: ResponseCache | None = self.app_state.response_cache
        if cache is None:
            content = await answer()
        elif operation_kind(query, operation_name) != "query":
            return None  # mutations invalidate the cache on Strawberry's path
        else:
            key = "json:" + cache.key(query, operation_name, variables, context.principal)
            content = await cache.get_or_compute(key, answer, keep=lambda content: content is not None)
        return None if content is None else Response(content, media_type="application/json")

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        ensure_error_codes(result.errors)  # parse errors can bypass the schema extensions
        return await super().process_result(request, result)

    async def execute_single(self, request, request_adapter, sub_response, context: Context, root_value, request_data):
        """Serve read queries from the opt-in response cache; after a mutation, invalidate it everywhere."""
        cache: ResponseCache | None = getattr(self.app_state, "response_cache", None)
        interpreted = functools.partial(
            super().execute_single, request, request_adapter, sub_response, context, root_value, request_data
        )
        compiled: CompiledQueries | None = getattr(self.app_state, "compiled_queries", None)
        if getattr(request.state, "compiled_plan_tried", False):
            compiled = None
        if compiled is not None and (request_adapter.method == "POST" or self.allow_queries_via_get):

            async def run() -> ExecutionResult:
                result = await compiled.execute(
                    request_data.query, request_data.operation_name, request_data.variables, context
                )
                return result if result is not None else await interpreted()

        else:
            run = interpreted
        if cache is None:
            return await run()
        kind = operation_kind(request_data.query, request_data.operation_name)
        may_write = request_adapter.method == "POST" and context.principal is not None and context.auth_error is None
        if kind == "mutation" and may_write:  # an anonymous or refused mutation writes nothing: keep the cache
            # Before: reads running alongside the write are not served old entries and cannot store theirs
            # for long; after: nothing computed before the commit survives it.
            cache.invalidate()
            try:
                return await run()
            finally:
                cache.invalidate()
                await self._broadcast_change(context)
        if kind != "query" or context.principal is None or context.auth_error is not None:
            return await run()
        key = cache.key(request_data.query, request_data.operation_name, request_data.variables, context.principal)
        return await cache.get_or_compute(key, run, keep=lambda result: not result.errors)

    async def _broadcast_change(self, context: Context) -> None:
        """Tell the other processes (their event hubs) that data changed."""
        try:
            async with context.db.reader() as conn:
                await conn.execute(text("SELECT pg_notify(:channel, '')"), {"channel": CHANGES_CHANNEL})
        except Exception:
            logger.warning("could not broadcast a data change to other processes", exc_info=True)

    async def on_ws_connect(self, context: Context) -> UnsetType:
        """Authenticate a WebSocket from its `connection_init` payload: `{"Authorization": "Bearer …"}`.

        A missing or invalid token closes the connection with the protocol's code (4403 Forbidden).
        """
        params = context.connection_params if isinstance(context.connection_params, dict) else {}
        header = params.get("Authorization") or params.get("authorization")
        try:
            token = bearer_token(header) if header else None
            principal = self.app_state.verifier.verify(token) if token else context.principal
        except MatchgraphError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc
        if principal is None:
            raise ConnectionRejectionError({"message": "Authentication required.", "code": "UNAUTHENTICATED"})
        context.principal, context.auth_error = principal, None
        return UNSET

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services: AppServices = self.app_state.services
        principal, auth_error = None, None
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is not None:
                principal = self.app_state.verifier.verify(token)
        except MatchgraphError as exc:
            auth_error = exc
        return Context(
            services=services, principal=principal, auth_error=auth_error, request=request, response=response
        )


async def open_services(settings: Settings, *, clock: Clock | None = None, load_model: bool = True) -> AppServices:
    """Connect (starting the embedded Postgres and migrating when it is used) and load the model."""
    url = await resolve_database_url(settings)
    if settings.embedded:
        await migrate(url)
    db = Database(url, pool_size=settings.db_pool_size)
    services = AppServices(settings=settings, db=db, clock=clock or Clock())
    if load_model:
        services.embedder = await asyncio.to_thread(load_embedder, settings.embedding_model)
        if services.embedder.dimension != EMBEDDING_DIMENSION:
            raise RuntimeError(
                f"{settings.embedding_model} makes {services.embedder.dimension}-d vectors; this database stores "
                f"{EMBEDDING_DIMENSION}-d vectors."
            )
        async with db.transaction() as conn:
            await check_embedding_model(conn, settings.embedding_model, services.embedder.dimension)
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
        worker = worker_task = None
        if settings.run_worker:
            worker = ComputationWorker(
                current.db,
                current.clock,
                concurrency=settings.worker_concurrency,
                heartbeat_timeout=settings.worker_heartbeat_seconds,
            )
            worker_task = asyncio.create_task(worker.run(), name="computation-worker")
        try:
            yield
        finally:
            if worker is not None:
                worker.stop()
                with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                    await asyncio.wait_for(worker_task, 10)
            await current.events.stop()
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

    app = Starlette(lifespan=lifespan)
    if services is not None:
        app.state.services = services
    app.state.verifier = TokenVerifier(settings)
    app.state.response_cache = (
        ResponseCache(ttl=settings.response_cache_ttl, max_entries=settings.response_cache_entries)
        if settings.response_cache
        else None
    )
    schema = build_schema(introspection=settings.introspection)
    app.state.compiled_queries = CompiledQueries(schema) if settings.compiled_queries else None
    graphql = MatchgraphGraphQL(
        app.state,
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
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
        ]
    )
    return app
