"""The two WebSocket protocols, with the same document rules as HTTP (persisted and trusted documents)."""

from __future__ import annotations

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from graphql_app.errors import MatchgraphError


async def _resolve_payload_document(view, context, payload: object) -> MatchgraphError | None:
    """Put the document to run into ``payload["query"]``; the refusal, if the rules refuse it."""
    if not isinstance(payload, dict):
        return None  # the protocol handler reports a malformed message
    try:
        query = await view.documents.document(payload.get("query"), payload.get("extensions"), context.principal)
    except MatchgraphError as exc:
        return exc
    if query is not None:
        payload["query"] = query
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler):
    """graphql-transport-ws (the `graphql-ws` JS client's protocol)."""

    async def handle_subscribe(self, message) -> None:
        if self.connection_acknowledged and message.get("id") not in self.operations:
            refusal = await _resolve_payload_document(self.view, self.context, message.get("payload"))
            if refusal is not None:
                error = GraphQLError(refusal.message, extensions=refusal.extensions)
                await self.send_message({"id": message["id"], "type": "error", "payload": [error.formatted]})
                return
        await super().handle_subscribe(message)


class LegacyWSHandler(BaseGraphQLWSHandler):
    """graphql-ws (the legacy subscriptions-transport-ws protocol)."""

    async def handle_start(self, message) -> None:
        if self.connection_acknowledged:
            refusal = await _resolve_payload_document(self.view, self.context, message.get("payload"))
            if refusal is not None:
                error = GraphQLError(refusal.message, extensions=refusal.extensions)
                await self.send_message({"id": message["id"], "type": "error", "payload": error.formatted})
                return
        await super().handle_start(message)
