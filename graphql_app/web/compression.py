"""Response compression (zstd, brotli, gzip — whichever the client accepts, in that order of preference).

`starlette-compress` does the encoding for bodies of at least ``minimum_size`` bytes. Streams are left alone:
a request that asks for Server-Sent Events or multipart results is passed through untouched (compressing a
stream delays each event behind the encoder), and WebSockets are never compressed here.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send
from starlette_compress import CompressMiddleware

STREAMING_MEDIA_TYPES = (b"text/event-stream", b"multipart/mixed")


class Compression:
    """ASGI middleware: compress one-shot HTTP responses, never streams."""

    def __init__(self, app: ASGIApp, minimum_size: int = 1024) -> None:
        self.app = app
        self.compressing = CompressMiddleware(app, minimum_size=minimum_size)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and not _asks_for_a_stream(scope):
            await self.compressing(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def _asks_for_a_stream(scope: Scope) -> bool:
    accept = b",".join(value for name, value in scope["headers"] if name == b"accept")
    return any(media_type in accept for media_type in STREAMING_MEDIA_TYPES)
