"""What one GraphQL request may ask for, measured on the parsed document before validation or execution.

Every path applies the same limits (HTTP POST and GET, batches, SSE, both WebSocket protocols, compiled plans):

* **tokens** — graphql-core stops parsing past ``max_tokens`` (``DOCUMENT_TOO_LARGE``);
* **depth** of nested selections, fragments expanded (``QUERY_TOO_DEEP``);
* **aliases** (``TOO_MANY_ALIASES``);
* **cost** — every field costs 1, multiplied by the page sizes (``first``, or the argument's default) of the lists
  around it, plus a weight for fields that score or embed on the fly (``QUERY_TOO_COMPLEX``);
* **repeated fields** — one response key selected more than ``max_repeated_fields`` times in one selection set
  (validating field merges is quadratic in that number; ``QUERY_TOO_COMPLEX``);
* **string length** of any argument value, literal or variable (``BAD_USER_INPUT``).

The measurement walks each fragment once (memoised), so a document cannot make it slow by nesting fragment
spreads. Nothing here touches the database.
"""

from __future__ import annotations

import math
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    ObjectValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    StringValueNode,
    VariableNode,
    get_named_type,
)

from graphql_app.errors import BadUserInput, MatchgraphError

#: Extra cost of one occurrence of a field that computes on the fly instead of reading stored rows.
EXPENSIVE_FIELD_WEIGHTS = {
    "liveGrantMatches": 2_000,  # scores the whole open catalogue for a company
    "refreshGrantMatches": 2_000,  # the same, and may store the result
    "searchGrants": 500,  # embeds the text with the model
}
#: Fields counted against the per-caller rate limit of expensive operations (each occurrence, times the page sizes
#: around it): on-the-fly scoring and search, and the mutations that start background computations.
RATE_LIMITED_FIELDS = frozenset({*EXPENSIVE_FIELD_WEIGHTS, "calculateGrantMatches", "computeJobMatches"})
#: The largest page any list field serves (graphql_app.validation.page_size).
MAX_PAGE_SIZE = 100
#: Arguments that say how many items a list field returns.
PAGE_SIZE_ARGUMENTS = ("first", "limit")


class LimitExceeded(MatchgraphError):
    """A request over one of the limits; the code names which."""

    def __init__(self, code: str, message: str, **extensions: Any) -> None:
        self.code = code
        super().__init__(message, **extensions)


@dataclass(frozen=True)
class RequestLimits:
    """The limits (settings ``MATCHGRAPH_MAX_*``)."""

    #: Characters in a document, checked before it is lexed (a huge string literal or comment is one token).
    max_document_length: int = 50_000
    max_tokens: int = 5_000
    max_depth: int = 12
    max_aliases: int = 50
    max_cost: int = 25_000
    max_repeated_fields: int = 20
    max_string_length: int = 100_000


@dataclass
class Measure:
    """What a document asks for (of one operation, with the request's variables)."""

    depth: int = 0
    aliases: int = 0
    cost: int = 0
    repeated_fields: int = 0
    rate_limited: Counter = field(default_factory=Counter)  # RATE_LIMITED_FIELDS name → occurrences


@dataclass
class _Summary:
    depth: int
    aliases: int
    cost: int  # at multiplier 1 (cost is linear in the multiplier)
    repeated: int  # the most repeated response key in any nested selection set
    keys: Counter  # response keys this selection contributes to its parent's selection set
    rate_limited: Counter


