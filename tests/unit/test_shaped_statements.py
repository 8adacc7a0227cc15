"""Statements cached by shape run only with values named at execution: a value baked in at build time is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import bindparam, select

from graphql_app.db.models import grant_matches
from graphql_app.db.statements import ShapedStatements


def test_a_statement_with_a_named_value_is_built_once_per_shape():
    statements = ShapedStatements()
    built = []

    def build():
        built.append(1)
        return select(grant_matches.c.id).where(grant_matches.c.score >= bindparam("min_score", 0.5))

    first = statements.get(("page", True), build)
    assert statements.get(("page", True), build) is first and len(built) == 1
    assert first.parameters == ("min_score",) and "$1" in first.sql
    assert first.arguments({"min_score": 0.7, "unrelated": 1}) == [0.7]


def test_a_value_the_statement_was_built_with_is_refused():
    with pytest.raises(RuntimeError, match="unnamed values"):
        ShapedStatements().get("literal", lambda: select(grant_matches.c.id).where(grant_matches.c.score >= 0.5))


def test_executing_without_a_value_for_every_parameter_is_refused():
    statement = ShapedStatements().get(
        "named", lambda: select(grant_matches.c.id).where(grant_matches.c.score >= bindparam("min_score", 0.5))
    )
    with pytest.raises(RuntimeError, match="stale"):
        statement.arguments({})


def test_a_name_used_twice_is_one_placeholder_and_in_lists_are_refused():
    def twice():
        tenant = bindparam("viewer_tenant_id", "a")
        return select(grant_matches.c.id).where(grant_matches.c.tenant_id == tenant, grant_matches.c.id != tenant)

    statement = ShapedStatements().get("twice", twice)
    assert statement.parameters == ("viewer_tenant_id",) and "$2" not in statement.sql
    with pytest.raises(RuntimeError, match="ANY"):
        ShapedStatements().get(
            "in", lambda: select(grant_matches.c.id).where(grant_matches.c.id.in_(bindparam("ids", expanding=True)))
        )


def test_the_cache_is_bounded():
    statements = ShapedStatements(size=2)
    for shape in range(3):
        statements.get(shape, lambda: select(grant_matches.c.id))
    rebuilt = []
    statements.get(0, lambda: rebuilt.append(1) or select(grant_matches.c.id))
    assert rebuilt == [1]
