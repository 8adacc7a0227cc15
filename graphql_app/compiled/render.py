"""Rendering plans into SQL that builds JSON: an object's fields, a related row, a connection (keyset or offset
pages with cursors, page info and the total). The renderers of each type are in ``grant_fields`` and
``talent_fields``; ``mappings`` puts them together."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table

from graphql_app.compiled.plan import FieldPlan, SelectionPlan
from graphql_app.compiled.sql import (
    MISSING_JSON,
    Fallback,
    SqlWriter,
    iso_timestamp,
    json_object,
    literal,
    offset_cursor,
)
from graphql_app.errors import MatchgraphError

#: Renders one field of an object whose row is ``alias``; returns a SQL expression of its JSON value.
FieldRenderer = Callable[[FieldPlan, str, SqlWriter], str]

#: Validates a field's arguments (as its resolver does) into the values its statement binds, plus what the
#: statement's text depends on (the shape). Raises :class:`Fallback` for anything the resolver would refuse.
FieldBinder = Callable[[dict], tuple[dict, tuple]]


def column(name: str) -> FieldRenderer:
    return lambda field, alias, writer: f"{alias}.{name}"


def float_column(name: str) -> FieldRenderer:
    return lambda field, alias, writer: f"{alias}.{name}::float8"


def timestamp(name: str) -> FieldRenderer:
    return lambda field, alias, writer: iso_timestamp(f"{alias}.{name}")


def uuid_text(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return f"{alias}.id::text"


def checked(parse: Callable[[], object]):
    """An argument parsed by the resolvers' own validation; an invalid one sends the request to them."""
    try:
        return parse()
    except MatchgraphError:
        raise Fallback from None


def render_selection(selection: SelectionPlan, alias: str, writer: SqlWriter) -> str:
    """The JSON object of ``selection`` for the row ``alias``."""
    fields = writer.renderers[selection.type_name]
    pairs = []
    for field in selection.fields:
        if field.name == "__typename":
            pairs.append((field.key, literal(selection.type_name)))
        else:
            pairs.append((field.key, fields[field.name](field, alias, writer)))
    return json_object(pairs)


def row_of(table: str, prefix: str, condition: Callable[[str], str], field: FieldPlan, writer: SqlWriter) -> str:
    """A non-null object field: the one row of ``table`` matching ``condition`` (MISSING when there is none)."""
    alias = writer.alias(prefix)
    return (
        f"coalesce((SELECT {render_selection(field.selection, alias, writer)} FROM {table} {alias} "
        f"WHERE {condition(alias)}), {MISSING_JSON})"
    )


def optional_row_of(
    table: str, prefix: str, condition: Callable[[str], str], field: FieldPlan, writer: SqlWriter
) -> str:
    """A nullable object field: the one row of ``table`` matching ``condition``, JSON null when there is none."""
    alias = writer.alias(prefix)
    return f"(SELECT {render_selection(field.selection, alias, writer)} FROM {table} {alias} WHERE {condition(alias)})"


def connection(
    field: FieldPlan,
    writer: SqlWriter,
    *,
    filtered: Callable[[str], str],
    columns: Callable[[str], str],
    order: Callable[[str], str],
    cursor: Callable[[str], str],
    after: Callable[[str], str] | None = None,
    offset: Callable[[], str] | None = None,
) -> str:
    """A Relay connection over ``FROM … WHERE …`` (``filtered(alias)``): the page in ``order`` after a keyset
    condition (``after``) or an ``offset``, ``first`` + 1 rows to know whether more follow, the total over the
    whole filtered list, and ``cursor(alias)`` per row. One SQL expression of the connection's JSON."""
    pairs: list[tuple[str, str]] = []
    for part in field.selection.fields:
        if part.name == "__typename":
            pairs.append((part.key, literal(field.selection.type_name)))
        elif part.name == "totalCount":
            pairs.append((part.key, f"(SELECT count(*) FROM {filtered(writer.alias('t'))})"))
    if len(pairs) == len(field.selection.fields):  # no page rows asked for
        return json_object(pairs)

    a = writer.alias("p")
    first = writer.param(field, "first", "int")
    keyset = f" AND {after(a)}" if after is not None else ""
    skip = f" OFFSET {offset()}" if offset is not None else ""
    page = (
        f"SELECT {a}.*, row_number() OVER (ORDER BY {order(a)}) AS mg_rn, count(*) OVER () AS mg_n "
        f"FROM (SELECT {columns(a)} FROM {filtered(a)}{keyset} ORDER BY {order(a)}{skip} LIMIT {first} + 1) {a}"
    )
    rendered = dict(pairs)
    pairs = []
    for part in field.selection.fields:
        if part.key in rendered and part.name in ("__typename", "totalCount"):
            expr = rendered[part.key]
        elif part.name == "edges":
            edge = _edge(part.selection, a, cursor(a), writer)
            expr = f"coalesce(json_agg({edge} ORDER BY {a}.mg_rn) FILTER (WHERE {a}.mg_rn <= {first}), '[]'::json)"
        else:
            expr = _page_info(part.selection, a, first, cursor(a), after is not None or offset is not None)
        pairs.append((part.key, expr))
    # GROUP BY (): exactly one row, also for an empty page; page rows appear only inside aggregates.
    return f"(SELECT {json_object(pairs)} FROM ({page}) {a} GROUP BY ())"


def _edge(selection: SelectionPlan, a: str, cursor: str, writer: SqlWriter) -> str:
    pairs = []
    for part in selection.fields:
        if part.name == "__typename":
            pairs.append((part.key, literal(selection.type_name)))
        elif part.name == "cursor":
            pairs.append((part.key, cursor))
        else:
            pairs.append((part.key, render_selection(part.selection, a, writer)))
    return json_object(pairs)


def _page_info(selection: SelectionPlan, a: str, first: str, cursor: str, has_previous: bool) -> str:
    expressions = {
        "hasNextPage": f"coalesce(bool_or({a}.mg_rn > {first}), false)",
        "hasPreviousPage": "true" if has_previous else "false",
        "startCursor": f"max({cursor}) FILTER (WHERE {a}.mg_rn = 1)",
        "endCursor": f"max({cursor}) FILTER (WHERE {a}.mg_rn = least({a}.mg_n, {first}))",
        "__typename": literal(selection.type_name),
    }
    return json_object([(part.key, expressions[part.name]) for part in selection.fields])


def all_columns(table: Table) -> Callable[[str], str]:
    """The table's columns but its embedding (never rendered; 1.5 kB a row to carry through the page)."""
    names = [column.name for column in table.c if column.name != "embedding"]
    return lambda alias: ", ".join(f"{alias}.{name}" for name in names)


def offset_connection(
    field: FieldPlan, writer: SqlWriter, table: Table, where: Callable[[str], str], order: Callable[[str], str]
) -> str:
    """A list paged like ``services.pages.fetch_offset_page``: ``o1|n`` cursors, OFFSET/LIMIT."""
    bound = writer.bound(field)
    placeholder: list[str] = []

    def offset() -> str:
        if not placeholder:
            placeholder.append(writer.param(field, "offset", "bigint"))
        return placeholder[0]

    def cursor(a: str) -> str:
        position = f"{offset()} + {a}.mg_rn - 1" if bound["offset"] else f"{a}.mg_rn - 1"
        return offset_cursor(position)

    return connection(
        field,
        writer,
        filtered=lambda a: f"{table.name} {a} WHERE {where(a)}",
        columns=all_columns(table),
        order=order,
        cursor=cursor,
        offset=offset if bound["offset"] else None,
    )
