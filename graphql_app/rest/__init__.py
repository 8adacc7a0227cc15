"""The two original REST APIs (grant matches, talent matches) as thin adapters over the GraphQL schema.

Each route of :mod:`graphql_app.rest.routes` runs stored GraphQL documents (:mod:`graphql_app.rest.documents`)
through the GraphQL view's own execution (:mod:`graphql_app.rest.execution`), then maps the answer to the shapes
the REST documents describe (:mod:`graphql_app.rest.mapping`). No SQL and no business rule lives here: see
docs/rest.md.
"""

from graphql_app.rest.http import rest_routes

__all__ = ["rest_routes"]
