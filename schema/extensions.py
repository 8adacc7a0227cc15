"""Schema extensions: error codes on every error, masking of unexpected ones."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from graphql import GraphQLError
from strawberry.extensions import MaskErrors, SchemaExtension

from graphql_app.errors import should_mask_error

logger = logging.getLogger("matchgraph.errors")

_INPUT_ERROR_MARKERS = (
    "Expected value of type",
    "Expected type",
    "got invalid value",
    "has invalid value",
    "does not exist in",
    "cannot represent",
    "Int cannot represent",
    "Float cannot represent",
    "was not provided",
    "of required type",
)


def _code_for_request_error(error: GraphQLError) -> str:
    """A code for errors graphql-core raises before execution (parse, validation, variable coercion)."""
    if error.message.startswith("Syntax Error"):
        return "GRAPHQL_PARSE_FAILED"
    if any(marker in error.message for marker in _INPUT_ERROR_MARKERS):
        return "BAD_USER_INPUT"
    return "GRAPHQL_VALIDATION_FAILED"


def ensure_error_codes(errors: list[GraphQLError] | None) -> None:
    """Give every error an ``extensions.code``: ours carry one; graphql-core's own get one from their kind."""
    for error in errors or []:
        if error.extensions and "code" in error.extensions:
            continue
        original = error.original_error
        # Variable coercion wraps a graphql-core GraphQLError; treat it like the request errors it is.
        if original is None or (isinstance(original, GraphQLError) and original.original_error is None):
            code = _code_for_request_error(error)
        else:
            code = "INTERNAL_SERVER_ERROR"
        error.extensions = {**(error.extensions or {}), "code": code}


class ErrorCodes(SchemaExtension):
    """Every error leaves with ``extensions.code`` (the HTTP view applies the same to early parse errors)."""

    def on_operation(self) -> Iterator[None]:
        yield
        ensure_error_codes(getattr(self.execution_context.result, "errors", None))


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected errors become "Unexpected error." with code INTERNAL_SERVER_ERROR; the cause is logged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask_error, error_message="Unexpected error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        logger.error("unexpected error at %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked
