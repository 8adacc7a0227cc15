"""Start-up in the background: the server answers ``/livez`` while the database opens and migrates.

The app's lifespan hands its start-up work to :class:`Startup` and returns at once, so uvicorn listens as soon as
the code is imported. :class:`StartupGate` holds other requests until start-up is done (at most
``MATCHGRAPH_STARTUP_WAIT_SECONDS``), then lets them through, or answers ``SERVICE_UNAVAILABLE`` (HTTP 503 with
``Retry-After``; a WebSocket is closed with 1013, "try again later").
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

import orjson

logger = logging.getLogger(__name__)

#: Paths served whatever the state of start-up: they report it.
UNGATED_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})


class Startup:
    """The state of the app's start-up: ``not started`` (no lifespan ran: a test's ASGI transport), ``starting``,
    ``ok`` or ``failed``."""

    def __init__(self) -> None:
        self.state = "not started"
        self.error: BaseException | None = None
        self._done = asyncio.Event()
        self._task: asyncio.Task | None = None

    def begin(self, work: Callable[[], Awaitable[None]], on_failure: Callable[[BaseException], None] | None) -> None:
        """Run ``work`` in the background; ``on_failure`` is called with its exception if it raises."""
        self.state = "starting"

        async def run() -> None:
            try:
                await work()
            except asyncio.CancelledError:
                raise
            except BaseException as exc:
                self.state, self.error = "failed", exc
                logger.error("start-up failed: %s", exc, exc_info=not _is_expected(exc))
                if on_failure is not None:
                    on_failure(exc)
            else:
                self.state = "ok"
            finally:
                self._done.set()

        self._task = asyncio.create_task(run(), name="matchgraph-startup")

    async def cancel(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def wait(self, timeout: float) -> bool:
        """Wait for start-up to finish (at most ``timeout`` seconds); True when the app can serve."""
        if self.state == "starting":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._done.wait(), timeout)
        return self.state in ("ok", "not started")


def _is_expected(exc: BaseException) -> bool:
    """Failures whose message says it all (a database that cannot be used): logged without a traceback."""
    from graphql_app.db.setup import DatabaseSetupError

    return isinstance(exc, DatabaseSetupError | OSError)


class StartupGate:
    """ASGI middleware: requests other than the health and metrics endpoints wait for start-up."""

    def __init__(self, app, *, startup: Startup, wait_seconds: float) -> None:
        self.app = app
        self.startup = startup
        self.wait_seconds = wait_seconds

    async def __call__(self, scope, receive, send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or self.startup.state in ("ok", "not started")
            or scope["path"] in UNGATED_PATHS
        ):
            return await self.app(scope, receive, send)
        if await self.startup.wait(self.wait_seconds):
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1013, "reason": "starting"})
            return
        body = {
            "errors": [
                {
                    "message": "The server is starting (or could not start); retry shortly.",
                    "extensions": {"code": "SERVICE_UNAVAILABLE", "retryAfter": 5},
                }
            ]
        }
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"retry-after", b"5")],
            }
        )
        await send({"type": "http.response.body", "body": orjson.dumps(body)})
