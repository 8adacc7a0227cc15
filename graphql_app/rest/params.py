"""Request parameters of a route (path, query string, JSON body): their declaration, which the OpenAPI document
is generated from, and reading them into typed arguments.

Reading checks only what a GraphQL variable cannot express: the JSON or query-string type, and the REST spelling
of enum values. Ranges, ids and every business rule are the GraphQL API's: its errors come back unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from starlette.requests import Request

from graphql_app.rest.errors import RestError, bad_input

Location = Literal["path", "query", "body"]
Kind = Literal["uuid", "string", "integer", "number", "boolean", "date"]

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


@dataclass(frozen=True)
class Param:
    """One parameter. ``graphql`` names the GraphQL argument it becomes (for error details), ``enum`` lists the
    accepted values (lower-case spellings of a GraphQL enum), ``minimum``/``maximum`` document the range the
    GraphQL API enforces (the REST layer checks only ``page``, which GraphQL does not have)."""

    name: str
    location: Location
    kind: Kind
    description: str
    required: bool = False
    default: Any = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    graphql: str | None = None

    def json_schema(self) -> dict[str, Any]:
        schema: dict[str, Any] = {"type": self.kind if self.kind not in ("uuid", "date") else "string"}
        if self.kind == "uuid":
            schema["format"] = "uuid"
        elif self.kind == "date":
            schema["format"] = "date"
        if self.enum is not None:
            schema["enum"] = list(self.enum)
        if self.default is not None:
            schema["default"] = self.default
        if self.minimum is not None:
            schema["minimum"] = self.minimum
        if self.maximum is not None:
            schema["maximum"] = self.maximum
        if self.location == "body" and not self.required:
            schema = {"oneOf": [schema, {"type": "null"}]} if "enum" not in schema else schema
        schema["description"] = self.description
        return schema


def page_param(description: str = "Page number (from 1).") -> Param:
    return Param("page", "query", "integer", description, default=1, minimum=1)


def page_size_param() -> Param:
    return Param(
        "page_size", "query", "integer", "Items per page (1-100).", default=20, minimum=1, maximum=100, graphql="first"
    )


async def read_arguments(request: Request, params: tuple[Param, ...]) -> dict[str, Any]:
    """The route's arguments: every declared parameter, typed, ``None`` (or its default) when absent."""
    body: dict[str, Any] = {}
    if any(param.location == "body" for param in params):
        body = await _json_object(request)
    arguments: dict[str, Any] = {}
    for param in params:
        if param.location == "path":
            raw = request.path_params.get(param.name)
        elif param.location == "query":
            values = request.query_params.getlist(param.name)
            if len(values) > 1:
                raise bad_input(f"`{param.name}` is given more than once.", param.name)
            raw = values[0] if values else None
        else:
            raw = body.get(param.name)
        if raw is None or (raw == "" and param.location == "query"):
            if param.required:
                raise bad_input(f"`{param.name}` is required.", param.name)
            arguments[param.name] = param.default
            continue
        value = _typed(param, raw)
        if param.enum is not None and value not in param.enum:
            raise bad_input(f"`{param.name}` must be one of: {', '.join(param.enum)}.", param.name)
        arguments[param.name] = value
    page = arguments.get("page")
    if page is not None and page < 1:
        raise bad_input("`page` must be 1 or more.", "page")
    return arguments


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise RestError("BAD_REQUEST", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise RestError("BAD_REQUEST", "The request body must be a JSON object.")
    return body


def _typed(param: Param, raw: Any) -> Any:
    """``raw`` as the parameter's type: query strings are parsed, JSON values must already have it."""
    from_text = isinstance(raw, str) and param.location != "body"
    kind = param.kind
    if kind in ("uuid", "string", "date"):
        if isinstance(raw, str):
            return raw
    elif kind == "boolean":
        if isinstance(raw, bool):
            return raw
        if from_text and raw.lower() in _TRUE | _FALSE:
            return raw.lower() in _TRUE
    elif kind == "integer":
        if isinstance(raw, int) and not isinstance(raw, bool):
            return raw
        if isinstance(raw, float) and raw.is_integer():  # JSON Schema counts 2.0 as an integer
            return int(raw)
        if from_text and raw.strip().lstrip("+-").isdigit() and len(raw) <= 12:
            return int(raw)
    elif kind == "number":
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            return float(raw)
        if from_text:
            try:
                number = float(raw)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return number
    raise bad_input(f"`{param.name}` must be {_article(kind)}.", param.name)


def _article(kind: str) -> str:
    return {
        "uuid": "a UUID string",
        "string": "a string",
        "date": "an ISO 8601 date string",
        "boolean": "true or false",
        "integer": "an integer",
        "number": "a number",
    }[kind]
