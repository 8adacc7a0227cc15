"""The Starlette routes of the REST adapters: one endpoint per route of the table, the OpenAPI document, its page,
and JSON answers (in the error envelope) for unknown paths and methods under ``/api``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Match, Route

from graphql_app.rest import swagger_ui
from graphql_app.rest.errors import RestError
from graphql_app.rest.execution import Call
from graphql_app.rest.openapi import openapi_document
from graphql_app.rest.params import read_arguments
from graphql_app.rest.routes import ROUTES, RestRoute

if TYPE_CHECKING:
    from graphql_app.web.view import MatchgraphGraphQL

logger = logging.getLogger(__name__)

OPENAPI_PATH = "/api/openapi.json"
DOCS_PATH = "/api/docs"
ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]


def rest_routes(view: MatchgraphGraphQL) -> list[BaseRoute]:
    """Every REST route, running its documents through ``view`` (the app's GraphQL view)."""
    endpoints: list[BaseRoute] = [
        Route(route.full_path, _endpoint(view, route), methods=[route.method], name=route.operation_id)
        for route in ROUTES
    ]

    async def openapi(request: Request) -> Response:
        return JSONResponse(openapi_document())

    async def docs(request: Request) -> Response:
        return swagger_ui.page(request, OPENAPI_PATH)

    async def unknown(request: Request) -> Response:
        allowed = sorted(
            {
                method
                for route in endpoints
                if route.matches(request.scope)[0] is Match.PARTIAL
                for method in route.methods or ()
            }
        )
        if allowed:
            error = RestError("METHOD_NOT_ALLOWED", f"{request.method} is not allowed here; use {', '.join(allowed)}.")
            response = error.response()
            response.headers["Allow"] = ", ".join(allowed)
            return response
        return RestError("NOT_FOUND", f"No route {request.url.path}; see {OPENAPI_PATH}.").response()

    return [
        *endpoints,
        Route(OPENAPI_PATH, openapi, methods=["GET"]),
        Route(DOCS_PATH, docs, methods=["GET"]),
        swagger_ui.assets_mount(),
        Route("/api/{path:path}", unknown, methods=ALL_METHODS),
    ]


def _endpoint(view: MatchgraphGraphQL, route: RestRoute):
    async def endpoint(request: Request) -> Response:
        try:
            arguments = await read_arguments(request, route.params)
            answer = await route.run(Call(view, request, arguments, route.argument_names))
        except RestError as error:
            return error.response()
        except Exception:
            logger.exception("REST route %s %s failed", route.method, route.full_path)
            return RestError("INTERNAL_SERVER_ERROR", "Unexpected error.").response()
        if answer.body is None:
            return Response(status_code=answer.status)
        return Response(orjson.dumps(answer.body), status_code=answer.status, media_type="application/json")

    endpoint.__name__ = route.operation_id
    return endpoint
