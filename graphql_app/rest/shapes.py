"""Result shapes: how a GraphQL object becomes a REST JSON object.

A shape is declared once and gives three things: the GraphQL selection a stored document asks for, the conversion
of the answer (snake_case keys, lower-case enum values, UTC times spelled with ``Z``), and the JSON Schema the
OpenAPI document shows. So the document, the mapping and the description cannot drift apart.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]


def _same(value: Any) -> Any:
    return value


def utc_z(value: str | None) -> str | None:
    """ISO 8601 as the REST documents spell it: ``2025-01-15T10:30:00Z`` rather than ``…+00:00``."""
    if value is not None and value.endswith("+00:00"):
        return value[:-6] + "Z"
    return value


def _lower(value: str | None) -> str | None:
    return None if value is None else value.lower()


@dataclass(frozen=True)
class Value:
    """A JSON value: its schema and how a GraphQL value converts to it."""

    schema: Schema
    convert: Callable[[Any], Any] = _same

    def json_schema(self, components: dict[str, Schema]) -> Schema:
        return dict(self.schema)


UUID = Value({"type": "string", "format": "uuid"})
STRING = Value({"type": "string"})
NUMBER = Value({"type": "number"})
INTEGER = Value({"type": "integer"})
BOOLEAN = Value({"type": "boolean"})
TIMESTAMP = Value({"type": "string", "format": "date-time"}, utc_z)
DATE = Value({"type": "string", "format": "date"})
JSON_OBJECT = Value({"type": "object"})


def enum_values(graphql_enum: type[enum.Enum]) -> list[str]:
    """The REST spelling of a GraphQL enum's values: lower case (``PENDING_REVIEW`` → ``pending_review``)."""
    return [member.value.lower() for member in graphql_enum]


def lower_enum(graphql_enum: type[enum.Enum]) -> Value:
    """A GraphQL enum value, in lower case."""
    return Value({"type": "string", "enum": enum_values(graphql_enum)}, _lower)


@dataclass(frozen=True)
class ListOf:
    """A list of values or objects."""

    item: Value | Shape

    def json_schema(self, components: dict[str, Schema]) -> Schema:
        return {"type": "array", "items": self.item.json_schema(components)}

    def convert(self, value: list | None) -> list:
        return [self.item.convert(item) for item in value or ()]


@dataclass(frozen=True)
class Nullable:
    """A value that may be ``null``."""

    item: Value | Shape

    def json_schema(self, components: dict[str, Schema]) -> Schema:
        inner = self.item.json_schema(components)
        if "$ref" in inner:
            return {"oneOf": [inner, {"type": "null"}]}
        if "enum" in inner:
            inner["enum"] = [*inner["enum"], None]
        inner["type"] = [inner["type"], "null"]
        return inner

    def convert(self, value: Any) -> Any:
        return None if value is None else self.item.convert(value)


@dataclass(frozen=True)
class Field:
    """A key of a shape: where its value is in the GraphQL answer (a dotted path of field names) and what it is."""

    path: str
    value: Value | ListOf | Nullable | Shape
    description: str


@dataclass(frozen=True)
class Shape:
    """A JSON object built from one GraphQL object; a component (``#/components/schemas/<name>``) in OpenAPI."""

    name: str
    description: str
    fields: dict[str, Field]

    @property
    def selection(self) -> str:
        """The GraphQL selection set (without braces) that answers every field."""
        return _render(self._tree())

    def _tree(self) -> dict[str, dict]:
        tree: dict[str, dict] = {}
        for item in self.fields.values():
            node = tree
            for name in item.path.split("."):
                node = node.setdefault(name, {})
            nested = _shape_of(item.value)
            if nested is not None:
                _merge(node, nested._tree())
        return tree

    def convert(self, value: dict[str, Any] | None) -> dict[str, Any] | None:
        if value is None:
            return None
        return {key: item.value.convert(_at(value, item.path)) for key, item in self.fields.items()}

    def json_schema(self, components: dict[str, Schema]) -> Schema:
        if self.name not in components:
            components[self.name] = {}  # placeholder: shapes may refer to each other
            components[self.name] = object_schema(
                self.description, {key: (item.value, item.description) for key, item in self.fields.items()}, components
            )
        return {"$ref": f"#/components/schemas/{self.name}"}


@dataclass(frozen=True)
class Envelope:
    """A JSON object the REST layer builds around GraphQL results (a page, a computation's receipt). Only its
    schema is declared here; the route's mapping fills it."""

    name: str
    description: str
    fields: dict[str, tuple[Value | ListOf | Nullable | Shape | Envelope, str]] = field(default_factory=dict)

    def json_schema(self, components: dict[str, Schema]) -> Schema:
        if self.name not in components:
            components[self.name] = {}
            components[self.name] = object_schema(self.description, self.fields, components)
        return {"$ref": f"#/components/schemas/{self.name}"}


def object_schema(description: str, fields: dict[str, tuple[Any, str]], components: dict[str, Schema]) -> Schema:
    """A closed JSON object whose keys are all present."""
    properties = {}
    for key, (value, text) in fields.items():
        schema = value.json_schema(components)
        if "$ref" not in schema:
            schema["description"] = text
        properties[key] = schema
    return {
        "type": "object",
        "description": description,
        "properties": properties,
        "required": list(fields),
        "additionalProperties": False,
    }


def _shape_of(value: Any) -> Shape | None:
    while isinstance(value, ListOf | Nullable):
        value = value.item
    return value if isinstance(value, Shape) else None


def _merge(into: dict[str, dict], other: dict[str, dict]) -> None:
    for name, children in other.items():
        _merge(into.setdefault(name, {}), children)


def _render(tree: dict[str, dict]) -> str:
    return " ".join(f"{name} {{ {_render(children)} }}" if children else name for name, children in tree.items())


def _at(value: dict[str, Any], path: str) -> Any:
    for name in path.split("."):
        if value is None:
            return None
        value = value.get(name)
    return value


def one_of(values: Iterable[str]) -> Value:
    """A string out of a fixed list."""
    return Value({"type": "string", "enum": list(values)})
