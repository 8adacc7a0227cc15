"""Logging: plain text or one JSON object per line (``MATCHGRAPH_LOG_FORMAT=json``, python-json-logger), and one
line per HTTP request with its request id, GraphQL operation, tenant, status and duration.

Every request gets an id: the client's ``X-Request-Id`` when it is sane (1–128 characters of letters, digits and
``-_.:/+=``), otherwise a new one. It is returned in the ``X-Request-Id`` response header and added to every log
record written while the request runs (``request_id``).
"""

from __future__ import annotations

import contextvars
import logging
import re
import time
import uuid
from dataclasses import dataclass

from starlette.datastructures import MutableHeaders

REQUEST_ID_HEADER = "X-Request-Id"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9\-_.:/+=]{1,128}$")
#: Probes and scrapes are logged at DEBUG only: they arrive every few seconds and say nothing new.
QUIET_PATHS = frozenset({"/livez", "/readyz", "/healthz", "/metrics"})

access_logger = logging.getLogger("matchgraph.requests")


@dataclass
class RequestInfo:
    """What the request log line reports; the GraphQL view fills in the operation and tenant."""

    request_id: str
    operation: str | None = None
    tenant: str | None = None


_current: contextvars.ContextVar[RequestInfo | None] = contextvars.ContextVar("matchgraph_request", default=None)


def current_request() -> RequestInfo | None:
    """The HTTP request being served by this task (None outside one)."""
    return _current.get()


class RequestContextFilter(logging.Filter):
    """Adds the current request's id to every record (``request_id``; absent outside requests)."""

    def filter(self, record: logging.LogRecord) -> bool:
        info = _current.get()
        if info is not None and not hasattr(record, "request_id"):
            record.request_id = info.request_id
        return True


class TextFormatter(logging.Formatter):
    """``LEVEL logger: message [request_id=…]``."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record)
        request_id = getattr(record, "request_id", None)
        return f"{line} [request_id={request_id}]" if request_id else line


def configure_logging(level: str, log_format: str) -> None:
    """Replace the root logger's handlers with one to stderr in ``log_format`` (``text`` or ``json``)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        from pythonjsonlogger.json import JsonFormatter

        formatter: logging.Formatter = JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
    elif log_format == "text":
        formatter = TextFormatter("%(levelname)s %(name)s: %(message)s")
    else:
        raise ValueError(f"MATCHGRAPH_LOG_FORMAT must be text or json, not {log_format!r}")
    handler.setFormatter(formatter)
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())


def request_id_from(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's ``X-Request-Id`` if it is sane, else a new random id."""
    for name, value in headers:
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            if _SANE_REQUEST_ID.match(candidate):
                return candidate
            break
    return uuid.uuid4().hex


class RequestLog:
    """ASGI middleware: the request id (context, response header) and one log line per HTTP request."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        info = RequestInfo(request_id_from(scope.get("headers") or []))
        token = _current.set(info)
        status = 0
        started = time.perf_counter()

        async def send_with_id(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                MutableHeaders(scope=message).append(REQUEST_ID_HEADER, info.request_id)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            _current.reset(token)
            if scope["type"] == "http":
                duration_ms = round((time.perf_counter() - started) * 1000, 2)
                path = scope.get("path", "")
                access_logger.log(
                    logging.DEBUG if path in QUIET_PATHS else logging.INFO,
                    "%s %s %s %.1f ms operation=%s tenant=%s",
                    scope.get("method"),
                    path,
                    status,
                    duration_ms,
                    info.operation or "-",
                    info.tenant or "-",
                    extra={
                        "request_id": info.request_id,
                        "method": scope.get("method"),
                        "path": path,
                        "status": status,
                        "duration_ms": duration_ms,
                        "operation": info.operation,
                        "tenant": info.tenant,
                    },
                )