class _Walk:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode, variables: dict[str, Any]) -> None:
        self.schema = schema
        self.variables = variables
        self.fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        self.memo: dict[str, _Summary] = {}
        self.visiting: set[str] = set()

    def selection_set(self, node: SelectionSetNode | None, parent: Any) -> _Summary:
        total = _Summary(0, 0, 0, 0, Counter(), Counter())
        if node is None:
            return total
        for selection in node.selections:
            if isinstance(selection, FieldNode):
                part = self.field(selection, parent)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                part = self.selection_set(
                    selection.selection_set, self.schema.get_type(condition.name.value) if condition else parent
                )
            elif isinstance(selection, FragmentSpreadNode):
                part = self.fragment(selection.name.value)
            else:  # pragma: no cover - graphql-core has no other selection kinds
                continue
            total.depth = max(total.depth, part.depth)
            total.aliases += part.aliases
            total.cost += part.cost
            total.repeated = max(total.repeated, part.repeated)
            total.keys.update(part.keys)
            total.rate_limited.update(part.rate_limited)
        total.repeated = max(total.repeated, max(total.keys.values(), default=0))
        return total

    def fragment(self, name: str) -> _Summary:
        if name in self.memo:
            return self.memo[name]
        definition = self.fragments.get(name)
        if definition is None or name in self.visiting:  # unknown or cyclic: validation reports it
            return _Summary(0, 0, 0, 0, Counter(), Counter())
        self.visiting.add(name)
        summary = self.selection_set(
            definition.selection_set, self.schema.get_type(definition.type_condition.name.value)
        )
        self.visiting.discard(name)
        self.memo[name] = summary
        return summary

    def field(self, node: FieldNode, parent: Any) -> _Summary:
        name = node.name.value
        definition = parent.fields.get(name) if isinstance(parent, GraphQLObjectType) else None
        if definition is None and parent is not None and hasattr(parent, "fields"):
            definition = parent.fields.get(name)  # interfaces
        items = self.page_size(node, definition)
        child_type = get_named_type(definition.type) if definition is not None else None
        children = self.selection_set(node.selection_set, child_type)
        if name.startswith("__"):
            # Introspection (GraphiQL's query nests `ofType` a dozen levels): bounded by the schema's size and
            # answered from memory, so it counts for neither depth nor cost; aliases and repeats still count.
            return _Summary(
                1,
                children.aliases + (1 if node.alias else 0),
                1,
                children.repeated,
                Counter({(node.alias or node.name).value: 1}),
                Counter(),
            )
        weight = EXPENSIVE_FIELD_WEIGHTS.get(name, 0)
        rate_limited = Counter({key: count * items for key, count in children.rate_limited.items()})
        if name in RATE_LIMITED_FIELDS:
            rate_limited[name] += 1
        return _Summary(
            depth=1 + children.depth,
            aliases=children.aliases * items + (1 if node.alias else 0),
            cost=1 + weight + items * children.cost,
            repeated=children.repeated,
            keys=Counter({(node.alias or node.name).value: 1}),
            rate_limited=rate_limited,
        )

    def page_size(self, node: FieldNode, definition: Any) -> int:
        """How many items the field returns at most: its page-size argument, given or defaulted; else 1."""
        given = {argument.name.value: argument.value for argument in node.arguments or ()}
        for name in PAGE_SIZE_ARGUMENTS:
            value = given.get(name)
            if isinstance(value, VariableNode):
                value = self.variables.get(value.name.value)
            elif isinstance(value, IntValueNode):
                value = int(value.value)
            if value is None and definition is not None and name in definition.args:
                value = definition.args[name].default_value
            if isinstance(value, int) and not isinstance(value, bool):
                # A larger page is refused by the field itself (BAD_USER_INPUT), so it never costs more.
                return min(max(value, 1), MAX_PAGE_SIZE)
        return 1


def select_operation(document: DocumentNode, operation_name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == operation_name), None)


#: Recent measures, by (document identity, operation, the integer variables — the only ones that can change a
#: measure, as page sizes). Each entry keeps its document, so an id reused by a new document never matches.
_MEASURES: OrderedDict[tuple, tuple[DocumentNode, Measure | None]] = OrderedDict()
_MEASURES_SIZE = 512
#: Only documents up to this many characters are remembered (the entries keep them alive).
_MEASURED_LENGTH = 10_000


def measure(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None
) -> Measure | None:
    """What the operation asks for; ``None`` when the document does not name one operation (validation and
    execution report that). Remembered for the same document and page sizes: a repeated query is measured once."""
    numbers = tuple(sorted((k, v) for k, v in (variables or {}).items() if type(v) is int))
    key = (id(document), operation_name, numbers)
    remembered = _MEASURES.get(key)
    if remembered is not None and remembered[0] is document:
        _MEASURES.move_to_end(key)
        return remembered[1]
    found = _measure(schema, document, operation_name, variables)
    if document.loc is not None and document.loc.end <= _MEASURED_LENGTH:
        _MEASURES[key] = (document, found)
        if len(_MEASURES) > _MEASURES_SIZE:
            _MEASURES.popitem(last=False)
    return found


def _measure(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None, variables: dict[str, Any] | None
) -> Measure | None:
    operation = select_operation(document, operation_name)
    if operation is None:
        return None
    root = {"query": schema.query_type, "mutation": schema.mutation_type, "subscription": schema.subscription_type}
    walk = _Walk(schema, document, _defaulted_variables(operation, variables or {}))
    summary = walk.selection_set(operation.selection_set, root.get(operation.operation.value))
    return Measure(summary.depth, summary.aliases, summary.cost, summary.repeated, summary.rate_limited)


