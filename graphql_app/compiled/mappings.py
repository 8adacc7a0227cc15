"""Which GraphQL fields the compiled path renders, and the SQL for each.

Every renderer mirrors a resolver: the same table, the same access rules — rendered from
:mod:`graphql_app.access`'s own conditions (``SqlWriter.clause``), never written again here — the same order,
the same argument validation (``graphql_app.validation``, whose errors send the request to the resolvers).
Adding a field here without its twin in ``schema/types`` is caught by ``tests/api/test_compiled_queries.py``,
which compares both paths' answers.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Table

from graphql_app import access, validation
from graphql_app.compiled.plan import FieldPlan, SelectionPlan
from graphql_app.compiled.sql import (
    MISSING_JSON,
    Bindings,
    Fallback,
    SqlWriter,
    argument_values,
    iso_timestamp,
    json_object,
    literal,
    match_cursor,
    offset_cursor,
)
from graphql_app.db.models import companies, grant_matches, grants
from graphql_app.errors import MatchgraphError
from graphql_app.services.pages import MatchCursor, decode_offset_cursor

#: Renders one field of an object whose row is ``alias``; returns a SQL expression of its JSON value.
FieldRenderer = Callable[[FieldPlan, str, SqlWriter], str]

#: Validates a field's arguments (as its resolver does) into the values its statement binds, plus what the
#: statement's text depends on (the shape). Raises :class:`Fallback` for anything the resolver would refuse.
FieldBinder = Callable[[dict], tuple[dict, tuple]]


def _column(name: str) -> FieldRenderer:
    return lambda field, alias, writer: f"{alias}.{name}"


def _float(name: str) -> FieldRenderer:
    return lambda field, alias, writer: f"{alias}.{name}::float8"


def _timestamp(name: str) -> FieldRenderer:
    return lambda field, alias, writer: iso_timestamp(f"{alias}.{name}")


def _uuid_text(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return f"{alias}.id::text"


def _checked(parse: Callable[[], object]):
    """An argument parsed by the resolvers' own validation; an invalid one sends the request to them."""
    try:
        return parse()
    except MatchgraphError:
        raise Fallback from None


def render_selection(selection: SelectionPlan, alias: str, writer: SqlWriter) -> str:
    """The JSON object of ``selection`` for the row ``alias``."""
    fields = OBJECT_FIELDS[selection.type_name]
    pairs = []
    for field in selection.fields:
        if field.name == "__typename":
            pairs.append((field.key, literal(selection.type_name)))
        else:
            pairs.append((field.key, fields[field.name](field, alias, writer)))
    return json_object(pairs)


def _row_of(table: str, prefix: str, condition: Callable[[str], str], field: FieldPlan, writer: SqlWriter) -> str:
    """A non-null object field: the one row of ``table`` matching ``condition`` (MISSING when there is none)."""
    alias = writer.alias(prefix)
    return (
        f"coalesce((SELECT {render_selection(field.selection, alias, writer)} FROM {table} {alias} "
        f"WHERE {condition(alias)}), {MISSING_JSON})"
    )


# --- Grant ---------------------------------------------------------------------------------------------------


