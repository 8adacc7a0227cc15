"""The REST error envelope and the HTTP status of each GraphQL error code.

Every error answer, on every route, is ``{"error": {"code": …, "message": …, "details": {…}}}``: ``code`` is the
GraphQL error's ``extensions.code`` (docs/api.md#errors), ``message`` its message, ``details`` its other
extensions with snake_case keys (``{}`` when there are none).
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from graphql import GraphQLError
from starlette.responses import Response

STATUS_BY_CODE = {
    "BAD_REQUEST": 400,
    "BAD_USER_INPUT": 400,
    "GRAPHQL_PARSE_FAILED": 400,
    "GRAPHQL_VALIDATION_FAILED": 400,
    "DOCUMENT_TOO_LARGE": 400,
    "QUERY_TOO_DEEP": 400,
    "TOO_MANY_ALIASES": 400,
    "QUERY_TOO_COMPLEX": 400,
    "UNAUTHENTICATED": 401,
    "FORBIDDEN": 403,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "CONFLICT": 409,
    "PAYLOAD_TOO_LARGE": 413,
    "RATE_LIMITED": 429,
    "TIMEOUT": 504,
}

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def snake_case(name: str) -> str:
    return _CAMEL.sub("_", name).lower()


class RestError(Exception):
    """An error answer: a code, a safe message, details; the status follows from the code."""

    def __init__(self, code: str, message: str, details: dict[str, Any] | None = None, status: int | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details or {}
        self.status = status or STATUS_BY_CODE.get(code, 500)

    @classmethod
    def from_graphql(cls, error: GraphQLError, argument_names: dict[str, str]) -> RestError:
        """The REST form of a GraphQL error; ``argument_names`` maps GraphQL argument names back to the REST
        parameter names in ``details.field``."""
        extensions = dict(error.extensions or {})
        code = str(extensions.pop("code", "INTERNAL_SERVER_ERROR"))
        details = {snake_case(key): value for key, value in extensions.items()}
        if isinstance(details.get("field"), str):
            details["field"] = argument_names.get(details["field"], snake_case(details["field"]))
        return cls(code, error.message, details)

    def response(self) -> Response:
        body = {"error": {"code": self.code, "message": self.message, "details": self.details}}
        headers = {}
        if self.status == 401:
            headers["WWW-Authenticate"] = "Bearer"
        if self.code == "RATE_LIMITED" and "retry_after" in self.details:
            headers["Retry-After"] = str(self.details["retry_after"])
        return Response(orjson.dumps(body), status_code=self.status, media_type="application/json", headers=headers)


def bad_input(message: str, field: str) -> RestError:
    """A request parameter the REST layer cannot read (wrong type, unknown value): 400 BAD_USER_INPUT."""
    return RestError("BAD_USER_INPUT", message, {"field": field})


ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every error answer. `code` is the GraphQL error's `extensions.code`.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "Machine-readable code, e.g. `NOT_FOUND`."},
                "message": {"type": "string", "description": "Safe to show."},
                "details": {
                    "type": "object",
                    "description": "The error's other extensions, snake_case (e.g. `field`, `kind`, `retry_after`).",
                },
            },
            "required": ["code", "message", "details"],
            "additionalProperties": False,
        }
    },
    "required": ["error"],
    "additionalProperties": False,
}
