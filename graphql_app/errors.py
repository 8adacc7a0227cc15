"""Errors clients see, each with an ``extensions.code`` (see docs/api.md). Anything else is masked."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError


class MatchgraphError(Exception):
    """Base of the errors whose message is safe to show to the client."""

    code = "INTERNAL_SERVER_ERROR"

    def __init__(self, message: str, **extensions: Any) -> None:
        super().__init__(message)
        self.message = message
        self.extensions = {"code": self.code, **extensions}


class Unauthenticated(MatchgraphError):
    code = "UNAUTHENTICATED"


class Forbidden(MatchgraphError):
    code = "FORBIDDEN"


class NotFound(MatchgraphError):
    """Also raised for another tenant's data, so its existence is not revealed."""

    code = "NOT_FOUND"


class BadUserInput(MatchgraphError):
    code = "BAD_USER_INPUT"


class Conflict(MatchgraphError):
    code = "CONFLICT"


class ServiceUnavailable(MatchgraphError):
    """Something the request needs is not ready yet (the process is starting, the model is loading): retry after
    ``retryAfter`` seconds."""

    code = "SERVICE_UNAVAILABLE"

    def __init__(self, message: str, *, retry_after: int = 5) -> None:
        super().__init__(message, retryAfter=retry_after)


def not_found(kind: str, ident: object) -> NotFound:
    return NotFound(f"{kind} {ident} was not found.", kind=kind)


def is_client_safe(error: GraphQLError) -> bool:
    """True for errors whose message may be shown: ours, and GraphQL syntax/validation errors."""
    original = error.original_error
    if original is None:
        return True  # parse/validation errors raised by graphql-core itself
    if isinstance(original, MatchgraphError):
        return True
    return isinstance(original, GraphQLError) and original.original_error is None


def should_mask_error(error: GraphQLError) -> bool:
    """Mask everything that is not client-safe (used by Strawberry's MaskErrors extension)."""
    return not is_client_safe(error)


class PersistedQueryNotFound(MatchgraphError):
    """A hash-only request for a document this server does not know; the client resends it with its text.

    The message is Apollo's, which its persisted-queries link looks for."""

    code = "PERSISTED_QUERY_NOT_FOUND"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotFound")


class PersistedQueryNotSupported(MatchgraphError):
    code = "PERSISTED_QUERY_NOT_SUPPORTED"

    def __init__(self) -> None:
        super().__init__("PersistedQueryNotSupported")


class DocumentNotTrusted(MatchgraphError):
    """Trusted-documents mode: the document is not one the operator registered."""

    code = "PERSISTED_QUERY_NOT_IN_LIST"