def _days_left(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    # whole_days_left's float steps: seconds as a double (correctly rounded, as timedelta.total_seconds()),
    # divided by 86400 in doubles, floored (NULL for rolling calls).
    return f"floor(extract(epoch FROM ({alias}.deadline - {writer.now_param}))::float8 / 86400)::int"


def _open_grant(g: str, writer: SqlWriter) -> str:
    return writer.clause(access.open_grants(grants.alias(g), writer.now))


def _tenant_rows(table: Table, alias: str, writer: SqlWriter) -> str:
    return writer.clause(access.tenant_rows(table.alias(alias), writer.principal))


def _is_open(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return _open_grant(alias, writer)


GRANT_FIELDS: dict[str, FieldRenderer] = {
    "id": _uuid_text,
    "title": _column("title"),
    "description": _column("description"),
    "funder": _column("funder"),
    "countries": _column("countries"),
    "naceCodes": _column("nace_codes"),
    "sizes": _column("sizes"),
    "carbonCategories": _column("carbon_categories"),
    "certifications": _column("certifications"),
    "taxonomyObjectives": _column("taxonomy_objectives"),
    "isCarbonFocused": _column("is_carbon_focused"),
    "deadline": _timestamp("deadline"),
    "amountMin": _float("amount_min"),
    "amountMax": _float("amount_max"),
    "currency": _column("currency"),
    "url": _column("url"),
    "createdAt": _timestamp("created_at"),
    "updatedAt": _timestamp("updated_at"),
    "daysLeft": _days_left,
    "isOpen": _is_open,
}


# --- Grant matches and their connection ----------------------------------------------------------------------


def bind_grant_match_connection(args: dict) -> tuple[dict, tuple]:
    """``first``, ``minScore``, ``after`` and ``status`` as ``Company.grantMatches`` validates them."""
    first = _checked(lambda: validation.page_size(args["first"]))
    min_score = _checked(lambda: validation.score_threshold(args["minScore"]))
    after = _checked(lambda: MatchCursor.decode(args["after"])) if args["after"] else None
    values = {
        "first": first,
        "min_score": min_score,
        "after_score": after.score if after else None,
        "after_id": after.id if after else None,
        "status": args["status"],
    }
    return values, (args["status"], min_score is not None, after is not None)


def _connection(
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


def _all_columns(table: Table) -> Callable[[str], str]:
    """The table's columns but its embedding (never rendered; 1.5 kB a row to carry through the page)."""
    names = [column.name for column in table.c if column.name != "embedding"]
    return lambda alias: ", ".join(f"{alias}.{name}" for name in names)


def grant_match_connection(field: FieldPlan, writer: SqlWriter, parent: Callable[[str], str] | None) -> str:
    """A ``GrantMatchConnection`` as ``fetch_grant_match_pages`` pages it: open grants only, tenant-scoped,
    ``(score DESC, id)`` keyset order, the filtered total counted before the cursor."""
    # Placeholders are taken where they are used: a part of the statement that is not rendered (no page rows
    # asked for) must not leave parameters without a placeholder.
    bound = writer.bound(field)

    def filtered(m: str) -> str:
        g = writer.alias("g")
        rules = access.grant_match_list(
            grant_matches.alias(m), grants.alias(g), writer.principal, writer.now, bound["status"]
        )
        conditions = [writer.clause(rule) for rule in rules]
        if bound["min_score"] is not None:
            conditions.append(f"{m}.score >= {writer.param(field, 'min_score', 'float8')}")
        if parent is not None:
            conditions.append(parent(m))
        return f"grant_matches {m} JOIN grants {g} ON {g}.id = {m}.grant_id WHERE " + " AND ".join(conditions)

    def keyset(m: str) -> str:
        score, ident = writer.param(field, "after_score", "float8"), writer.param(field, "after_id", "uuid")
        return f"({m}.score < {score} OR ({m}.score = {score} AND {m}.id > {ident}))"

    return _connection(
        field,
        writer,
        filtered=filtered,
        columns=_all_columns(grant_matches),
        order=lambda m: writer.order(access.grant_match_order(grant_matches.alias(m))),
        cursor=match_cursor,
        after=keyset if bound["after_id"] is not None else None,
    )


def _match_grant(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return _row_of("grants", "g", lambda g: f"{g}.id = {alias}.grant_id", field, writer)


def _match_company(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    def condition(c: str) -> str:
        return f"{c}.id = {alias}.company_id AND {_tenant_rows(companies, c, writer)}"

    return _row_of("companies", "c", condition, field, writer)


GRANT_MATCH_FIELDS: dict[str, FieldRenderer] = {
    "id": _uuid_text,
    "createdAt": _timestamp("created_at"),
    "updatedAt": _timestamp("updated_at"),
    "score": _column("score"),
    "semanticScore": _column("semantic_score"),
    "ruleScore": _column("rule_score"),
    "carbonScore": _column("carbon_score"),
    "collaborativeScore": _column("collaborative_score"),
    "recencyScore": _column("recency_score"),
    "matchReasons": _column("match_reasons"),
    "scoreBreakdown": _column("score_breakdown"),
    "isViewed": _column("is_viewed"),
    "isSaved": _column("is_saved"),
    "isDismissed": _column("is_dismissed"),
    "grant": _match_grant,
    "company": _match_company,
}


# --- Company -------------------------------------------------------------------------------------------------


def _company_grant_matches(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return grant_match_connection(field, writer, lambda m: f"{m}.company_id = {alias}.id")


COMPANY_FIELDS: dict[str, FieldRenderer] = {
    "id": _uuid_text,
    "name": _column("name"),
    "country": _column("country"),
    "naceCodes": _column("nace_codes"),
    "size": _column("size"),
    "employees": _column("employees"),
    "description": _column("description"),
    "carbonCategories": _column("carbon_categories"),
    "certifications": _column("certifications"),
    "taxonomyObjectives": _column("taxonomy_objectives"),
    "createdAt": _timestamp("created_at"),
    "updatedAt": _timestamp("updated_at"),
    "grantMatches": _company_grant_matches,
}


# --- Query ---------------------------------------------------------------------------------------------------


def bind_id(args: dict) -> tuple[dict, tuple]:
    return {"id": _checked(lambda: validation.parse_uuid(args["id"]))}, ()


def _query_company(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    company_id = writer.param(field, "id", "uuid")
    return _row_of(
        "companies", "c", lambda c: f"{c}.id = {company_id} AND {_tenant_rows(companies, c, writer)}", field, writer
    )


def _query_grant(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    grant_id = writer.param(field, "id", "uuid")
    return _row_of("grants", "g", lambda g: f"{g}.id = {grant_id}", field, writer)


def _query_grant_match(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    match_id = writer.param(field, "id", "uuid")
    return _row_of(
        "grant_matches",
        "m",
        lambda m: f"{m}.id = {match_id} AND {_tenant_rows(grant_matches, m, writer)}",
        field,
        writer,
    )


def bind_root_grant_matches(args: dict) -> tuple[dict, tuple]:
    values, shape = bind_grant_match_connection(args)
    company_id = args["companyId"]
    if company_id is not None:
        company_id = _checked(lambda: validation.parse_uuid(company_id, "companyId"))
    return {**values, "company_id": company_id}, (company_id is not None, *shape)


def _query_grant_matches(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    if writer.bound(field)["company_id"] is None:
        return grant_match_connection(field, writer, None)
    company = writer.param(field, "company_id", "uuid")
    connection = grant_match_connection(field, writer, lambda m: f"{m}.company_id = {company}")
    c = writer.alias("c")
    # The resolver answers NOT_FOUND for a company the viewer cannot see (rather than an empty page).
    visible = f"EXISTS (SELECT 1 FROM companies {c} WHERE {c}.id = {company} AND {_tenant_rows(companies, c, writer)})"
    return f"CASE WHEN {visible} THEN {connection} ELSE {MISSING_JSON} END"


def bind_offset_page(args: dict) -> tuple[dict, tuple]:
    """``first``, ``after`` (an offset cursor) and the list's filters, as ``grants``/``companies`` check them."""
    first = _checked(lambda: validation.page_size(args["first"]))
    offset = _checked(lambda: decode_offset_cursor(args["after"]))
    values = {"first": first, "offset": offset}
    if "country" in args:
        country = args["country"]
        values["country"] = None if country is None else _checked(lambda: validation.country_code(country))
    if "includeClosed" in args:
        values["include_closed"] = bool(args["includeClosed"])
    return values, (values.get("country") is not None, values.get("include_closed"), offset > 0)


def _offset_connection(
    field: FieldPlan, writer: SqlWriter, table: Table, where: Callable[[str], str], order: Callable[[str], str]
) -> str:
    """A catalogue list paged like ``resolvers.common.offset_page``: ``o1|n`` cursors, OFFSET/LIMIT."""
    bound = writer.bound(field)
    placeholder: list[str] = []

    def offset() -> str:
        if not placeholder:
            placeholder.append(writer.param(field, "offset", "bigint"))
        return placeholder[0]

    def cursor(a: str) -> str:
        position = f"{offset()} + {a}.mg_rn - 1" if bound["offset"] else f"{a}.mg_rn - 1"
        return offset_cursor(position)

    return _connection(
        field,
        writer,
        filtered=lambda a: f"{table.name} {a} WHERE {where(a)}",
        columns=_all_columns(table),
        order=order,
        cursor=cursor,
        offset=offset if bound["offset"] else None,
    )


def _query_grants(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    include_closed = writer.bound(field)["include_closed"]

    def where(g: str) -> str:
        return "TRUE" if include_closed else _open_grant(g, writer)

    return _offset_connection(
        field, writer, grants, where, lambda g: writer.order(access.catalogue_order(grants.alias(g)))
    )


def _query_companies(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    country = writer.bound(field)["country"]

    def where(c: str) -> str:
        condition = _tenant_rows(companies, c, writer)
        if country is not None:
            condition += f" AND {c}.country = {writer.param(field, 'country', 'text')}"
        return condition

    return _offset_connection(
        field, writer, companies, where, lambda c: writer.order(access.companies_order(companies.alias(c)))
    )


QUERY_FIELDS: dict[str, FieldRenderer] = {
    "company": _query_company,
    "companies": _query_companies,
    "grants": _query_grants,
    "grant": _query_grant,
    "grantMatch": _query_grant_match,
    "grantMatches": _query_grant_matches,
}

OBJECT_FIELDS: dict[str, dict[str, FieldRenderer]] = {
    "Query": QUERY_FIELDS,
    "Grant": GRANT_FIELDS,
    "GrantMatch": GRANT_MATCH_FIELDS,
    "Company": COMPANY_FIELDS,
}

#: Types rendered by their parent field's renderer (the connection), with the fields it handles.
CONNECTION_FIELDS: dict[str, frozenset[str]] = {
    "GrantMatchConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "GrantMatchEdge": frozenset({"cursor", "node"}),
    "GrantConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "GrantEdge": frozenset({"cursor", "node"}),
    "CompanyConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "CompanyEdge": frozenset({"cursor", "node"}),
    "PageInfo": frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}),
}


def is_supported(type_name: str, field_name: str) -> bool:
    """Whether the compiled path renders ``type_name.field_name``."""
    if type_name in OBJECT_FIELDS:
        return field_name in OBJECT_FIELDS[type_name]
    return field_name in CONNECTION_FIELDS.get(type_name, ())


#: Argument-bearing fields and their binders (a supported field with arguments must have one).
BINDERS: dict[tuple[str, str], FieldBinder] = {
    ("Query", "company"): bind_id,
    ("Query", "companies"): bind_offset_page,
    ("Query", "grants"): bind_offset_page,
    ("Query", "grant"): bind_id,
    ("Query", "grantMatch"): bind_id,
    ("Query", "grantMatches"): bind_root_grant_matches,
    ("Company", "grantMatches"): bind_grant_match_connection,
}


def bind_plan(root: SelectionPlan, variables: dict, bindings: Bindings) -> None:
    """Validate every argument of the plan for this request (walk order fixes the shape's layout)."""
    pending = [root]
    while pending:
        selection = pending.pop()
        for field in selection.fields:
            if field.definition is not None and field.definition.args:
                binder = BINDERS.get((selection.type_name, field.name))
                if binder is None:
                    raise Fallback
                values, shape = binder(argument_values(field, variables))
                bindings.fields[id(field)] = values
                bindings.shape.append(shape)
            if field.selection is not None:
                pending.append(field.selection)


def render_operation(root: SelectionPlan, writer: SqlWriter) -> str:
    """The statement: one row, one column, the response's ``data`` as JSON text."""
    return f"SELECT {render_selection(root, '', writer)}::text"
