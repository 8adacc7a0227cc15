"""Statements built once per *shape* and executed with fresh values.

Building a SQLAlchemy statement with subqueries is costly in Python: every subquery proxies each of its
columns, dozens of objects per column; executing it through SQLAlchemy adds a compile-cache lookup and result
processing per value. A read path that runs the same statement with different values (a page for another
tenant, company or cursor) builds it once per shape here, renders it once to SQL text with ``$n`` placeholders,
and runs the text on the plain asyncpg pool (``Database.fetch_rows``) with the request's values.

This is only correct when every value of the statement is a *named* bind parameter (the access rules name
theirs, ``access.VIEWER_TENANT`` and friends): a statement holding an anonymous one — a literal compared in
Python, ``column >= 0.5`` — would replay the value it was built with, so :meth:`ShapedStatements.get` refuses to
cache it; :meth:`ShapedStatement.arguments` refuses values that miss a parameter.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import JSON
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import _anonymous_label

_DIALECT = asyncpg.dialect()  # $n placeholders, a name used twice shares one


@dataclass(frozen=True)
class ShapedStatement:
    sql: str
    parameters: tuple[str, ...]  # the bind parameters' names, in the order of their placeholders
    json_columns: frozenset[str]  # selected columns asyncpg returns as JSON text (SQLAlchemy would decode them)

    def arguments(self, values: Mapping[str, Any]) -> list[Any]:
        """The placeholders' values out of ``values``, which must name every parameter (SQL text has no
        build-time value to fall back on, and a wrong one must never be guessed)."""
        try:
            return [values[name] for name in self.parameters]
        except KeyError as missing:
            raise RuntimeError(f"no value for {missing}: the statement would reuse a stale one") from None


class ShapedStatements:
    """A bounded cache of statements by shape (least recently used out first)."""

    def __init__(self, size: int = 256) -> None:
        self._size = size
        self._statements: OrderedDict[Hashable, ShapedStatement] = OrderedDict()

    def get(self, shape: Hashable, build: Callable[[], Executable]) -> ShapedStatement:
        cached = self._statements.get(shape)
        if cached is not None:
            self._statements.move_to_end(shape)
            return cached
        statement = build()
        compiled = statement.compile(dialect=_DIALECT)
        anonymous = [bind for bind in compiled.binds.values() if isinstance(bind.key, _anonymous_label)]
        if anonymous:
            raise RuntimeError(f"statement of shape {shape!r} has unnamed values: {[str(b) for b in anonymous]}")
        if any(bind.expanding for bind in compiled.binds.values()):
            raise RuntimeError(f"statement of shape {shape!r} has an expanding IN list: use = ANY(array) instead")
        json_columns = frozenset(
            column.name for column in getattr(statement, "selected_columns", ()) if isinstance(column.type, JSON)
        )
        cached = ShapedStatement(compiled.string, tuple(compiled.positiontup or ()), json_columns)
        self._statements[shape] = cached
        while len(self._statements) > self._size:
            self._statements.popitem(last=False)
        return cached
