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

from graphql import Undefined, VariableNode, value_from_ast

from graphql_app.auth import Principal
from graphql_app.compiled.plan import FieldPlan

#: A non-null value the resolvers would have raised NOT_FOUND for (or that would break nullability): the
#: statement puts this JSON string there, and the executor hands the whole operation to the resolvers.
MISSING = "<mg:missing>"
MISSING_JSON = "'\"" + MISSING + "\"'::json"


class Fallback(Exception):
    """This request must run through the resolvers (an invalid argument, a missing row, …)."""


@dataclass
class SqlWriter:
    """Accumulates positional parameters and unique table aliases while a plan is rendered."""

    principal: Principal
    now: datetime
    variables: dict[str, Any]
    params: list[Any] = field(default_factory=list)
    _shared: dict[str, str] = field(default_factory=dict)
    _aliases: int = 0

    def param(self, value: Any, pg_type: str) -> str:
        self.params.append(value)
        return f"${len(self.params)}::{pg_type}"

    def shared(self, name: str, value: Any, pg_type: str) -> str:
        """One parameter used in many places (the clock's now, the tenant)."""
        placeholder = self._shared.get(name)
        if placeholder is None:
            placeholder = self._shared[name] = self.param(value, pg_type)
        return placeholder

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    @property
    def now_param(self) -> str:
        return self.shared("now", self.now, "timestamptz")

    def tenant_condition(self, alias: str) -> str:
        """Tenant scoping, as :func:`graphql_app.db.scoping.scoped` does it: platform admins see all tenants."""
        if self.principal.is_platform_admin:
            return "TRUE"
        return f"{alias}.tenant_id = {self.shared('tenant', self.principal.tenant_id, 'text')}"

    def arguments(self, field_plan: FieldPlan) -> dict[str, Any]:
        """The field's argument values as its resolver would receive them (defaults applied, enums as values)."""
        definition = field_plan.definition
        given = {argument.name.value: argument.value for argument in field_plan.node.arguments or ()}
        values: dict[str, Any] = {}
        for name, argument in definition.args.items():
            node = given.get(name)
            if node is None or (isinstance(node, VariableNode) and node.name.value not in self.variables):
                value = argument.default_value
            elif isinstance(node, VariableNode):
                value = self.variables[node.name.value]
            else:
                value = value_from_ast(node, argument.type, self.variables)
            if value is Undefined:
                value = None
            values[name] = value.value if isinstance(value, enum.Enum) else value
        return values


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


def json_object(pairs: list[tuple[str, str]]) -> str:
    """``json_build_object`` of (response key, SQL expression) pairs; keys are GraphQL names (no quoting)."""
    return "json_build_object(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