class ExpensiveOperationLimiter:
    """A per-caller budget of expensive operations (``RATE_LIMITED_FIELDS``), in this process's memory.

    A moving window: an operation is refused when the caller's costs within the last window (the rate's period)
    plus its own would pass the rate's amount. Each API process keeps its own counts, so N processes allow up to
    N times the budget in total (the budget bounds what one caller can make one process do). Kept here rather than
    in the `limits` package's memory storage, which starts a timer thread on every charge (a millisecond or more
    per live-scoring request on the hot path).
    """

    def __init__(self, rate: str) -> None:
        from limits import parse

        self.rate = parse(rate)
        self._window = float(self.rate.get_expiry())
        self._spent: dict[str, deque[tuple[float, int]]] = {}  # caller → (when, cost), oldest first
        self._totals: dict[str, int] = {}
        self._charges = 0

    def charge(self, caller: str, measure: Measure, now: float | None = None) -> None:
        """Count the operation's expensive fields against the caller's budget; RATE_LIMITED when over it.
        ``now``: ``time.monotonic()`` (tests pass their own)."""
        cost = sum(measure.rate_limited.values())
        if not cost:
            return
        now = time.monotonic() if now is None else now
        self._charges += 1
        if self._charges % 1024 == 0:
            self._forget_idle(now)
        spent = self._spent.setdefault(caller, deque())
        total = self._totals.get(caller, 0)
        while spent and spent[0][0] <= now - self._window:
            total -= spent.popleft()[1]
        if cost > self.rate.amount or total + cost > self.rate.amount:
            if spent:
                self._totals[caller] = total
                retry_after = max(1, math.ceil(spent[0][0] + self._window - now))
            else:
                del self._spent[caller]
                self._totals.pop(caller, None)
                retry_after = 1
            raise LimitExceeded(
                "RATE_LIMITED",
                f"Too many expensive operations (live scoring, search, computations): at most {self.rate.amount} "
                f"per {self.rate.get_expiry()} s per caller. Retry in {retry_after} s.",
                retryAfter=retry_after,
            )
        spent.append((now, cost))
        self._totals[caller] = total + cost

    def _forget_idle(self, now: float) -> None:
        """Drop the callers with nothing left in the window (bounds the memory of one-off callers)."""
        for caller in [c for c, spent in self._spent.items() if spent[-1][0] <= now - self._window]:
            del self._spent[caller]
            self._totals.pop(caller, None)


def check_document(
    limits: RequestLimits,
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    variables: dict[str, Any] | None,
) -> Measure | None:
    """Raise :class:`LimitExceeded` (or BAD_USER_INPUT for an over-long string) when the request is over a limit;
    otherwise return what it asks for."""
    _check_strings(limits, document, variables)
    found = measure(schema, document, operation_name, variables)
    if found is None:
        return None
    if found.depth > limits.max_depth:
        raise LimitExceeded(
            "QUERY_TOO_DEEP", f"The query nests {found.depth} levels deep; at most {limits.max_depth} are allowed."
        )
    if found.aliases > limits.max_aliases:
        raise LimitExceeded(
            "TOO_MANY_ALIASES", f"The query uses {found.aliases} aliases; at most {limits.max_aliases} are allowed."
        )
    if found.repeated_fields > limits.max_repeated_fields:
        raise LimitExceeded(
            "QUERY_TOO_COMPLEX",
            f"One field is selected {found.repeated_fields} times in one selection set; "
            f"at most {limits.max_repeated_fields} are allowed.",
        )
    if found.cost > limits.max_cost:
        raise LimitExceeded(
            "QUERY_TOO_COMPLEX",
            f"The query's estimated cost is {found.cost} (fields times the page sizes around them); "
            f"at most {limits.max_cost} is allowed. Ask for smaller pages or fewer nested lists.",
            cost=found.cost,
            maxCost=limits.max_cost,
        )
    return found


def check_document_length(limits: RequestLimits, query: object) -> None:
    """Refuse a document too long to lex (before any parsing): DOCUMENT_TOO_LARGE."""
    if isinstance(query, str) and len(query) > limits.max_document_length:
        raise LimitExceeded(
            "DOCUMENT_TOO_LARGE",
            f"The document is {len(query)} characters long; at most {limits.max_document_length} are accepted.",
        )


def token_limit_error(error: Exception) -> LimitExceeded | None:
    """graphql-core's "more than N tokens" syntax error as the limit it is."""
    message = str(getattr(error, "message", error))
    if "Document contains more than" in message:
        return LimitExceeded("DOCUMENT_TOO_LARGE", message.removeprefix("Syntax Error: "))
    return None


def _defaulted_variables(operation: OperationDefinitionNode, variables: dict[str, Any]) -> dict[str, Any]:
    values = dict(variables)
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name not in values and isinstance(definition.default_value, IntValueNode):
            values[name] = int(definition.default_value.value)
    return values


def _check_strings(limits: RequestLimits, document: DocumentNode, variables: dict[str, Any] | None) -> None:
    """No argument value (literal or variable, however nested) may be longer than ``max_string_length``."""
    document_length = document.loc.end if document.loc is not None else None
    # A literal is never longer than its document: the (slower) walk over literals is only needed for long ones.
    literal = _longest_literal(document) if document_length is None or document_length > limits.max_string_length else 0
    longest = max(literal, _longest_value(variables or {}))
    if longest > limits.max_string_length:
        raise BadUserInput(
            f"An argument value is {longest} characters long; at most {limits.max_string_length} are accepted."
        )


def _longest_literal(document: DocumentNode) -> int:
    longest = 0
    stack: list[Any] = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, StringValueNode):
            longest = max(longest, len(node.value))
        elif isinstance(node, ListValueNode | ObjectValueNode) or hasattr(node, "keys"):
            for key in getattr(node, "keys", ()):
                child = getattr(node, key, None)
                if isinstance(child, tuple | list):
                    stack.extend(child)
                elif child is not None and hasattr(child, "keys"):
                    stack.append(child)
    return longest


def _longest_value(value: Any) -> int:
    longest = 0
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            longest = max(longest, len(item))
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return longest
