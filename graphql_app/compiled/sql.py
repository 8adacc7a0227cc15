"""Rendering a plan into one SQL statement: parameters, aliases, and JSON values formatted exactly as the
resolvers' serialisation would format them.

* ``DateTime``: ``datetime.isoformat()`` of a UTC datetime — ``2026-06-01T09:30:00+00:00``, with
  ``.ffffff`` only when there are microseconds — whatever the session's TimeZone.
* ``Float``: PostgreSQL prints float8 in the shortest form that round-trips (as Python does), but without
  a trailing ``.0`` for whole numbers: ``1`` where the resolvers print ``1.0`` (the same JSON number).
* Cursors: :class:`graphql_app.services.pages.MatchCursor`'s ``gm2`` encoding, built from ``float8send``.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import Undefined, VariableNode, is_non_null_type, value_from_ast

from graphql_app.auth import Principal
from graphql_app.compiled.plan import FieldPlan

#: A non-null value the resolvers would have raised NOT_FOUND for (or that would break nullability): the
#: statement puts this JSON string there, and the executor hands the whole operation to the resolvers.
MISSING = "<mg:missing>"
MISSING_JSON = "'\"" + MISSING + "\"'::json"


class Fallback(Exception):
    """This request must run through the resolvers (an invalid argument, a missing row, …)."""


#: Where a statement parameter's value comes from: ("field", id of a FieldPlan, key of its bound values) or
#: ("shared", "now" | "tenant").
ParamSource = tuple[str, int | str, str | None]


@dataclass
class Bindings:
    """One request's values: each argument-bearing field's validated arguments, the clock and the caller."""

    principal: Principal
    now: datetime
    fields: dict[int, dict[str, Any]] = field(default_factory=dict)  # id(FieldPlan) -> bound values
    shape: list[Any] = field(default_factory=list)  # what the statement's text depends on

    def value_of(self, source: ParamSource) -> Any:
        kind, owner, key = source
        if kind == "shared":
            return self.now if owner == "now" else self.principal.tenant_id
        return self.fields[owner][key]


def argument_values(field_plan: FieldPlan, variables: dict[str, Any]) -> dict[str, Any]:
    """The field's argument values as its resolver would receive them (defaults applied, enums as values)."""
    given = {argument.name.value: argument.value for argument in field_plan.node.arguments or ()}
    values: dict[str, Any] = {}
    for name, argument in field_plan.definition.args.items():
        node = given.get(name)
        if node is None or (isinstance(node, VariableNode) and node.name.value not in variables):
            value = argument.default_value
        elif isinstance(node, VariableNode):
            value = variables[node.name.value]
        else:
            value = value_from_ast(node, argument.type, variables)
            if value is Undefined:  # a literal graphql-core cannot coerce (e.g. 1e400): the resolvers refuse it
                raise Fallback
        if value is Undefined:
            value = None
        if value is None and is_non_null_type(argument.type):
            raise Fallback  # an explicit null for a non-null argument: graphql-core reports it
        values[name] = value.value if isinstance(value, enum.Enum) else value
    return values


@dataclass
class SqlWriter:
    """Renders a statement's text for one shape, recording where each positional parameter comes from."""

    bindings: Bindings
    sources: list[ParamSource] = field(default_factory=list)
    _shared: dict[str, str] = field(default_factory=dict)
    _aliases: int = 0

    def bound(self, field_plan: FieldPlan) -> dict[str, Any]:
        """The validated argument values of a field (its binder ran before rendering)."""
        return self.bindings.fields[id(field_plan)]

    def param(self, field_plan: FieldPlan, key: str, pg_type: str) -> str:
        """A placeholder for one of the field's bound values."""
        self.sources.append(("field", id(field_plan), key))
        return f"${len(self.sources)}::{pg_type}"

    def _shared_param(self, name: str, pg_type: str) -> str:
        placeholder = self._shared.get(name)
        if placeholder is None:
            self.sources.append(("shared", name, None))
            placeholder = self._shared[name] = f"${len(self.sources)}::{pg_type}"
        return placeholder

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    @property
    def now_param(self) -> str:
        return self._shared_param("now", "timestamptz")

    def tenant_condition(self, alias: str) -> str:
        """Tenant scoping, as :func:`graphql_app.db.scoping.scoped` does it: platform admins see all tenants."""
        if self.bindings.principal.is_platform_admin:
            return "TRUE"
        return f"{alias}.tenant_id = {self._shared_param('tenant', 'text')}"


def iso_timestamp(expr: str) -> str:
    """JSON string of a timestamptz as ``datetime.isoformat()`` prints it in UTC; JSON null for NULL."""
    utc = f"({expr} AT TIME ZONE 'UTC')"
    return (
        f"to_json(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN extract(microseconds FROM {utc})::bigint % 1000000 = 0 THEN '' "
        f"ELSE to_char({utc}, '.US') END || '+00:00')"
    )


def match_cursor(alias: str) -> str:
    """``MatchCursor(score, id).encode()`` in SQL (unpadded URL-safe base64; PostgreSQL wraps base64 lines)."""
    raw = f"convert_to('gm2|' || encode(float8send({alias}.score), 'hex') || '|' || {alias}.id::text, 'UTF8')"
    return f"rtrim(translate(encode({raw}, 'base64'), E'+/\\n', '-_'), '=')"


def offset_cursor(position: str) -> str:
    """``encode_offset_cursor(position)`` in SQL."""
    return f"rtrim(translate(encode(convert_to('o1|' || ({position})::text, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"


def json_object(pairs: list[tuple[str, str]]) -> str:
    """``json_build_object`` of (response key, SQL expression) pairs; keys are GraphQL names (no quoting)."""
    return "json_build_object(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
