"""Runs compiled plans: plan cache, permission checks, variable coercion, one statement, the result.

:meth:`CompiledQueries.execute` returns ``None`` whenever the request must go through the resolvers instead
(not compilable, unauthenticated, forbidden, invalid input, missing rows); the caller then executes it the
ordinary way, which produces the errors and partial data clients expect. A plan that leaves some root fields to
the resolvers gets them answered by the caller's ``run_rest`` and merges both into one result.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import orjson
import strawberry
from graphql import DocumentNode, GraphQLError, GraphQLSchema, SourceLocation, parse, specified_rules, validate
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.types import ExecutionResult

from graphql_app import access
from graphql_app.compiled.mappings import bind_plan, is_supported, new_writer, render_operation
from graphql_app.compiled.plan import NotCompilable, OperationPlan, compile_operation, condition_variables
from graphql_app.compiled.sql import MISSING, Bindings, Fallback
from graphql_app.context import Context
from graphql_app.errors import MatchgraphError
from graphql_app.limits import RequestLimits, check_document, check_document_length, select_operation

logger = logging.getLogger(__name__)

MISSING_BYTES = MISSING.encode()


#: Schema extensions whose effect a plan reproduces: the request limits (applied here with the same limits,
#: refused requests handed to the resolvers, which refuse them), error shaping (plans answer only error-free
#: requests) and introspection refusal (plans never cover introspection). An extension outside this list —
#: tracing, another limit — must be taught to the compiled path before it is switched on.
SAFE_EXTENSIONS = ("RequestGuard", "MaskUnexpectedErrors", "ErrorCodes", "DisableIntrospection")

#: Answers a document of root fields through the resolvers (the request's variables and operation name).
RunRest = Callable[[str], Awaitable[ExecutionResult]]


class NeedsResolvers(Exception):
    """The plan answers only part of the operation; the caller must supply the resolvers' part."""


@dataclass
class PlannedDocument:
    """A valid query document and its plans, one per combination of its ``@skip``/``@include`` variables."""

    document: DocumentNode
    operation_name: str | None
    condition_variables: tuple[str, ...]
    plans: dict[tuple, OperationPlan | None] = field(default_factory=dict)


