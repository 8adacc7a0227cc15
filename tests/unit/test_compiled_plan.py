"""The plan compiler: what it covers, what it hands to the resolvers, and how it reads a document."""

from __future__ import annotations

import pytest
import strawberry
from graphql import parse, validate
from strawberry.extensions import QueryDepthLimiter

from graphql_app.compiled import CompiledQueries
from graphql_app.compiled.mappings import is_supported
from graphql_app.compiled.plan import MAX_KEYS_PER_OBJECT, NotCompilable, compile_operation, condition_variables
from schema.root import build_schema, schema


def plan_of(document: str, operation_name: str | None = None, variables: dict | None = None):
    return compile_operation(schema._schema, parse(document), operation_name, is_supported, variables)


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
        'query Q @deprecated { grantMatch(id: "x") { id } }',
        '{ liveGrantMatches(companyId: "x") { totalCount } }',  # no compiled root field at all
        "{ __schema { queryType { name } } }",
    ],
)
def test_what_is_not_compiled(document):
    with pytest.raises(NotCompilable):
        plan_of(document)


def test_root_fields_a_plan_cannot_answer_are_left_to_the_resolvers():
    plan = plan_of(
        """
        fragment Who on Viewer { subject }
        fragment Unused on Grant { title }
        query Page($c: ID!, $first: Int, $live: Int) {
          page: grantMatches(companyId: $c, first: $first) { totalCount }
          live: liveGrantMatches(companyId: $c, first: $live) { totalCount edges { node { grant { ...Unused } } } }
          ... on Query { grant(id: "x") { title } }
          search: searchGrants(text: "solar") { __typename }
        }"""
    )
    assert keys(plan.root) == ["page", "grant"]
    assert plan.root_keys == ("page", "live", "grant", "search")
    rest = parse(plan.residual_query)
    # The same operation name, only the variables and fragments the residual fields use (validation rejects
    # unused ones).
    assert [d.name.value for d in rest.definitions] == ["Page", "Unused"]
    assert [v.variable.name.value for v in rest.definitions[0].variable_definitions] == ["c", "live"]
    assert [f.alias.value for f in rest.definitions[0].selection_set.selections] == ["live", "search"]
    assert not validate(schema._schema, rest)
    assert plan_of('{ grant(id: "x") { id } }').residual_query is None


def test_skip_and_include_are_decided_with_the_variables():
    document = """
    query($c: ID!, $details: Boolean!, $lean: Boolean = false) {
      grantMatches(companyId: $c) {
        totalCount @skip(if: $lean)
        edges @include(if: $details) { node { id score @include(if: false) grant @skip(if: true) { title } } }
        ... @include(if: $details) { pageInfo { hasNextPage } }
      }
    }"""
    assert condition_variables(parse(document)) == ("details", "lean")
    full = plan_of(document, variables={"details": True, "lean": False})
    connection = full.root.fields[0].selection
    assert keys(connection) == ["totalCount", "edges", "pageInfo"]
    assert keys(connection.fields[1].selection.fields[0].selection) == ["id"]
    lean = plan_of(document, variables={"details": False, "lean": True})
    assert keys(lean.root.fields[0].selection) == []


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
