"""The GraphQL view: Strawberry's ASGI view with our context, the compiled fast path and the response cache.

WebSocket messages always leave as text frames: the graphql-ws and graphql-transport-ws protocols are JSON text,
and standard clients (the `graphql-ws` JS client, Apollo, urql, Python's `gql`, a browser's `WebSocket`) refuse
or mishandle binary frames.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import orjson
from cross_web import HTTPException
from graphql import GraphQLError
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket, WebSocketDisconnect
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.exceptions import ConnectionRejectionError, MissingQueryError
from strawberry.http import GraphQLHTTPResponse, GraphQLRequestData
from strawberry.http.exceptions import WebSocketDisconnected
from strawberry.http.parse_content_type import parse_content_type
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType
from strawberry.types.unset import UNSET, UnsetType

from graphql_app.auth import Principal, bearer_token
from graphql_app.compiled import CompiledQueries
from graphql_app.compiled.executor import NeedsResolvers
from graphql_app.context import AppServices, Context
from graphql_app.errors import MatchgraphError, PersistedQueryNotFound
from graphql_app.logs import current_request
from graphql_app.metrics import OperationMeasure, describe_operation, error_code
from graphql_app.response_cache import CHANGES_CHANNEL, ResponseCache, operation_kind
from graphql_app.web import graphiql
from graphql_app.web.documents import DocumentResolver
from graphql_app.web.origins import OriginPolicy
from graphql_app.web.websocket import LegacyWSHandler, TransportWSHandler
from schema.extensions import ensure_error_codes

logger = logging.getLogger(__name__)


class TextFrameWebSocketAdapter(ASGIWebSocketAdapter):
    """Sends every protocol message as a text frame (Strawberry sends bytes as binary frames)."""

    async def send_json(self, message: Mapping[str, object]) -> None:
        try:
            await self.ws.send_text(encode_message(message))
        except WebSocketDisconnect as exc:
            raise WebSocketDisconnected from exc


#: The latest event results' JSON, by the identity of their ``data`` (kept alive alongside).
_ENCODED_DATA: OrderedDict[int, tuple[object, str]] = OrderedDict()


def encode_message(message: Mapping[str, object]) -> str:
    """A protocol message as JSON text. An event's ``data`` shared by many subscribers (``schema.execution``)
    is encoded once; each subscriber's message only adds its own operation id around it."""
    payload = message.get("payload")
    if not (isinstance(payload, dict) and payload.keys() == {"data"} and isinstance(payload["data"], dict)):
        return orjson.dumps(message).decode()
    data = payload["data"]
    entry = _ENCODED_DATA.get(id(data))
    if entry is None or entry[0] is not data:
        entry = _ENCODED_DATA[id(data)] = (data, orjson.dumps(data).decode())
        while len(_ENCODED_DATA) > 32:
            _ENCODED_DATA.popitem(last=False)
    parts = [
        f'"{key}":{{"data":{entry[1]}}}' if key == "payload" else f'"{key}":{orjson.dumps(value).decode()}'
        for key, value in message.items()
    ]
    return "{" + ",".join(parts) + "}"