class CompiledQueries:
    """Compiled execution of the read queries :mod:`graphql_app.compiled.mappings` covers."""

    def __init__(self, schema: strawberry.Schema, *, maxsize: int = 512) -> None:
        for extension in schema.extensions:
            name = type(extension() if callable(extension) else extension).__name__
            if name not in SAFE_EXTENSIONS:
                raise RuntimeError(f"compiled query plans do not apply the schema extension {name}")
        self.schema: GraphQLSchema = schema._schema
        self.limits: RequestLimits = getattr(schema, "request_limits", None) or RequestLimits()
        self.maxsize = maxsize
        #: Documents longer than this are compiled for the request but not kept (nor is a failed compilation).
        self.max_cached_length = 20_000
        self._documents: OrderedDict[tuple[str, str | None], PlannedDocument | None] = OrderedDict()
        self.served = 0  # requests answered by a plan (tests check the path really ran)
        self.merged = 0  # … of which with root fields answered by the resolvers
        self.fallbacks = 0  # compiled operations handed back to the resolvers for one request

    def plan_for(
        self, query: str, operation_name: str | None, variables: dict[str, Any] | None = None
    ) -> OperationPlan | None:
        """The cached plan of a document for these variables (``None``: the resolvers run it)."""
        prepared = self._prepare(query, operation_name, variables)
        return None if prepared is None else prepared[0]

    def _prepare(
        self, query: str, operation_name: str | None, variables: dict[str, Any] | None
    ) -> tuple[OperationPlan, dict[str, Any]] | None:
        """The plan for this request and its coerced variables, or ``None``."""
        planned = self._planned_document(query, operation_name)
        if planned is None:
            return None
        operation = select_operation(planned.document, operation_name)
        coerced = get_variable_values(self.schema, operation.variable_definitions or (), variables or {})
        if not isinstance(coerced, VariableValues):
            return None
        values = coerced.coerced
        decision = tuple(values.get(name) for name in planned.condition_variables)
        try:
            plan = planned.plans[decision]
        except KeyError:
            try:
                plan = compile_operation(self.schema, planned.document, operation_name, is_supported, values)
                plan = dataclasses.replace(plan, document=planned.document)
            except NotCompilable as exc:
                logger.debug("not compiled (%s): %s", exc, operation_name)
                plan = None
            if len(planned.plans) < 2 ** min(len(planned.condition_variables), 6):  # null values included
                planned.plans[decision] = plan
        return None if plan is None else (plan, values)

    def _planned_document(self, query: str, operation_name: str | None) -> PlannedDocument | None:
        """The parsed, validated document (cached; ``None``: not a query the plans could answer)."""
        key = (query, operation_name)
        try:
            planned = self._documents[key]
            self._documents.move_to_end(key)
            return planned
        except KeyError:
            pass
        planned = self._parse(query, operation_name)
        # A refusal is kept too, so a refused document is not parsed and measured again on every request;
        # documents too long to keep are not (the cache holds at most ``maxsize`` of ``max_cached_length``).
        if len(query) <= self.max_cached_length:
            self._documents[key] = planned
            if len(self._documents) > self.maxsize:
                self._documents.popitem(last=False)
        return planned

    def _parse(self, query: str, operation_name: str | None) -> PlannedDocument | None:
        try:
            check_document_length(self.limits, query)
            document = parse(query, max_tokens=self.limits.max_tokens)
            check_document(self.limits, self.schema, document, operation_name, None)
        except (GraphQLError, MatchgraphError):
            return None
        if validate(self.schema, document, specified_rules):
            return None
        operation = select_operation(document, operation_name)
        if operation is None or operation.operation.value != "query":
            return None
        return PlannedDocument(document, operation_name, condition_variables(document))

    async def execute(
        self,
        query: str | None,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
        run_rest: RunRest | None = None,
    ) -> ExecutionResult | None:
        """The result of a compiled plan — with the root fields it leaves to the resolvers answered by
        ``run_rest`` and merged in — or ``None`` when the resolvers must answer the whole request."""
        try:
            data = await self.execute_to_json(query, operation_name, variables, context, partial=run_rest is not None)
        except NeedsResolvers:
            return None
        if data is None:
            return None
        answered = orjson.loads(data)
        plan = self.plan_for(query, operation_name, variables)
        if plan is None or plan.residual_query is None:
            return ExecutionResult(data=answered, errors=None)
        rest = await run_rest(plan.residual_query)
        self.merged += 1
        for error in rest.errors or ():  # point into the document the client sent
            if error.locations:
                error.locations = [
                    SourceLocation(*plan.residual_locations.get((loc.line, loc.column), (loc.line, loc.column)))
                    for loc in error.locations
                ]
        if rest.data is None:  # a request error, or a non-null root field failed: no data at all
            return rest
        merged = {key: answered[key] if key in answered else rest.data.get(key) for key in plan.root_keys}
        return ExecutionResult(data=merged, errors=rest.errors, extensions=rest.extensions)

    async def execute_to_json(
        self,
        query: str | None,
        operation_name: str | None,
        variables: dict[str, Any] | None,
        context: Context,
        *,
        partial: bool = False,
    ) -> bytes | None:
        """The response's ``data`` as JSON text built by PostgreSQL, or ``None`` (the resolvers answer).

        With ``partial``, the data of the plan's own root fields when it leaves others to the resolvers; without,
        such a plan raises :class:`NeedsResolvers` (before any SQL)."""
        if not query or context.principal is None or context.auth_error is not None:
            return None
        prepared = self._prepare(query, operation_name, variables)
        if prepared is None:
            return None
        plan, coerced = prepared
        if plan.residual_query is not None and not partial:
            raise NeedsResolvers
        if not _permitted(plan, context):
            return None
        try:  # the cost depends on the variables (page sizes)
            check_document(self.limits, self.schema, plan.document, operation_name, variables)
        except MatchgraphError:
            self.fallbacks += 1
            return None
        bindings = Bindings(context.principal, context.clock.now())
        try:
            bind_plan(plan.root, coerced, bindings)
            shape = (*access.viewer_shape(context.principal), *bindings.shape)
            statement = plan.statements.get(shape)
            if statement is None:
                writer = new_writer(bindings)
                statement = plan.statements[shape] = (render_operation(plan.root, writer), writer.sources)
        except Fallback:
            self.fallbacks += 1
            return None
        sql, sources = statement
        params = [bindings.value_of(source) for source in sources]
        try:
            data = (await context.db.fetch_value(sql, *params)).encode()
        except Exception:
            # The resolvers meet the same failure and answer it as they always do (masked, logged).
            logger.warning("compiled plan failed; the resolvers answer instead", exc_info=True)
            self.fallbacks += 1
            return None
        if MISSING_BYTES in data:
            self.fallbacks += 1
            return None
        self.served += 1
        return data


def _permitted(plan: OperationPlan, context: Context) -> bool:
    """Every permission class on the plan's fields admits the caller (ours depend on the caller only)."""
    info = SimpleNamespace(context=context)
    for permission_class in plan.permission_classes:
        try:
            allowed = permission_class().has_permission(None, info)
        except Exception:
            return False
        if inspect.isawaitable(allowed):  # an async permission: let Strawberry await it
            if inspect.iscoroutine(allowed):
                allowed.close()
            return False
        if not allowed:
            return False
    return True
