"""The caller on the compiled path: ``me`` (from the token, no table) and ``computation(id)`` (the computations the
caller may see, ``access.visible_computations``)."""

from __future__ import annotations

from graphql_app import access
from graphql_app.compiled.grant_fields import bind_id
from graphql_app.compiled.plan import FieldPlan
from graphql_app.compiled.render import (
    FieldRenderer,
    column,
    float_column,
    render_selection,
    row_of,
    timestamp,
    uuid_text,
)
from graphql_app.compiled.sql import SqlWriter
from graphql_app.db.models import computations

# --- Viewer: rendered from the request's principal, like the `me` resolver -------------------------------------

VIEWER_FIELDS: dict[str, FieldRenderer] = {
    "subject": lambda field, alias, writer: f"to_json({writer.viewer_param('subject', 'text')})",
    "tenantId": lambda field, alias, writer: f"to_json({writer.viewer_param('tenant', 'text')})",
    "roles": lambda field, alias, writer: f"to_json({writer.viewer_param('roles', 'text[]')})",
    "memberId": lambda field, alias, writer: f"to_json({writer.viewer_param('member', 'uuid')}::text)",
}


def _query_me(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return render_selection(field.selection, alias, writer)


# --- Computation -----------------------------------------------------------------------------------------------


def _subject_id(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    return f"{alias}.subject_id::text"


COMPUTATION_FIELDS: dict[str, FieldRenderer] = {
    "id": uuid_text,
    "kind": column("kind"),
    "status": column("status"),
    "progress": float_column("progress"),
    "totalCount": column("total_count"),
    "processedCount": column("processed_count"),
    "resultCount": column("result_count"),
    "subjectId": _subject_id,
    "parameters": column("parameters"),
    "error": column("error"),
    "attempts": column("attempts"),
    "requestedBy": column("requested_by"),
    "createdAt": timestamp("created_at"),
    "startedAt": timestamp("started_at"),
    "finishedAt": timestamp("finished_at"),
    "updatedAt": timestamp("updated_at"),
}


def _query_computation(field: FieldPlan, alias: str, writer: SqlWriter) -> str:
    computation_id = writer.param(field, "id", "uuid")

    def condition(k: str) -> str:
        visible = writer.clause(access.visible_computations(computations.alias(k), writer.principal))
        return f"{k}.id = {computation_id} AND {visible}"

    return row_of("computations", "k", condition, field, writer)


QUERY_FIELDS: dict[str, FieldRenderer] = {"me": _query_me, "computation": _query_computation}
OBJECT_FIELDS: dict[str, dict[str, FieldRenderer]] = {"Viewer": VIEWER_FIELDS, "Computation": COMPUTATION_FIELDS}
BINDERS = {("Query", "computation"): bind_id}
