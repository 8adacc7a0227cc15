"""Which web origins may call the API from a browser: one policy for CORS and the WebSocket origin check.

Browsers enforce CORS on `fetch`, but not on WebSocket handshakes, so the same list must also be checked when a
socket opens (cross-site WebSocket hijacking). Requests without an ``Origin`` header are not from a browser page
and are not affected; same-origin pages (GraphiQL served here) always work.

Credentials: Matchgraph authenticates with bearer tokens, never cookies, so CORS responses do not allow
credentials (``Access-Control-Allow-Credentials`` is never sent) and ``*`` is safe to use as a wildcard.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from strawberry.http.websocket_origin import normalize_allowed_origins, normalize_origin

#: Any port of the loopback addresses: what a developer's own frontend runs on (`vite`, `next dev`, …).
LOCAL_DEVELOPMENT_ORIGINS = r"^http://(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$"
#: Request headers a browser client may send (preflight): auth, JSON, Apollo's and GraphQL over HTTP's own.
ALLOWED_REQUEST_HEADERS = [
    "Authorization",
    "Content-Type",
    "Accept",
    "X-Request-Id",
    "apollographql-client-name",
    "apollographql-client-version",
    "apollo-require-preflight",
    "x-apollo-operation-name",
]


@dataclass(frozen=True)
class OriginPolicy:
    """The origins (``scheme://host[:port]``) allowed to call from a browser."""

    origins: frozenset[str] = frozenset()
    any_origin: bool = False
    local_development: bool = False

    @classmethod
    def from_setting(cls, value: str | None, *, development: bool) -> OriginPolicy:
        """``MATCHGRAPH_ALLOWED_ORIGINS``: comma-separated origins, ``*`` for any, ``none`` (or empty) for none.
        Unset: loopback origins on any port in development (embedded database), none otherwise."""
        if value is None:
            return cls(local_development=development)
        items = [item.strip() for item in value.split(",") if item.strip()]
        if items in ([], ["none"]):
            return cls()
        if "*" in items:
            return cls(any_origin=True)
        try:
            return cls(origins=normalize_allowed_origins(items))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"MATCHGRAPH_ALLOWED_ORIGINS: {exc}") from exc

    def allows(self, origin: str) -> bool:
        """True when a page on ``origin`` may call the API."""
        if self.any_origin:
            return True
        normalized = normalize_origin(origin)
        if normalized is None:
            return False
        if normalized in self.origins:
            return True
        return self.local_development and re.match(LOCAL_DEVELOPMENT_ORIGINS, normalized) is not None

    def cors_middleware(self) -> Middleware:
        """Starlette's CORS middleware applying this policy (preflights included)."""
        return Middleware(
            CORSMiddleware,
            allow_origins=["*"] if self.any_origin else sorted(self.origins),
            allow_origin_regex=LOCAL_DEVELOPMENT_ORIGINS if self.local_development else None,
            allow_methods=["GET", "POST", "PATCH", "OPTIONS"],
            allow_headers=ALLOWED_REQUEST_HEADERS,
            expose_headers=["X-Request-Id", "Retry-After"],
            allow_credentials=False,
            max_age=600,
        )
