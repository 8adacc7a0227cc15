"""The plan compiler: what it covers, what it hands to the resolvers, and how it reads a document."""

from __future__ import annotations

import pytest
import strawberry
from graphql import parse
from strawberry.extensions import QueryDepthLimiter

from graphql_app.compiled import CompiledQueries
from graphql_app.compiled.mappings import is_supported
from graphql_app.compiled.plan import MAX_KEYS_PER_OBJECT, NotCompilable, compile_operation
from schema.root import build_schema, schema


def plan_of(document: str, operation_name: str | None = None):
    return compile_operation(schema._schema, parse(document), operation_name, is_supported)


def keys(selection) -> list[str]:
    return [field.key for field in selection.fields]


def test_fragments_and_aliases_merge_into_response_order():
    plan = plan_of(
        """
        fragment S on GrantMatchScores { score }
        query Q($c: ID!) {
          a: grantMatches(companyId: $c) { edges { node { id ...S ... on Match { createdAt } } node { score grant { title } } } }
          grantMatch(id: "x") { __typename isSaved }
        }"""
    )
    assert keys(plan.root) == ["a", "grantMatch"]
    node = plan.root.fields[0].selection.fields[0].selection.fields[0]
    assert keys(node.selection) == ["id", "score", "createdAt", "grant"]  # merged, first occurrence wins the slot
    assert keys(plan.root.fields[1].selection) == ["__typename", "isSaved"]
    assert {cls.__name__ for cls in plan.permission_classes} == {"IsAuthenticated", "HasOrganisationRole"}


@pytest.mark.parametrize(
    "document",
    [
        'mutation { calculateGrantMatches(companyId: "x") { id } }',
        '{ grantMatch(id: "x") { id @skip(if: true) } }',
        'query Q @deprecated { grantMatch(id: "x") { id } }',
        "{ grantMatchStats { total } }",  # not mapped
        '{ grantMatch(id: "x") { id } me { subject } }',  # one field not mapped: the whole operation
        "{ __schema { queryType { name } } }",
    ],
)
def test_what_is_not_compiled(document):
    with pytest.raises(NotCompilable):
        plan_of(document)


def test_operation_selection_by_name():
    document = 'query A { grant(id: "x") { id } } query B { grantMatch(id: "x") { id } }'
    assert keys(plan_of(document, "B").root) == ["grantMatch"]
    with pytest.raises(NotCompilable):
        plan_of(document)  # two operations, no name
    with pytest.raises(NotCompilable):
        plan_of(document, "C")


def test_objects_wider_than_json_build_object_allows_are_not_compiled():
    aliases = " ".join(f"f{i}: id" for i in range(MAX_KEYS_PER_OBJECT + 1))
    with pytest.raises(NotCompilable):
        plan_of(f'{{ grant(id: "x") {{ {aliases} }} }}')


def test_invalid_documents_get_no_plan():
    compiled = CompiledQueries(schema)
    assert compiled.plan_for("{ grant(id: 1) { nope } }", None) is None
    assert compiled.plan_for("{ grant(id: ", None) is None
    assert compiled.plan_for('{ grant(id: "x") { id } }', None) is not None


def test_unknown_schema_extensions_are_refused():
    assert CompiledQueries(build_schema(introspection=False))  # DisableIntrospection is understood
    limited = strawberry.Schema(query=_TinyQuery, extensions=[QueryDepthLimiter(5)])
    with pytest.raises(RuntimeError, match="QueryDepthLimiter"):
        CompiledQueries(limited)


@strawberry.type
class _TinyQuery:
    ping: str = "pong"