class MatchgraphGraphQL(GraphQL):
    """Strawberry's ASGI view with our context (principal from the bearer token) and orjson encoding."""

    websocket_adapter_class = TextFrameWebSocketAdapter  # type: ignore[assignment]
    graphql_transport_ws_handler_class = TransportWSHandler
    graphql_ws_handler_class = LegacyWSHandler

    def __init__(self, app_state: Any, *, origins: OriginPolicy, documents: DocumentsSetting, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.app_state = app_state
        self.origins = origins
        self.documents_setting = documents
        self._documents: DocumentResolver | None = None

    @property
    def documents(self) -> DocumentResolver:
        """Resolves persisted and trusted documents (created on first use: the database opens at start-up)."""
        if self._documents is None:
            services: AppServices = self.app_state.services
            self._documents = DocumentResolver(
                services.db,
                self.schema._schema,
                persisted_queries=self.documents_setting.persisted_queries,
                trusted_only=self.documents_setting.trusted_only,
                limits=getattr(self.schema, "request_limits", None),
            )
        return self._documents

    async def __call__(self, scope, receive, send) -> None:
        """As Strawberry's, but request errors it raises before execution answer JSON with a code."""
        if scope["type"] != "http":
            return await super().__call__(scope, receive, send)
        request = Request(scope=scope, receive=receive)
        try:
            response = await self.run(request)
        except HTTPException as exc:
            response = request_error_response(exc.reason, exc.status_code)
        await response(scope, receive, send)

    def is_websocket_origin_allowed(self, request: WebSocket, origin: str) -> bool:
        """The WebSocket origin check follows the same allowed origins as CORS."""
        return self.origins.allows(origin)

    def should_render_graphql_ide(self, request) -> bool:
        """A GET naming a persisted query (no `query` parameter) is an operation, not a browser visit."""
        return "extensions" not in request.query_params and super().should_render_graphql_ide(request)

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        """GraphiQL from assets this server serves itself (no CDN)."""
        return graphiql.page(request)

    def encode_json(self, data: object) -> bytes:
        return orjson.dumps(data)

    def parse_json(self, data: str | bytes) -> object:
        """orjson: invalid UTF-8 and nesting deeper than 1,024 levels are decode errors (HTTP 400), not crashes."""
        return orjson.loads(data)

    async def parse_http_body(self, request):
        """As Strawberry's, but a body that is JSON yet not an operation object (or a list of them) is HTTP 400."""
        try:
            return await super().parse_http_body(request)
        except (AttributeError, TypeError) as exc:
            raise HTTPException(
                400, "The request must be a JSON object with `query` (or, batched, a list of such objects)."
            ) from exc

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
        if not isinstance(body, dict):
            return None
        extensions = body.get("extensions")
        if not isinstance(extensions, dict | None):  # Strawberry refuses it with its own message
            return None
        variables, operation_name = body.get("variables"), body.get("operationName")
        if not isinstance(variables, dict | None) or not isinstance(operation_name, str | None):
            return None
        context = await self.get_context(request, response=None)
        if context.principal is None:
            return None
        try:
            query = await self.documents.document(body.get("query"), extensions, context.principal)
        except MatchgraphError as exc:
            measure = self._measure(None, operation_name)
            measure.path = "refused"
            measure.finish(exc.code)
            return refusal_response(exc)
        if not isinstance(query, str):
            return None
        measure = self._measure(query, operation_name)
        measure.path = "cache"
        with self._traced(measure) as span:
            response = await self._compiled_answer(request, query, operation_name, variables, context, measure)
            if response is None and span is not None:  # Strawberry's path answers it, in a span of its own
                span.set_attribute("matchgraph.handed_to_resolvers", True)
            return response

    async def _compiled_answer(self, request, query, operation_name, variables, context, measure) -> Response | None:
        async def answer() -> bytes | None:
            measure.path = "compiled"
            data = await self.app_state.compiled_queries.execute_to_json(query, operation_name, variables, context)
            # A plan that hands the request back is not run again in execute_single.
            request.state.compiled_plan_tried = True
            return None if data is None else b'{"data":' + data + b"}"

        cache: ResponseCache | None = self.app_state.response_cache
        try:
            if cache is None:
                content = await answer()
            elif operation_kind(query, operation_name) != "query":
                return None  # mutations invalidate the cache on Strawberry's path
            else:
                key = "json:" + cache.key(query, operation_name, variables, context.principal)
                content = await cache.get_or_compute(key, answer, keep=lambda content: content is not None)
        except NeedsResolvers:  # part plan, part resolvers: Strawberry's path runs both and merges them
            return None
        if content is None:
            return None
        measure.finish("OK")
        return Response(content, media_type="application/json")

    def _traced(self, measure: OperationMeasure):
        """A span around the operation when tracing is on (graphql_app.tracing), else nothing."""
        if not self.app_state.settings.tracing:
            return contextlib.nullcontext()
        from graphql_app import tracing

        name, kind = describe_operation(measure.query, measure.operation_name) if measure.query else (None, "query")
        return tracing.operation_span(name or measure.operation_name, kind, measure)

    def _measure(self, query: str | None, operation_name: str | None) -> OperationMeasure:
        """Start measuring one operation (metrics), and name it in the request's log line. An operation name that
        is not a string (bad input, refused later) counts as none."""
        if not isinstance(operation_name, str):
            operation_name = None
        if not isinstance(query, str):
            query = None
        measure = OperationMeasure(self.app_state.operation_names, query, operation_name)
        info = current_request()
        if info is not None:
            name = describe_operation(query, operation_name)[0] if query else operation_name
            info.operation = (name or "anonymous")[:100]
        return measure

    async def process_result(self, request: Request, result: ExecutionResult) -> GraphQLHTTPResponse:
        ensure_error_codes(result.errors)  # parse errors can bypass the schema extensions
        return await super().process_result(request, result)

    async def execute_operation(self, request, request_adapter, request_data, context, root_value, sub_response):
        """Resolve persisted and trusted documents first, for single, batched and streamed operations alike."""
        if isinstance(request_data, list):
            request_data = [await self._with_document(item, context, sub_response) for item in request_data]
        else:
            request_data = await self._with_document(request_data, context, sub_response)
            if isinstance(request_data, RefusedRequest):
                return refusal_result(request_data.refusal)
        return await super().execute_operation(
            request, request_adapter, request_data, context, root_value, sub_response
        )

    async def _with_document(
        self, request_data: GraphQLRequestData, context: Context, sub_response: Response
    ) -> GraphQLRequestData:
        try:
            query = await self.documents.document(request_data.query, request_data.extensions, context.principal)
        except MatchgraphError as exc:
            if isinstance(exc, PersistedQueryNotFound):  # not a cacheable answer to a GET for a CDN
                sub_response.headers["Cache-Control"] = "private, no-cache, must-revalidate"
            return RefusedRequest(**vars(request_data), refusal=exc)
        return dataclasses.replace(request_data, query=query)

    async def execute_single(self, request, request_adapter, sub_response, context: Context, root_value, request_data):
        """Serve read queries from the opt-in response cache; after a mutation, invalidate it everywhere. Every
        operation is measured (graphql_app.metrics)."""
        if isinstance(request_data, RefusedRequest):
            measure = self._measure(None, request_data.operation_name)
            measure.path = "refused"
            measure.finish(request_data.refusal.code)
            return refusal_result(request_data.refusal)
        return await self.run_operation(
            request_data,
            context,
            method=request_adapter.method,
            root_value=root_value,
            sub_response=sub_response,
            try_compiled=not getattr(request.state, "compiled_plan_tried", False),
        )

    async def run_operation(
        self,
        request_data: GraphQLRequestData,
        context: Context,
        *,
        method: str,
        sub_response: Response,
        root_value=None,
        try_compiled: bool = True,
    ) -> ExecutionResult:
        """One operation as every HTTP request runs it: its compiled plan when one answers, else the resolvers;
        reads through the response cache, which a mutation invalidates everywhere; measured (graphql_app.metrics)
        and traced. The REST adapters (graphql_app.rest) run their stored documents through here too."""
        measure = self._measure(request_data.query, request_data.operation_name)
        result = None
        try:
            with self._traced(measure):
                result = await self._run_measured(
                    request_data, context, method, sub_response, root_value, try_compiled, measure
                )
            return result
        finally:
            measure.finish(error_code(result.errors) if result is not None else "BAD_REQUEST")

    async def _run_measured(
        self,
        request_data: GraphQLRequestData,
        context: Context,
        method: str,
        sub_response: Response,
        root_value,
        try_compiled: bool,
        measure: OperationMeasure,
    ) -> ExecutionResult:
        cache: ResponseCache | None = getattr(self.app_state, "response_cache", None)

        async def interpreted() -> ExecutionResult:
            measure.path = "resolvers"
            return await self._execute(method, context, root_value, request_data, sub_response)

        compiled: CompiledQueries | None = getattr(self.app_state, "compiled_queries", None)
        if not try_compiled:
            compiled = None
        if compiled is not None and (method == "POST" or self.allow_queries_via_get):

            async def run_residual(residual_query: str) -> ExecutionResult:
                measure.path = "mixed"
                residual = dataclasses.replace(request_data, query=residual_query)
                return await self._execute(method, context, root_value, residual, sub_response)

            async def run() -> ExecutionResult:
                measure.path = "compiled"
                result = await compiled.execute(
                    request_data.query, request_data.operation_name, request_data.variables, context, run_residual
                )
                return result if result is not None else await interpreted()

        else:
            run = interpreted
        if cache is None:
            return await run()
        kind = operation_kind(request_data.query, request_data.operation_name)
        may_write = method == "POST" and context.principal is not None and context.auth_error is None
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
        measure.path = "cache"
        return await cache.get_or_compute(key, run, keep=lambda result: not result.errors)

    async def _execute(
        self, method: str, context: Context, root_value, request_data, sub_response: Response
    ) -> ExecutionResult:
        """Strawberry's execution of one operation, except that a subscription needs a stream (SSE or a
        WebSocket): over plain HTTP it is a bad request, not a resolver returning a generator. A refusal for the
        caller's budget, or for something not ready yet (SERVICE_UNAVAILABLE), also sets ``Retry-After``."""
        allowed = OperationType.from_http(method) - {OperationType.SUBSCRIPTION}
        try:
            result = await self.schema.execute(
                request_data.query,
                root_value=root_value,
                variable_values=request_data.variables,
                context_value=context,
                operation_name=request_data.operation_name,
                allowed_operation_types=allowed,
                operation_extensions=request_data.extensions,
            )
        except CannotGetOperationTypeError as exc:
            raise HTTPException(400, exc.as_http_error_reason()) from exc
        except InvalidOperationTypeError as exc:
            if exc.operation_type is OperationType.SUBSCRIPTION:
                raise HTTPException(
                    400, "Subscriptions need a WebSocket, or `Accept: text/event-stream` (Server-Sent Events)."
                ) from exc
            raise HTTPException(400, exc.as_http_error_reason(method)) from exc
        except MissingQueryError as exc:
            raise HTTPException(400, "No GraphQL query found in the request.") from exc
        for error in result.errors or ():
            if (error.extensions or {}).get("code") in ("RATE_LIMITED", "SERVICE_UNAVAILABLE"):
                sub_response.headers["Retry-After"] = str(error.extensions["retryAfter"])
        return result

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
            token = bearer_token(header) if isinstance(header, str) else context.token
            principal = self.app_state.verifier.verify(token) if token else None
        except MatchgraphError as exc:
            raise ConnectionRejectionError({"message": exc.message, "code": exc.code}) from exc
        if principal is None:
            raise ConnectionRejectionError({"message": "Authentication required.", "code": "UNAUTHENTICATED"})
        context.principal, context.auth_error, context.token = principal, None, token
        return UNSET

    def current_principal(self, context: Context) -> Principal | None:
        """The connection's principal if its token is still valid (expiry, signature, claims); else None."""
        if context.token is None:
            return None
        try:
            return self.app_state.verifier.verify(context.token)
        except MatchgraphError:
            return None

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services: AppServices = self.app_state.services
        principal, auth_error, token = None, None, None
        try:
            token = bearer_token(request.headers.get("authorization"))
            if token is not None:
                principal = self.app_state.verifier.verify(token)
        except MatchgraphError as exc:
            auth_error = exc
        info = current_request()
        if info is not None and principal is not None:
            info.tenant = principal.tenant_id
        return Context(
            services=services,
            principal=principal,
            auth_error=auth_error,
            request=request,
            response=response,
            token=token if principal is not None else None,
        )


@dataclasses.dataclass
class RefusedRequest(GraphQLRequestData):
    """An operation of the request that will not run (an unknown persisted query, an untrusted document)."""

    refusal: MatchgraphError | None = None


def refusal_result(refusal: MatchgraphError) -> ExecutionResult:
    return ExecutionResult(data=None, errors=[GraphQLError(refusal.message, extensions=refusal.extensions)])


def refusal_response(refusal: MatchgraphError) -> Response:
    headers = {"Cache-Control": "private, no-cache, must-revalidate"}
    body = {"errors": [{"message": refusal.message, "extensions": refusal.extensions}]}
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


def request_error_response(message: str, status_code: int) -> Response:
    """A request the GraphQL view refused before execution, as JSON with a code."""
    code = {405: "METHOD_NOT_ALLOWED", 404: "NOT_FOUND", 413: "PAYLOAD_TOO_LARGE"}.get(status_code, "BAD_REQUEST")
    body = {"errors": [{"message": message, "extensions": {"code": code}}]}
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json")


@dataclasses.dataclass(frozen=True)
class DocumentsSetting:
    """How the view treats persisted documents (see :mod:`graphql_app.web.documents`)."""

    persisted_queries: bool = True
    trusted_only: bool = False
