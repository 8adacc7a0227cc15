"""The two WebSocket protocols, held to the same rules as HTTP.

* The document rules (persisted and trusted documents) apply to every operation a socket starts.
* A socket lives no longer than its token: it is closed with 4403 when the token expires, and every operation
  re-checks the token first (expiry, and a key withdrawn from the JWKS).
* Protocol errors carry a close code and a reason, or an error message with ``extensions.code``.
* Each operation runs with its broadcast target (graphql_app.web.broadcast): where a broadcast event's frame for
  it goes, and whether the operation is still live.
"""

from __future__ import annotations

import asyncio
import contextlib
import time

from graphql import GraphQLError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from graphql_app.errors import MatchgraphError
from graphql_app.web.broadcast import BroadcastTarget, current_target

TOKEN_EXPIRED = (4403, "Token expired")


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


def _error_payload(error: MatchgraphError) -> dict:
    return GraphQLError(error.message, extensions=error.extensions).formatted


#: Errors Strawberry's protocol handlers send without a code.
HANDLER_ERROR_CODES = {"Subscription limit reached": "TOO_MANY_SUBSCRIPTIONS"}


def _with_codes(message: dict) -> dict:
    """An ``error`` message whose errors all carry ``extensions.code``."""
    if message.get("type") != "error":
        return message
    payload = message.get("payload")
    for error in payload if isinstance(payload, list) else [payload]:
        if isinstance(error, dict) and "code" not in (error.get("extensions") or {}):
            code = HANDLER_ERROR_CODES.get(error.get("message"), "BAD_REQUEST")
            error["extensions"] = {**(error.get("extensions") or {}), "code": code}
    return message


class _TokenLifetime:
    """Closes the socket when the connection's token expires; re-checks the token before each operation."""

    _expiry: asyncio.Task | None = None

    def start_expiry_timer(self) -> None:
        principal = self.context.principal
        if principal is None or principal.expires_at is None or self._expiry is not None:
            return

        async def close_when_expired() -> None:
            await asyncio.sleep(max(0.0, principal.expires_at - time.time()))
            with contextlib.suppress(Exception):  # already closed by the client
                await self.websocket.close(*TOKEN_EXPIRED)

        self._expiry = asyncio.create_task(close_when_expired(), name="websocket-token-expiry")

    def stop_expiry_timer(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()

    async def token_still_valid(self) -> bool:
        """False (and the socket closed with 4403) when the connection's token is no longer valid."""
        principal = self.view.current_principal(self.context)
        if principal is None:
            await self.websocket.close(*TOKEN_EXPIRED)
            return False
        return True


class TransportWSHandler(_TokenLifetime, BaseGraphQLTransportWSHandler):
    """graphql-transport-ws (the `graphql-ws` JS client's protocol)."""

    async def handle_connection_init(self, message) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.start_expiry_timer()

    async def handle_subscribe(self, message) -> None:
        if self.connection_acknowledged and message.get("id") not in self.operations:
            if not await self.token_still_valid():
                return
            refusal = await _resolve_payload_document(self.view, self.context, message.get("payload"))
            if refusal is not None:
                await self.send_message({"id": message["id"], "type": "error", "payload": [_error_payload(refusal)]})
                return
        await super().handle_subscribe(message)

    async def run_operation(self, operation) -> None:
        def is_live() -> bool:
            return self.operations.get(operation.id) is operation and not operation.completed

        current_target.set(BroadcastTarget.for_operation(self.websocket.ws.scope, operation.id, "next", is_live))
        await super().run_operation(operation)

    async def send_message(self, message) -> None:
        await super().send_message(_with_codes(message))

    async def shutdown(self) -> None:
        self.stop_expiry_timer()
        await super().shutdown()


class LegacyWSHandler(_TokenLifetime, BaseGraphQLWSHandler):
    """graphql-ws (the legacy subscriptions-transport-ws protocol)."""

    async def handle_connection_init(self, message) -> None:
        await super().handle_connection_init(message)
        if self.connection_acknowledged:
            self.start_expiry_timer()

    async def handle_start(self, message) -> None:
        if self.connection_acknowledged:
            if not await self.token_still_valid():
                return
            refusal = await _resolve_payload_document(self.view, self.context, message.get("payload"))
            if refusal is not None:
                await self.send_message({"id": message["id"], "type": "error", "payload": _error_payload(refusal)})
                return
        await super().handle_start(message)

    async def handle_async_results(self, operation_id, query, operation_name, variables) -> None:
        task = asyncio.current_task()

        def is_live() -> bool:
            # `stop` forgets the stream at once (the task only after awaiting its closing).
            return self.tasks.get(operation_id) is task and operation_id in self.subscriptions

        current_target.set(BroadcastTarget.for_operation(self.websocket.ws.scope, operation_id, "data", is_live))
        await super().handle_async_results(operation_id, query, operation_name, variables)

    async def send_message(self, message) -> None:
        await super().send_message(_with_codes(message))

    async def cleanup(self) -> None:
        self.stop_expiry_timer()
        await super().cleanup()
