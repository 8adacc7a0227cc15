"""Running a stored document for a REST request, exactly as `/graphql` runs an operation: the view's context (the
bearer token, verified the same way) and the view's execution (compiled plan or resolvers, limits, response
cache)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response
from strawberry.http import GraphQLRequestData

from graphql_app.rest.errors import RestError

if TYPE_CHECKING:
    from graphql_app.context import Context
    from graphql_app.web.view import MatchgraphGraphQL


@dataclass
class Call:
    """One REST request being answered: its typed arguments, and a way to run stored documents as its caller."""

    view: MatchgraphGraphQL
    request: Request
    arguments: dict[str, Any]
    #: GraphQL argument name → REST parameter name, for the ``field`` of error details.
    argument_names: dict[str, str] = field(default_factory=dict)
    _context: Context | None = None

    async def data(self, document: str, variables: dict[str, Any]) -> dict[str, Any]:
        """The ``data`` of the document run with ``variables``; its first error, if any, raised as a RestError."""
        if self._context is None:
            self._context = await self.view.get_context(self.request, response=None)
        request_data = GraphQLRequestData(
            query=document, variables=variables, operation_name=None, extensions=None, protocol="http"
        )
        # The documents are the server's own, so they bypass persisted- and trusted-document resolution; "POST"
        # lets the view run a stored mutation whatever the REST method.
        result = await self.view.run_operation(request_data, self._context, method="POST", sub_response=Response())
        if result.errors:
            raise RestError.from_graphql(result.errors[0], self.argument_names)
        return result.data or {}
