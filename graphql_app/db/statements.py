"""Statements built once per *shape* and executed with fresh values.

Building a SQLAlchemy statement with subqueries is costly in Python: every subquery proxies each of its
columns, dozens of objects per column. A read path that runs the same statement with different values (a page
for another tenant, company or cursor) builds it once per shape here and passes the values at execution.

This is only correct when every value of the statement is a *named* bind parameter (the access rules name
theirs, ``access.VIEWER_TENANT`` and friends): a statement holding an anonymous one — a literal compared in
Python, ``column >= 0.5`` — would replay the value it was built with, so :meth:`ShapedStatements.get` refuses to
cache it. :meth:`ShapedStatements.values` refuses values that miss a parameter for the same reason.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import Executable
from sqlalchemy.sql.elements import _anonymous_label

_DIALECT = postgresql.dialect()


@dataclass(frozen=True)
class ShapedStatement:
    statement: Executable
    parameters: frozenset[str]

    def values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The statement's parameters' values out of ``values``, which must name every one of them (a missing one
        would replay its build-time value)."""
        try:
            return {name: values[name] for name in self.parameters}
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
        binds = statement.compile(dialect=_DIALECT).binds.values()
        anonymous = [bind for bind in binds if isinstance(bind.key, _anonymous_label)]
        if anonymous:
            raise RuntimeError(f"statement of shape {shape!r} has unnamed values: {[str(b) for b in anonymous]}")
        cached = ShapedStatement(statement, frozenset(bind.key for bind in binds))
        self._statements[shape] = cached
        while len(self._statements) > self._size:
            self._statements.popitem(last=False)
        return cached
