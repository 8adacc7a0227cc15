"""Grant alerts on the compiled path: ``Query.grantAlerts`` and the ``GrantAlert`` type, rendered from the same
access rules as ``graphql_app.services.grant_alerts.list_alerts`` (``access.company_alerts``, ``alerts_order``),
with its cursors, its validation and its NOT_FOUND for a company the viewer may not see."""

from __future__ import annotations

from sqlalchemy import bindparam

from graphql_app import access, validation
from graphql_app.compiled.grant_fields import GRANT_FIELDS, company_of_row
from graphql_app.compiled.plan import FieldPlan
from graphql_app.compiled.render import FieldRenderer, all_columns, checked, column, connection, row_of, timestamp
from graphql_app.compiled.sql import MISSING_JSON, SqlWriter, alert_cursor
from graphql_app.db.models import companies, grant_alerts
from graphql_app.services.grant_alerts import decode_alert_cursor


def bind_grant_alerts(args: dict) -> tuple[dict, tuple]:
    """``companyId``, ``unreadOnly``, ``first`` and ``after`` as the resolver validates them."""
    values = {
        "company_id": checked(lambda: validation.parse_uuid(args["companyId"], "companyId")),
        "unread_only": bool(args["unreadOnly"]),
        "first": checked(lambda: validation.page_size(args["first"])),
        "before": checked(lambda: decode_alert_cursor(args["after"])),
    }
    return values, (values["unread_only"], values["before"] is not None)


def _query_grant_alerts(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    bound = writer.bound(field)

    def filtered(a: str) -> str:
        rules = access.company_alerts(grant_alerts.alias(a), bindparam("company_id"), unread_only=bound["unread_only"])
        return f"grant_alerts {a} WHERE " + " AND ".join(writer.clause(rule, field) for rule in rules)

    def after(a: str) -> str:
        return writer.clause(grant_alerts.alias(a).c.sequence < bindparam("before"), field)

    page = connection(
        field,
        writer,
        filtered=filtered,
        columns=all_columns(grant_alerts),
        order=lambda a: writer.order(access.alerts_order(grant_alerts.alias(a))),
        cursor=alert_cursor,
        after=after if bound["before"] is not None else None,
    )
    c = writer.alias("c")
    company = writer.param(field, "company_id", "uuid")
    tenant = writer.clause(access.tenant_rows(companies.alias(c), writer.principal))
    # The resolver answers NOT_FOUND for a company the viewer cannot see.
    visible = f"EXISTS (SELECT 1 FROM companies {c} WHERE {c}.id = {company} AND {tenant})"
    return f"CASE WHEN {visible} THEN {page} ELSE {MISSING_JSON} END"


def _alert_grant(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return row_of("grants", "g", lambda g: f"{g}.id = {alias}.grant_id", field, writer)


GRANT_ALERT_FIELDS: dict[str, FieldRenderer] = {
    "id": lambda field, alias, writer: f"{alias}.id::text",
    "reason": column("reason"),
    "score": column("score"),
    "grant": _alert_grant,
    "companyId": lambda field, alias, writer: f"{alias}.company_id::text",
    "company": company_of_row,
    "raisedAt": timestamp("updated_at"),
    "readAt": timestamp("read_at"),
    "isRead": lambda field, alias, writer: f"({alias}.read_at IS NOT NULL)",
}

QUERY_FIELDS: dict[str, FieldRenderer] = {"grantAlerts": _query_grant_alerts}

OBJECT_FIELDS: dict[str, dict[str, FieldRenderer]] = {"GrantAlert": GRANT_ALERT_FIELDS, "Grant": GRANT_FIELDS}

INLINE_FIELDS: dict[str, frozenset[str]] = {
    "GrantAlertConnection": frozenset({"edges", "pageInfo", "totalCount"}),
    "GrantAlertEdge": frozenset({"cursor", "node"}),
}

BINDERS = {("Query", "grantAlerts"): bind_grant_alerts}
