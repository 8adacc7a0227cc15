"""Matchgraph's execution context: a short path for plain leaf fields, and subscription events executed once per
audience.

graphql-core executes every field the same way: it builds a resolve info, coerces arguments, calls the resolver
(Strawberry's wrapper, then the attribute read), checks for awaitables and completes the value through several
calls. For a field Strawberry marks as basic (no resolver, no permission classes, no extensions) whose type is a
scalar, an enum or a list of them, all of that amounts to reading an attribute and serialising it. Such fields
take that short path here; anything unusual on it (a null in a non-null position, a value the type cannot
serialise, an exception) is handed to graphql-core's own ``execute_field``, which raises or reports exactly what
it always does. A 20-row page has about 500 such fields.

Subscription events: when one event (the same payload object) reaches many subscribers of the same document with
the same variables, and that document selects only plain fields below its root field (nothing that depends on
who asks; visibility is decided before the payload is yielded), the event is executed once and its result shared.
A subscription's resolver also finds its executor (``current_subscription``): over a WebSocket the broadcast path
(graphql_app.web.broadcast) executes each event once per audience with it and no per-subscriber stream runs.
"""

from __future__ import annotations

import math
import operator
from collections import OrderedDict
from collections.abc import AsyncIterable, Callable
from contextvars import ContextVar
from typing import Any, NamedTuple

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLBoolean,
    GraphQLField,
    GraphQLFloat,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: Attribute on a field definition holding (leaf type, non-null, is a list, list items non-null), or None when the
#: short path does not apply. Kept on the definition itself: a cache keyed by ``id()`` would hand a rebuilt
#: schema's field the description of a collected one that happened to share its address.
_PLAIN_ATTRIBUTE = "_matchgraph_plain_field"
_NOT_DESCRIBED = object()


class PlainField(NamedTuple):
    """How to read and serialise a plain leaf field."""

    leaf_type: Any
    non_null: bool
    is_list: bool
    item_non_null: bool
    read: Callable[[Any], Any]  # the value of the field on a source object
    exact: type | None  # a value of exactly this type serialises as itself (String, ID, Boolean, finite Float)


_EXACT = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool, GraphQLFloat: float}


def _reader(field_def: GraphQLField) -> Callable[[Any], Any]:
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if definition is not None and definition.default_resolver is getattr:
        return operator.attrgetter(definition.python_name)  # what Strawberry's default resolver does, in C
    return lambda source: field_def.resolve(source, None)


def _plain_field(field_def: GraphQLField) -> PlainField | None:
    described = field_def.__dict__.get(_PLAIN_ATTRIBUTE, _NOT_DESCRIBED)
    if described is not _NOT_DESCRIBED:
        return described
    described = None
    if getattr(field_def.resolve, "_is_default", False) and not field_def.args:
        field_type, non_null = field_def.type, False
        if isinstance(field_type, GraphQLNonNull):
            field_type, non_null = field_type.of_type, True
        if is_leaf_type(field_type):
            described = PlainField(field_type, non_null, False, False, _reader(field_def), _EXACT.get(field_type))
        elif isinstance(field_type, GraphQLList):
            item_type, item_non_null = field_type.of_type, False
            if isinstance(item_type, GraphQLNonNull):
                item_type, item_non_null = item_type.of_type, True
            if is_leaf_type(item_type):
                exact = _EXACT.get(item_type)
                described = PlainField(item_type, non_null, True, item_non_null, _reader(field_def), exact)
    field_def.__dict__[_PLAIN_ATTRIBUTE] = described
    return described


#: Field metadata marking a resolver as *direct*: a plain method ``(self, info)`` with no arguments, permission
#: classes or extensions that reads nothing of ``info`` but ``info.context``. Such a field is called as a function,
#: without Strawberry's per-call wrappers (argument conversion, the Info object, extension hooks).
DIRECT = "matchgraph.direct"
_DIRECT_ATTRIBUTE = "_matchgraph_direct_resolver"


def _direct_resolver(field_def: GraphQLField) -> Any:
    described = field_def.__dict__.get(_DIRECT_ATTRIBUTE, _NOT_DESCRIBED)
    if described is not _NOT_DESCRIBED:
        return described
    described = None
    definition = (field_def.extensions or {}).get("strawberry-definition")
    if (
        definition is not None
        and (definition.metadata or {}).get(DIRECT)
        and definition.base_resolver is not None
        and not definition.arguments
        and not definition.permission_classes
        and not definition.extensions
        and not field_def.args
    ):
        described = definition.base_resolver.wrapped_func
    field_def.__dict__[_DIRECT_ATTRIBUTE] = described
    return described


