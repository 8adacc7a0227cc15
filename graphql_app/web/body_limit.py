"""Request bodies larger than a limit are refused with HTTP 413 before anything reads them into a document.

The body is read here (at most ``max_bytes``) and handed on to the app, so a client announcing a small
``Content-Length`` and sending more, or sending chunked data without one, is stopped at the limit too.
"""

from __future__ import annotations

import orjson
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CODE = "PAYLOAD_TOO_LARGE"
#: Under this prefix the REST adapters answer (graphql_app.rest): refusals there take the REST error envelope.
REST_PREFIX = "/api/"


class BodySizeLimit:
    """ASGI middleware: HTTP 413 with a JSON error for request bodies over ``max_bytes``."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            return await self.app(scope, receive, send)
        declared = next((value for name, value in scope["headers"] if name == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            return await self._refuse(scope, send)
        chunks, size = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return await self._refuse(scope, send)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # the app waits for a disconnect (streaming responses)

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        message = f"The request body is larger than {self.max_bytes} bytes (MATCHGRAPH_MAX_BODY_BYTES)."
        if scope["path"].startswith(REST_PREFIX):
            body = orjson.dumps({"error": {"code": CODE, "message": message, "details": {}}})
        else:
            body = orjson.dumps({"errors": [{"message": message, "extensions": {"code": CODE}}]})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
