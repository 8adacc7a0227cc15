"""Schema extensions: request limits with bounded document caches, error codes on every error, masking of
unexpected ones."""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict
from collections.abc import Iterator

import asyncpg
from graphql import DocumentNode, GraphQLError, parse
from strawberry.extensions import MaskErrors, SchemaExtension
from strawberry.schema.exceptions import InvalidOperationTypeError
from strawberry.schema.schema import validate_document

from graphql_app.errors import MatchgraphError, should_mask_error
from graphql_app.limits import ExpensiveOperationLimiter, RequestLimits, check_document, token_limit_error

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
        too_large = token_limit_error(error)
        if too_large is not None:
            error.extensions = {**(error.extensions or {}), **too_large.extensions}
            continue
        original = error.original_error
        # Variable coercion wraps a graphql-core GraphQLError; treat it like the request errors it is.
        if original is None or (isinstance(original, GraphQLError) and original.original_error is None):
            code = _code_for_request_error(error)
        else:
            code = "INTERNAL_SERVER_ERROR"
        error.extensions = {**(error.extensions or {}), "code": code}


class ErrorCodes(SchemaExtension):
    """Every error leaves with ``extensions.code``, on every transport: parse and validation errors are coded
    as they arise (WebSocket subscriptions send them without an operation result), results on the way out."""

    def on_parse(self) -> Iterator[None]:
        yield
        ensure_error_codes(self.execution_context.pre_execution_errors)

    def on_validate(self) -> Iterator[None]:
        yield
        ensure_error_codes(self.execution_context.pre_execution_errors)

    def on_operation(self) -> Iterator[None]:
        yield
        ensure_error_codes(getattr(self.execution_context.result, "errors", None))


class MaskUnexpectedErrors(MaskErrors):
    """Unexpected errors become "Unexpected error." with code INTERNAL_SERVER_ERROR; the cause is logged."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=should_mask_error, error_message="Unexpected error.")

    def _process_result(self, result: object) -> None:
        # Strawberry's version tests a runtime-checkable Protocol first, a slow isinstance on every request.
        errors = getattr(result, "errors", None)
        if errors:
            result.errors = self._process_errors(errors)

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        known = _known_failure(error.original_error)
        if known is not None:
            message, code = known
            return GraphQLError(message, nodes=error.nodes, path=error.path, extensions={"code": code})
        logger.error("unexpected error at %s", error.path, exc_info=error.original_error)
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL_SERVER_ERROR"}
        return masked


def _known_failure(error: BaseException | None) -> tuple[str, str] | None:
    """Failures that are not bugs, worded for the client: an operation type the transport does not run, and a
    statement PostgreSQL cancelled at ``statement_timeout``."""
    if isinstance(error, InvalidOperationTypeError):
        return (
            "The legacy graphql-ws protocol runs subscriptions only: send queries and mutations over HTTP or "
            "graphql-transport-ws.",
            "BAD_REQUEST",
        )
    seen: set[int] = set()
    while error is not None and id(error) not in seen:
        if isinstance(error, asyncpg.QueryCanceledError):
            return "The request took longer than the server's statement timeout and was cancelled.", "TIMEOUT"
        seen.add(id(error))
        error = error.__cause__ or getattr(error, "orig", None) or error.__context__
    return None


class DocumentCaches:
    """Parsed documents and the texts known to validate, least recently used first out.

    Strawberry's ParserCache and ValidationCache keep any document, however long, and every validation outcome;
    here only documents up to ``max_length`` characters are kept, and only valid ones count as validated, so
    hostile or careless clients cannot fill memory with them.
    """

    def __init__(self, *, maxsize: int = 512, max_length: int = 20_000) -> None:
        self.maxsize = maxsize
        self.max_length = max_length
        self._parsed: OrderedDict[tuple[str, int], DocumentNode] = OrderedDict()
        self._valid: OrderedDict[str, None] = OrderedDict()

    def parse(self, query: str, max_tokens: int) -> DocumentNode:
        key = (query, max_tokens)
        document = self._parsed.get(key)
        if document is not None:
            self._parsed.move_to_end(key)
            return document
        document = parse(query, max_tokens=max_tokens)
        if len(query) <= self.max_length:
            self._remember(self._parsed, key, document)
        return document

    def is_valid(self, query: str) -> bool:
        if query in self._valid:
            self._valid.move_to_end(query)
            return True
        return False

    def remember_valid(self, query: str) -> None:
        if len(query) <= self.max_length:
            self._remember(self._valid, query, None)

    def _remember(self, cache: OrderedDict, key, value) -> None:
        cache[key] = value
        if len(cache) > self.maxsize:
            cache.popitem(last=False)


class RequestGuard(SchemaExtension):
    """Before anything executes: the token limit while parsing, then the document limits (depth, aliases, cost,
    string lengths), validation (cached for valid documents) and the caller's budget of expensive operations.

    A refusal is a pre-execution error, so no resolver (and no SQL) runs. The compiled plans apply the same
    limits (graphql_app.compiled) and hand refused requests here.
    """

    def __init__(self, limits: RequestLimits, caches: DocumentCaches, rate_limiter: ExpensiveOperationLimiter | None):
        self.limits = limits
        self.caches = caches
        self.rate_limiter = rate_limiter

    def on_operation(self) -> Iterator[None]:
        self.execution_context.parse_options["max_tokens"] = self.limits.max_tokens
        yield

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.query is not None and context.graphql_document is None:
            # On a syntax error (or the token limit) Strawberry parses again and reports it as usual.
            with contextlib.suppress(GraphQLError):
                context.graphql_document = self.caches.parse(context.query, self.limits.max_tokens)
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document, query = context.graphql_document, context.query or ""
        try:
            measure = check_document(
                self.limits, context.schema._schema, document, context.operation_name, context.variables
            )
            if self.caches.is_valid(query):
                context.pre_execution_errors = []
            else:
                context.pre_execution_errors = validate_document(
                    context.schema._schema, document, context.validation_rules
                )
                if not context.pre_execution_errors:
                    self.caches.remember_valid(query)
            principal = getattr(context.context, "principal", None)
            if not context.pre_execution_errors and measure and self.rate_limiter and principal is not None:
                self.rate_limiter.charge(f"{principal.tenant_id}\x1f{principal.subject}", measure)
        except MatchgraphError as exc:
            context.pre_execution_errors = [GraphQLError(exc.message, extensions=exc.extensions)]
        yield
