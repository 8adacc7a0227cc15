"""Compiled execution of read queries (see docs/architecture.md): an execution strategy behind the Strawberry schema.

A query operation is compiled once (per document text and operation name) into a plan: the fields it
selects, their arguments and the permission classes on them. Each request then renders the plan into one SQL
statement whose result *is* the response's ``data`` (JSON built by PostgreSQL, keys in the order the query
asks for them), so a page of matches with their grants and companies costs one statement and almost no
per-field Python work.

Strawberry stays the contract: the same schema validates and describes the operation, and anything the
compiler does not cover — mutations, subscriptions, introspection, directives, fields outside
:mod:`graphql_app.compiled.mappings`, and every error case (missing token, forbidden role, invalid argument,
no such row) — runs through the ordinary resolvers, so errors, permissions, tenant scoping and nullability are
those of the interpreted path. ``tests/api`` runs the grant-match suites against both paths.
"""

from graphql_app.compiled.executor import CompiledQueries

__all__ = ["CompiledQueries"]
