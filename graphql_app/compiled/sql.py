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
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from graphql import Undefined, VariableNode, is_non_null_type, value_from_ast
from sqlalchemy import ColumnElement
from sqlalchemy.dialects import postgresql

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.compiled.plan import FieldPlan

#: Renders access conditions with named parameters, which :meth:`SqlWriter.clause` turns into placeholders.
_DIALECT = postgresql.dialect(paramstyle="named")
#: Bind parameters of ``graphql_app.access`` whose values come from the request, not from a field's arguments.
_SHARED_BINDS = {
    access.NOW: "now",
    access.VIEWER_TENANT: "tenant",
    access.VIEWER_MEMBER: "member",
    access.VIEWER_SUBJECT: "subject",
}

#: A non-null value the resolvers would have raised NOT_FOUND for (or that would break nullability): the
#: statement puts this JSON string there, and the executor hands the whole operation to the resolvers.
MISSING = "<mg:missing>"
MISSING_JSON = "'\"" + MISSING + "\"'::json"


class Fallback(Exception):
    """This request must run through the resolvers (an invalid argument, a missing row, …)."""


#: Where a statement parameter's value comes from: ("field", id of a FieldPlan, key of its bound values) or
#: ("shared", "now" | "tenant" | "member" | "subject" | "roles").
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
            return {
                "now": lambda: self.now,
                "tenant": lambda: self.principal.tenant_id,
                "member": lambda: self.principal.member_id,
                "subject": lambda: self.principal.subject,
                "roles": lambda: sorted(role.value for role in self.principal.roles),
            }[owner]()
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
    #: Each object type's field renderers (``graphql_app.compiled.mappings.OBJECT_FIELDS``).
    renderers: dict = field(default_factory=dict)
    sources: list[ParamSource] = field(default_factory=list)
    _shared: dict[tuple, str] = field(default_factory=dict)
    _shared_index: dict[str, int] = field(default_factory=dict)
    _aliases: int = 0

    def bound(self, field_plan: FieldPlan) -> dict[str, Any]:
        """The validated argument values of a field (its binder ran before rendering)."""
        return self.bindings.fields[id(field_plan)]

    def param(self, field_plan: FieldPlan, key: str, pg_type: str) -> str:
        """A placeholder for one of the field's bound values."""
        self.sources.append(("field", id(field_plan), key))
        return f"${len(self.sources)}::{pg_type}"

    def _shared_param(self, name: str, pg_type: str | None) -> str:
        """The statement's one placeholder for a shared value (the clock, a value of the viewer). SQLAlchemy's
        rendering adds the cast itself (``pg_type`` None)."""
        key = (name, pg_type)
        placeholder = self._shared.get(key)
        if placeholder is None:
            index = self._shared_index.get(name)
            if index is None:
                self.sources.append(("shared", name, None))
                index = self._shared_index[name] = len(self.sources)
            placeholder = self._shared[key] = f"${index}" + (f"::{pg_type}" if pg_type else "")
        return placeholder

    def viewer_param(self, name: str, pg_type: str) -> str:
        """The placeholder of a value of the caller: ``tenant``, ``member``, ``subject`` or ``roles``."""
        return self._shared_param(name, pg_type)

    def alias(self, prefix: str) -> str:
        self._aliases += 1
        return f"{prefix}{self._aliases}"

    @property
    def now_param(self) -> str:
        return self._shared_param("now", "timestamptz")

    @property
    def principal(self) -> Principal:
        return self.bindings.principal

    @property
    def now(self) -> datetime:
        return self.bindings.now

    def order(self, terms: list) -> str:
        """SQL text of an ORDER BY list built by ``graphql_app.access``."""
        return ", ".join(self._render(term, None) for term in terms)

    def clause(self, condition: ColumnElement, field_plan: FieldPlan | None = None) -> str:
        """SQL text of a SQLAlchemy condition (``graphql_app.access`` builds them over aliases named as this
        statement names its rows), its bind parameters turned into this statement's placeholders: the viewer's
        values and the clock shared, any other the field's bound value of that name."""
        return f"({self._render(condition, field_plan)})"

    def _render(self, expression: ColumnElement, field_plan: FieldPlan | None) -> str:
        compiled = expression.compile(dialect=_DIALECT)
        sql = compiled.string
        for name in sorted(compiled.binds, key=len, reverse=True):
            shared = _SHARED_BINDS.get(name)
            if shared is not None:
                placeholder = self._shared_param(shared, None)
            else:
                if field_plan is None:
                    raise ValueError(f"bind parameter {name!r} needs a field's bound value")
                self.sources.append(("field", id(field_plan), name))
                placeholder = f"${len(self.sources)}"
            sql = re.sub(rf"(?<![:\w]):{name}(?!\w)", placeholder, sql)
        return sql


def iso_timestamp(expr: str) -> str:
    """JSON string of a timestamptz as ``datetime.isoformat()`` prints it in UTC; JSON null for NULL."""
    utc = f"({expr} AT TIME ZONE 'UTC')"
    return (
        f"to_json(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') || "
        f"CASE WHEN extract(microseconds FROM {utc})::bigint % 1000000 = 0 THEN '' "
        f"ELSE to_char({utc}, '.US') END || '+00:00')"
    )


def match_cursor(alias: str, score: str = "score") -> str:
    """``MatchCursor(score, id).encode()`` in SQL (unpadded URL-safe base64; PostgreSQL wraps base64 lines)."""
    raw = f"convert_to('gm2|' || encode(float8send({alias}.{score}), 'hex') || '|' || {alias}.id::text, 'UTF8')"
    return f"rtrim(translate(encode({raw}, 'base64'), E'+/\\n', '-_'), '=')"


def offset_cursor(position: str) -> str:
    """``encode_offset_cursor(position)`` in SQL."""
    return f"rtrim(translate(encode(convert_to('o1|' || ({position})::text, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"


def json_object(pairs: list[tuple[str, str]]) -> str:
    """``json_build_object`` of (response key, SQL expression) pairs; keys are GraphQL names (no quoting)."""
    return "json_build_object(" + ", ".join(f"'{key}', {expr}" for key, expr in pairs) + ")"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def alert_cursor(alias: str) -> str:
    """``encode_alert_cursor(sequence)`` in SQL."""
    return (
        f"rtrim(translate(encode(convert_to('ga1|' || {alias}.sequence::text, 'UTF8'), 'base64'), E'+/\\n', '-_'), '=')"
    )
