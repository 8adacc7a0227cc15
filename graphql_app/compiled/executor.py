"""Runs compiled plans: plan cache, permission checks, variable coercion, one statement, the result.

:meth:`CompiledQueries.execute` returns ``None`` whenever the request must go through the resolvers instead
(not compilable, unauthenticated, forbidden, invalid input, missing rows); the caller then executes it the
ordinary way, which produces the errors and partial data clients expect.
"""

from __future__ import annotations

import dataclasses
import inspect
import logging
from collections import OrderedDict
from types import SimpleNamespace
from typing import Any

import orjson
import strawberry
from graphql import GraphQLError, GraphQLSchema, parse, specified_rules, validate
from graphql.execution.values import VariableValues, get_variable_values
from strawberry.types import ExecutionResult

from graphql_app import access
from graphql_app.compiled.mappings import bind_plan, is_supported, new_writer, render_operation
from graphql_app.compiled.plan import NotCompilable, OperationPlan, compile_operation
from graphql_app.compiled.sql import MISSING, Bindings, Fallback
from graphql_app.context import Context
from graphql_app.errors import MatchgraphError
from graphql_app.limits import RequestLimits, check_document, check_document_length

logger = logging.getLogger(__name__)

MISSING_BYTES = MISSING.encode()


#: Schema extensions whose effect a plan reproduces: the request limits (applied here with the same limits,
#: refused requests handed to the resolvers, which refuse them), error shaping (plans answer only error-free
#: requests) and introspection refusal (plans never cover introspection). An extension outside this list —
#: tracing, another limit — must be taught to the compiled path before it is switched on.
SAFE_EXTENSIONS = ("RequestGuard", "MaskUnexpectedErrors", "ErrorCodes", "DisableIntrospection")


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
        self._plans: OrderedDict[tuple[str, str | None], OperationPlan | None] = OrderedDict()
        self.served = 0  # requests answered by a plan (tests check the path really ran)
        self.fallbacks = 0  # compiled operations handed back to the resolvers for one request

    def plan_for(self, query: str, operation_name: str | None) -> OperationPlan | None:
        """The cached plan of a document (``None``: not compilable; the resolvers run it)."""
        key = (query, operation_name)
        try:
            plan = self._plans[key]
            self._plans.move_to_end(key)
            return plan
        except KeyError:
            pass
        plan, keep = self._compile(query, operation_name)
        if keep and len(query) <= self.max_cached_length:
            self._plans[key] = plan
            if len(self._plans) > self.maxsize:
                self._plans.popitem(last=False)
        return plan

    def _compile(self, query: str, operation_name: str | None) -> tuple[OperationPlan | None, bool]:
        """The plan (None: the resolvers answer), and whether to keep that outcome. A refusal is kept too, so a
        refused document is not parsed and measured again on every request; documents too long to keep are not
        (the cache holds at most ``maxsize`` documents of ``max_cached_length``)."""
        try:
            check_document_length(self.limits, query)
            document = parse(query, max_tokens=self.limits.max_tokens)
            check_document(self.limits, self.schema, document, operation_name, None)
        except (GraphQLError, MatchgraphError):
            return None, True
        if validate(self.schema, document, specified_rules):
            return None, True
        try:
            plan = compile_operation(self.schema, document, operation_name, is_supported)
        except NotCompilable as exc:
            logger.debug("not compiled (%s): %s", exc, operation_name)
            return None, True
        return dataclasses.replace(plan, document=document), True

    async def execute(
        self, query: str | None, operation_name: str | None, variables: dict[str, Any] | None, context: Context
    ) -> ExecutionResult | None:
        """The result of a compiled plan, or ``None`` when the resolvers must answer this request."""
        data = await self.execute_to_json(query, operation_name, variables, context)
        return None if data is None else ExecutionResult(data=orjson.loads(data), errors=None)

    async def execute_to_json(
        self, query: str | None, operation_name: str | None, variables: dict[str, Any] | None, context: Context
    ) -> bytes | None:
        """The response's ``data`` as JSON text built by PostgreSQL, or ``None`` (the resolvers answer)."""
        if not query or context.principal is None or context.auth_error is not None:
            return None
        plan = self.plan_for(query, operation_name)
        if plan is None or not _permitted(plan, context):
            return None
        try:  # the cost depends on the variables (page sizes)
            check_document(self.limits, self.schema, plan.document, operation_name, variables)
        except MatchgraphError:
            self.fallbacks += 1
            return None
        coerced = get_variable_values(self.schema, plan.variable_definitions, variables or {})
        if not isinstance(coerced, VariableValues):
            return None
        bindings = Bindings(context.principal, context.clock.now())
        try:
            bind_plan(plan.root, coerced.coerced, bindings)
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
