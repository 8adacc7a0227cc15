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

from collections import OrderedDict
from collections.abc import AsyncIterable
from contextvars import ContextVar
from typing import Any

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    get_named_type,
    is_leaf_type,
)
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

#: Attribute on a field definition holding (leaf type, non-null, is a list, list items non-null), or None when the
#: short path does not apply. Kept on the definition itself: a cache keyed by ``id()`` would hand a rebuilt
#: schema's field the description of a collected one that happened to share its address.
_PLAIN_ATTRIBUTE = "_matchgraph_plain_field"
_NOT_DESCRIBED = object()


def _plain_field(field_def: GraphQLField) -> tuple[Any, bool, bool, bool] | None:
    described = field_def.__dict__.get(_PLAIN_ATTRIBUTE, _NOT_DESCRIBED)
    if described is not _NOT_DESCRIBED:
        return described
    described = None
    if getattr(field_def.resolve, "_is_default", False) and not field_def.args:
        field_type, non_null = field_def.type, False
        if isinstance(field_type, GraphQLNonNull):
            field_type, non_null = field_type.of_type, True
        if is_leaf_type(field_type):
            described = (field_type, non_null, False, False)
        elif isinstance(field_type, GraphQLList):
            item_type, item_non_null = field_type.of_type, False
            if isinstance(item_type, GraphQLNonNull):
                item_type, item_non_null = item_type.of_type, True
            if is_leaf_type(item_type):
                described = (item_type, non_null, True, item_non_null)
    field_def.__dict__[_PLAIN_ATTRIBUTE] = described
    return described


class _Unusual(Exception):
    """The value needs graphql-core's full completion (to raise or report as it does)."""


def _coerce(leaf_type: Any, value: Any, non_null: bool) -> Any:
    if value is None:
        if non_null:
            raise _Unusual
        return None
    coerced = leaf_type.coerce_output_value(value)
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

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        middleware = self.middleware_manager
        if middleware is None or middleware._middleware_resolvers is None:  # Strawberry's manager, empty
            field_def = parent_type.fields.get(field_details_list[0].node.name.value)
            plain = _plain_field(field_def) if field_def is not None else None
            if plain is not None:
                leaf_type, non_null, is_list, item_non_null = plain
                try:
                    value = field_def.resolve(source, None)
                    if not is_list or value is None:
                        return _coerce(leaf_type, value, non_null)
                    if isinstance(value, list | tuple):
                        return [_coerce(leaf_type, item, item_non_null) for item in value]
                except Exception:
                    pass
        return super().execute_field(parent_type, source, field_details_list, path, position_context)
