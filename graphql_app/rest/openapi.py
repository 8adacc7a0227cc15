"""The OpenAPI 3.1 document of the REST routes, generated from the route table (parameters, bodies, answers and
their schemas all come from :mod:`graphql_app.rest.routes`)."""

from __future__ import annotations

import functools
from typing import Any

from graphql_app.rest.errors import ERROR_SCHEMA
from graphql_app.rest.routes import GRANTS, ROUTES, TALENT, RestRoute

ERROR_DESCRIPTIONS = {
    400: "Invalid parameter or body (`BAD_USER_INPUT`, `BAD_REQUEST`).",
    401: "Not authenticated: no token, or an invalid one (`UNAUTHENTICATED`).",
    403: "The caller's role may not do this (`FORBIDDEN`).",
    404: "Not found, or another tenant's (`NOT_FOUND`).",
    409: "Clashes with the current state (`CONFLICT`).",
    429: "Too many expensive operations (`RATE_LIMITED`); retry after `Retry-After` seconds.",
    500: "The computation failed (`COMPUTATION_FAILED`), or an unexpected error (`INTERNAL_SERVER_ERROR`).",
    504: "The computation did not finish in time (`TIMEOUT`, `details.task_id`); it goes on.",
}

DESCRIPTION = """\
The two REST APIs Matchgraph replaces, served as thin adapters over its GraphQL schema (`/graphql`): each route
runs a stored GraphQL document (shown as `x-graphql-documents`) as the caller, so authentication, tenancy,
permissions, validation and limits are the GraphQL API's.

* **Grant matches** (`/api/grants`): company ↔ grant matches, persisted and real-time.
* **Talent matches** (`/api/talent`): member ↔ job matches, explanations, status, outcomes and feedback.

Authenticate with `Authorization: Bearer <JWT>`, the same token as for GraphQL. Every error answers
`{"error": {"code": "NOT_FOUND", "message": "…", "details": {}}}` with the GraphQL error's code.
"""


@functools.cache
def openapi_document() -> dict[str, Any]:
    """The whole document (built once per process)."""
    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(route.full_path, {})[route.method.lower()] = _operation(route, components)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Matchgraph REST adapters", "version": "1.0.0", "description": DESCRIPTION},
        "tags": [{"name": api.tag, "description": api.description} for api in (GRANTS, TALENT)],
        "paths": paths,
        "components": {
            "schemas": dict(sorted(components.items())),
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
        "security": [{"bearer": []}],
    }


def _operation(route: RestRoute, components: dict[str, Any]) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "tags": [route.api.tag],
        "operationId": f"{route.api.tag}_{route.operation_id}",
        "summary": route.summary,
        "description": f"{route.description}\n\nGraphQL: `{route.graphql}`.",
        "parameters": [
            {
                "name": param.name,
                "in": param.location,
                "required": param.required or param.location == "path",
                "description": param.description,
                "schema": param.json_schema(),
            }
            for param in route.params
            if param.location != "body"
        ],
        "responses": {},
        "x-graphql-documents": [document.strip() for document in route.documents],
    }
    body = [param for param in route.params if param.location == "body"]
    if body:
        operation["requestBody"] = {
            "required": any(param.required for param in body),
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {param.name: param.json_schema() for param in body},
                        "required": [param.name for param in body if param.required],
                    }
                }
            },
        }
    for reply in route.replies:
        answer: dict[str, Any] = {"description": reply.description}
        if reply.schema is not None:
            answer["content"] = {"application/json": {"schema": reply.schema.json_schema(components)}}
        operation["responses"][str(reply.status)] = answer
    for status in route.errors:
        operation["responses"][str(status)] = {
            "description": ERROR_DESCRIPTIONS[status],
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
    return operation