class _Unusual(Exception):
    """The value needs graphql-core's full completion (to raise or report as it does)."""


def _coerce(plain: PlainField, value: Any, non_null: bool) -> Any:
    if value is None:
        if non_null:
            raise _Unusual
        return None
    if type(value) is plain.exact and (plain.exact is not float or math.isfinite(value)):
        return value  # what the scalar's serialiser would return, without calling it
    coerced = plain.leaf_type.coerce_output_value(value)
    if coerced is None or coerced is Undefined:
        raise _Unusual
    return coerced


#: Recent subscription-event results by (payload identity, document, operation, variables), each with its payload
#: (an id is only meaningful while its object lives). Events are fanned out at once, so a few entries suffice.
_EVENT_RESULTS: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_EVENT_RESULTS_SIZE = 32
#: How many subscriber deliveries reused another's execution (tests check the sharing really happens).
shared_event_results = 0


#: The subscription executor whose source stream this task reads (graphql_app.web.broadcast).
current_subscription: ContextVar[MatchgraphExecutionContext | None] = ContextVar(
    "matchgraph_subscription_executor", default=None
)


class MatchgraphExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context with the short path for plain leaf fields and shared event results."""

    _event_key: tuple | None = None

    def build_per_event_executor(self, payload: Any) -> Any:
        executor = super().build_per_event_executor(payload)
        audience = self._audience()
        executor._event_key = None if audience is None else (id(payload), *audience)
        return executor

    def cancellable_iterable(self, iterable: AsyncIterable[Any]) -> AsyncIterable[Any]:
        # Called with the subscription's source stream before its first event is read, in the operation's task:
        # the stream's resolver can find the executor here (the broadcast path executes events with it).
        if self.operation.operation is OperationType.SUBSCRIPTION:
            current_subscription.set(self)
        return super().cancellable_iterable(iterable)

    def audience(self) -> tuple | None:
        """What an event's result depends on besides the payload and the viewer (see ``_audience``)."""
        return self._audience()

    def execute_operation(self, serially: bool | None = None) -> Any:
        key = self._event_key
        if key is None:
            return super().execute_operation(serially)
        shared = _EVENT_RESULTS.get(key)
        if shared is not None and shared[0] is self.root_value:
            global shared_event_results
            shared_event_results += 1
            return shared[1]
        result = super().execute_operation(serially)
        if self.is_awaitable(result):
            return result  # not shared: plain fields complete synchronously
        if not getattr(result, "errors", None):
            _EVENT_RESULTS[key] = (self.root_value, result)
            while len(_EVENT_RESULTS) > _EVENT_RESULTS_SIZE:
                _EVENT_RESULTS.popitem(last=False)
        return result

    def _audience(self) -> tuple | None:
        """What an event's result depends on besides the payload — the document and the variables — when the
        document selects only plain fields under its root field; ``None`` when it may depend on the caller."""
        cached = self.__dict__.get("_audience_cache", False)
        if cached is not False:
            return cached
        audience = None
        operation = self.operation
        try:
            variables = tuple(sorted(self.variable_values.coerced.items()))
            hash(variables)
        except TypeError:
            variables = None
        if operation.loc is not None and variables is not None and self._plain_below_root():
            audience = (operation.loc.source.body, operation.name.value if operation.name else None, variables)
        self.__dict__["_audience_cache"] = audience
        return audience

    def _plain_below_root(self) -> bool:
        root_type = self.schema.subscription_type
        for node in self.operation.selection_set.selections:
            if not isinstance(node, FieldNode) or node.name.value not in root_type.fields:
                return False
            named = get_named_type(root_type.fields[node.name.value].type)
            if node.selection_set is not None and not self._plain_selection(named, node.selection_set, set()):
                return False
        return True

    def _plain_selection(self, parent: Any, selection_set: SelectionSetNode, seen: set[str]) -> bool:
        if not isinstance(parent, GraphQLObjectType):
            return False
        for node in selection_set.selections:
            if isinstance(node, FieldNode):
                if node.name.value == "__typename":
                    continue
                definition = parent.fields.get(node.name.value)
                if definition is None or node.arguments or not getattr(definition.resolve, "_is_default", False):
                    return False
                if node.selection_set is not None and not self._plain_selection(
                    get_named_type(definition.type), node.selection_set, seen
                ):
                    return False
            elif isinstance(node, InlineFragmentNode):
                if not self._plain_selection(parent, node.selection_set, seen):
                    return False
            elif isinstance(node, FragmentSpreadNode):
                fragment = self.fragment_definitions.get(node.name.value)
                if fragment is None:
                    return False
                if node.name.value not in seen:
                    seen.add(node.name.value)
                    if not self._plain_selection(parent, fragment.selection_set, seen):
                        return False
        return True

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Any,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's ``execute_fields``, with plain leaf fields read and serialised in place (no path, no
        resolve info) and :data:`DIRECT` fields called without Strawberry's wrappers."""
        plans = self.__dict__.setdefault("_field_plans", {})
        cached = plans.get(id(grouped_field_set))
        if cached is None:  # the same grouped set serves every object of a list: plan it once per execution
            planned = self._plan_fields(parent_type, grouped_field_set)
            cached = plans[id(grouped_field_set)] = (grouped_field_set, planned)
        results: dict[str, Any] = {}
        is_awaitable = self.is_awaitable
        awaitable_fields: list[str] = []
        try:
            for response_name, field_details_list, field_def, plain, direct in cached[1]:
                if plain is not None:
                    try:
                        value = plain.read(source_value)
                        if not plain.is_list or value is None:
                            results[response_name] = _coerce(plain, value, plain.non_null)
                            continue
                        if isinstance(value, list | tuple):
                            results[response_name] = [_coerce(plain, item, plain.item_non_null) for item in value]
                            continue
                    except Exception:
                        pass  # graphql-core below raises or reports it exactly as it always does
                field_path = Path(path, response_name, parent_type.name)
                if direct is not None:
                    result = self._execute_direct(
                        parent_type, field_def, direct, source_value, field_details_list, field_path
                    )
                else:
                    result = super().execute_field(
                        parent_type, source_value, field_details_list, field_path, position_context
                    )
                if result is not Undefined:
                    results[response_name] = result
                    if is_awaitable(result):
                        awaitable_fields.append(response_name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[field] for field in awaitable_fields])
            raise
        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:  # no gathering for one field
                results[awaitable_fields[0]] = await results[awaitable_fields[0]]
            else:
                awaited = await gather_with_cancel(*(results[field] for field in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _plan_fields(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[tuple]:
        """Per response key: its field details, definition, plain-leaf description and direct resolver."""
        middleware = self.middleware_manager
        bare = middleware is None or middleware._middleware_resolvers is None  # Strawberry's manager, empty
        plan = []
        for response_name, field_details_list in grouped_field_set.items():
            field_def = parent_type.fields.get(field_details_list[0].node.name.value)
            plain = _plain_field(field_def) if bare and field_def is not None else None
            direct = _direct_resolver(field_def) if bare and field_def is not None and plain is None else None
            plan.append((response_name, field_details_list, field_def, plain, direct))
        return plan

    def _execute_direct(
        self,
        parent_type: GraphQLObjectType,
        field_def: GraphQLField,
        resolver: Any,
        source: Any,
        field_details_list: Any,
        path: Any,
    ) -> Any:
        """graphql-core's ``execute_field`` for a :data:`DIRECT` field: the resolver function itself is called with
        ``(source, info)``, where ``info`` offers ``context`` (all such a resolver may read)."""
        return_type = field_def.type
        info = self.build_resolve_info(field_def, to_nodes(field_details_list), parent_type, path)
        try:
            result = resolver(source, info)
            if self.is_awaitable(result):
                return self.complete_awaitable_value(return_type, field_details_list, info, path, result, None)
            completed = self.complete_value(return_type, field_details_list, info, path, result, None)
            if self.is_awaitable(completed):

                async def await_completed() -> Any:
                    try:
                        return await completed
                    except Exception as raw_error:
                        self.handle_field_error(raw_error, return_type, field_details_list, path)
                        return None

                return await_completed()
            return completed
        except Exception as raw_error:
            self.handle_field_error(raw_error, return_type, field_details_list, path)
            return None
