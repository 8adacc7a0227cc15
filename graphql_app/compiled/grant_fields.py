"""The grant side on the compiled path: grants, companies and grant matches, rendered from the same access rules
as the resolvers' (``graphql_app.access``), with each resolver's order, cursors and NOT_FOUND cases."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import Table

from graphql_app import access, validation
from graphql_app.compiled.plan import FieldPlan
from graphql_app.compiled.render import (
    FieldRenderer,
    all_columns,
    checked,
    column,
    connection,
    float_column,
    offset_connection,
    row_of,
    timestamp,
    uuid_text,
)
from graphql_app.compiled.sql import MISSING_JSON, SqlWriter, json_object, literal, match_cursor
from graphql_app.db.models import companies, grant_matches, grants
from graphql_app.matching.breakdown import SHAPE, StoredValue
from graphql_app.services.pages import MatchCursor, decode_offset_cursor

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
    "id": uuid_text,
    "title": column("title"),
    "description": column("description"),
    "funder": column("funder"),
    "countries": column("countries"),
    "naceCodes": column("nace_codes"),
    "sizes": column("sizes"),
    "carbonCategories": column("carbon_categories"),
    "certifications": column("certifications"),
    "taxonomyObjectives": column("taxonomy_objectives"),
    "isCarbonFocused": column("is_carbon_focused"),
    "deadline": timestamp("deadline"),
    "amountMin": float_column("amount_min"),
    "amountMax": float_column("amount_max"),
    "currency": column("currency"),
    "url": column("url"),
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "daysLeft": _days_left,
    "isOpen": _is_open,
}


# --- Grant matches and their connection ----------------------------------------------------------------------


def bind_grant_match_connection(args: dict) -> tuple[dict, tuple]:
    """``first``, ``minScore``, ``after`` and ``status`` as ``Company.grantMatches`` validates them."""
    first = checked(lambda: validation.page_size(args["first"]))
    min_score = checked(lambda: validation.score_threshold(args["minScore"]))
    after = checked(lambda: MatchCursor.decode(args["after"])) if args["after"] else None
    values = {
        "first": first,
        "min_score": min_score,
        "after_score": after.score if after else None,
        "after_id": after.id if after else None,
        "status": args["status"],
    }
    return values, (args["status"], min_score is not None, after is not None)


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

    return connection(
        field,
        writer,
        filtered=filtered,
        columns=all_columns(grant_matches),
        order=lambda m: writer.order(access.grant_match_order(grant_matches.alias(m))),
        cursor=match_cursor,
        after=keyset if bound["after_id"] is not None else None,
    )


def _match_grant(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return row_of("grants", "g", lambda g: f"{g}.id = {alias}.grant_id", field, writer)


def company_of_row(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    """The company of a row with a ``company_id`` (a match, an alert), if the viewer may see it."""

    def condition(c: str) -> str:
        return f"{c}.id = {alias}.company_id AND {_tenant_rows(companies, c, writer)}"

    return row_of("companies", "c", condition, field, writer)


def _score_breakdown(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    """The breakdown's JSON object built from its stored parts by walking ``breakdown.SHAPE``, as the resolvers'
    ``render_breakdown`` does (``{}`` without figures)."""

    def build(node: Mapping[str, Any]) -> str:
        return json_object(
            [
                (
                    key,
                    build(leaf)
                    if isinstance(leaf, Mapping)
                    else f"{alias}.{leaf.column}"
                    if isinstance(leaf, StoredValue)
                    else f"{alias}.breakdown_figures[{leaf + 1}]",
                )
                for key, leaf in node.items()
            ]
        )

    return f"CASE WHEN cardinality({alias}.breakdown_figures) = 0 THEN '{{}}'::json ELSE {build(SHAPE)} END"


GRANT_MATCH_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "score": column("score"),
    "semanticScore": column("semantic_score"),
    "ruleScore": column("rule_score"),
    "carbonScore": column("carbon_score"),
    "collaborativeScore": column("collaborative_score"),
    "recencyScore": column("recency_score"),
    "matchReasons": column("match_reasons"),
    "scoreBreakdown": _score_breakdown,
    "isViewed": column("is_viewed"),
    "isSaved": column("is_saved"),
    "isDismissed": column("is_dismissed"),
    "grant": _match_grant,
    "company": company_of_row,
}


# --- Company -------------------------------------------------------------------------------------------------


def _company_grant_matches(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return grant_match_connection(field, writer, lambda m: f"{m}.company_id = {alias}.id")


COMPANY_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "name": column("name"),
    "country": column("country"),
    "naceCodes": column("nace_codes"),
    "size": column("size"),
    "employees": column("employees"),
    "description": column("description"),
    "carbonCategories": column("carbon_categories"),
    "certifications": column("certifications"),
    "taxonomyObjectives": column("taxonomy_objectives"),
    "createdAt": timestamp("created_at"),
    "updatedAt": timestamp("updated_at"),
    "alertMinScore": column("alert_min_score"),
    "alertCarbonFocusedOnly": column("alert_carbon_focused_only"),
    "alertMinAmount": float_column("alert_min_amount"),
    "grantMatches": _company_grant_matches,
}


# --- Query ---------------------------------------------------------------------------------------------------


def bind_id(args: dict) -> tuple[dict, tuple]:
    return {"id": checked(lambda: validation.parse_uuid(args["id"]))}, ()


def _query_company(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    company_id = writer.param(field, "id", "uuid")
    return row_of(
        "companies", "c", lambda c: f"{c}.id = {company_id} AND {_tenant_rows(companies, c, writer)}", field, writer
    )


def _query_grant(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    grant_id = writer.param(field, "id", "uuid")
    return row_of("grants", "g", lambda g: f"{g}.id = {grant_id}", field, writer)


def _query_grant_match(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    match_id = writer.param(field, "id", "uuid")
    return row_of(
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
        company_id = checked(lambda: validation.parse_uuid(company_id, "companyId"))
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
    first = checked(lambda: validation.page_size(args["first"]))
    offset = checked(lambda: decode_offset_cursor(args["after"]))
    values = {"first": first, "offset": offset}
    if "country" in args:
        country = args["country"]
        values["country"] = None if country is None else checked(lambda: validation.country_code(country))
    if "includeClosed" in args:
        values["include_closed"] = bool(args["includeClosed"])
    return values, (values.get("country") is not None, values.get("include_closed"), offset > 0)


def _query_grants(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    include_closed = writer.bound(field)["include_closed"]

    def where(g: str) -> str:
        return "TRUE" if include_closed else _open_grant(g, writer)

    return offset_connection(
        field, writer, grants, where, lambda g: writer.order(access.catalogue_order(grants.alias(g)))
    )


def _query_companies(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    country = writer.bound(field)["country"]

    def where(c: str) -> str:
        condition = _tenant_rows(companies, c, writer)
        if country is not None:
            condition += f" AND {c}.country = {writer.param(field, 'country', 'text')}"
        return condition

    return offset_connection(
        field, writer, companies, where, lambda c: writer.order(access.companies_order(companies.alias(c)))
    )


def bind_grant_match_stats(args: dict) -> tuple[dict, tuple]:
    company_id = args["companyId"]
    if company_id is not None:
        company_id = checked(lambda: validation.parse_uuid(company_id, "companyId"))
    return {"company_id": company_id}, (company_id is not None,)


def _query_grant_match_stats(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    """``grant_match_statistics``: per-bucket aggregates of the listed matches, added up as the service adds them."""
    m, g, s = writer.alias("m"), writer.alias("g"), writer.alias("s")
    rules = access.grant_match_list(grant_matches.alias(m), grants.alias(g), writer.principal, writer.now, None)
    conditions = [writer.clause(rule) for rule in rules]
    company = None
    if writer.bound(field)["company_id"] is not None:
        company = writer.param(field, "company_id", "uuid")
        conditions.append(f"{m}.company_id = {company}")
    buckets = (
        f"SELECT least(floor({m}.score * 10), 9)::int AS bucket, count(*) AS n, "
        f"count(*) FILTER (WHERE {m}.is_saved) AS saved, count(*) FILTER (WHERE {m}.is_dismissed) AS dismissed, "
        f"count(*) FILTER (WHERE {m}.is_viewed) AS viewed, sum({m}.score) AS score_sum, max({m}.score) AS top "
        f"FROM grant_matches {m} JOIN grants {g} ON {g}.id = {m}.grant_id WHERE {' AND '.join(conditions)} "
        "GROUP BY 1"
    )
    values = {
        "total": f"coalesce(sum({s}.n), 0)::int",
        "saved": f"coalesce(sum({s}.saved), 0)::int",
        "dismissed": f"coalesce(sum({s}.dismissed), 0)::int",
        "viewed": f"coalesce(sum({s}.viewed), 0)::int",
        "averageScore": f"sum({s}.score_sum) / nullif(sum({s}.n), 0)::float8",
        "topScore": f"max({s}.top)",
        "__typename": literal("GrantMatchStats"),
    }
    pairs = []
    for part in field.selection.fields:
        if part.name == "histogram":
            i, h = writer.alias("i"), writer.alias("h")
            bar = {
                "lower": f"({i} / 10.0)::float8",
                "upper": f"(({i} + 1) / 10.0)::float8",
                "count": f"coalesce((SELECT {h}.n FROM buckets {h} WHERE {h}.bucket = {i}), 0)::int",
                "__typename": literal("ScoreBucket"),
            }
            bars = json_object([(bucket.key, bar[bucket.name]) for bucket in part.selection.fields])
            pairs.append((part.key, f"(SELECT json_agg({bars} ORDER BY {i}) FROM generate_series(0, 9) {i})"))
        else:
            pairs.append((part.key, values[part.name]))
    stats = f"(WITH buckets AS ({buckets}) SELECT {json_object(pairs)} FROM buckets {s})"
    if company is None:
        return stats
    c = writer.alias("c")
    # The resolver answers NOT_FOUND for a company the viewer cannot see.
    visible = f"EXISTS (SELECT 1 FROM companies {c} WHERE {c}.id = {company} AND {_tenant_rows(companies, c, writer)})"
    return f"CASE WHEN {visible} THEN {stats} ELSE {MISSING_JSON} END"


QUERY_FIELDS: dict[str, FieldRenderer] = {
    "company": _query_company,
    "companies": _query_companies,
    "grants": _query_grants,
    "grant": _query_grant,
    "grantMatch": _query_grant_match,
    "grantMatches": _query_grant_matches,
    "grantMatchStats": _query_grant_match_stats,
}

OBJECT_FIELDS: dict[str, dict[str, FieldRenderer]] = {
    "Grant": GRANT_FIELDS,
    "GrantMatch": GRANT_MATCH_FIELDS,
    "Company": COMPANY_FIELDS,
}

#: Types rendered whole by their parent field (``grantMatchStats``), with the fields it handles.
STATS_FIELDS: dict[str, frozenset[str]] = {
    "GrantMatchStats": frozenset(
        {"total", "saved", "dismissed", "viewed", "averageScore", "topScore", "histogram", "__typename"}
    ),
    "ScoreBucket": frozenset({"lower", "upper", "count"}),
}

#: Object types rendered whole by their parent field's renderer (connections), with the fields it handles.
INLINE_FIELDS: dict[str, frozenset[str]] = {
    "GrantMatchConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "GrantMatchEdge": frozenset({"cursor", "node"}),
    "GrantConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "GrantEdge": frozenset({"cursor", "node"}),
    "CompanyConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "CompanyEdge": frozenset({"cursor", "node"}),
    **STATS_FIELDS,
}

BINDERS = {
    ("Query", "company"): bind_id,
    ("Query", "companies"): bind_offset_page,
    ("Query", "grants"): bind_offset_page,
    ("Query", "grant"): bind_id,
    ("Query", "grantMatch"): bind_id,
    ("Query", "grantMatches"): bind_root_grant_matches,
    ("Company", "grantMatches"): bind_grant_match_connection,
    ("Query", "grantMatchStats"): bind_grant_match_stats,
}
