"""Which GraphQL fields the compiled path renders, and the SQL for each: the grant side
(:mod:`graphql_app.compiled.grant_fields`, its alerts :mod:`graphql_app.compiled.alert_fields`), the talent
side (:mod:`graphql_app.compiled.talent_fields`) and the caller (:mod:`graphql_app.compiled.viewer_fields`).

Every renderer mirrors a resolver: the same table, the same access rules — rendered from
:mod:`graphql_app.access`'s own conditions (``SqlWriter.clause``), never written again here — the same order,
the same argument validation (``graphql_app.validation``, whose errors send the request to the resolvers).
Adding a field without its twin in ``schema/types`` is caught by ``tests/api/test_compiled_queries.py``, which
compares both paths' answers.
"""

from __future__ import annotations

from graphql_app.compiled import alert_fields, grant_fields, talent_fields, viewer_fields
from graphql_app.compiled.plan import SelectionPlan
from graphql_app.compiled.render import FieldBinder, FieldRenderer, render_selection
from graphql_app.compiled.sql import Bindings, Fallback, SqlWriter, argument_values

#: Each object type's field renderers.
OBJECT_FIELDS: dict[str, dict[str, FieldRenderer]] = {
    "Query": {
        **grant_fields.QUERY_FIELDS,
        **alert_fields.QUERY_FIELDS,
        **talent_fields.QUERY_FIELDS,
        **viewer_fields.QUERY_FIELDS,
    },
    **grant_fields.OBJECT_FIELDS,
    **alert_fields.OBJECT_FIELDS,
    **talent_fields.OBJECT_FIELDS,
    **viewer_fields.OBJECT_FIELDS,
}

#: Types rendered by their parent field's renderer, with the fields it handles.
INLINE_FIELDS: dict[str, frozenset[str]] = {
    **grant_fields.INLINE_FIELDS,
    **alert_fields.INLINE_FIELDS,
    **talent_fields.INLINE_FIELDS,
    "PageInfo": frozenset({"hasNextPage", "hasPreviousPage", "startCursor", "endCursor"}),
}

#: Argument-bearing fields and their binders (a supported field with arguments must have one).
BINDERS: dict[tuple[str, str], FieldBinder] = {
    **grant_fields.BINDERS,
    **alert_fields.BINDERS,
    **talent_fields.BINDERS,
    **viewer_fields.BINDERS,
}


def is_supported(type_name: str, field_name: str) -> bool:
    """Whether the compiled path renders ``type_name.field_name``."""
    if type_name in OBJECT_FIELDS:
        return field_name in OBJECT_FIELDS[type_name]
    return field_name in INLINE_FIELDS.get(type_name, ())


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
            for nested in field.nested_selections():
                pending.append(nested)


def render_operation(root: SelectionPlan, writer: SqlWriter) -> str:
    """The statement: one row, one column, the response's ``data`` as JSON text."""
    return f"SELECT {render_selection(root, '', writer)}::text"


def new_writer(bindings: Bindings) -> SqlWriter:
    return SqlWriter(bindings, renderers=OBJECT_FIELDS)
