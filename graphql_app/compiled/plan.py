"""Compile a query operation into a plan tree: response keys, fields, arguments and permissions.

The compiler resolves fragments (named and inline) against the concrete object types, merges fields that
share a response key and applies ``@skip``/``@include`` with the request's variables (a plan exists per
combination of the conditions' values). A root field it cannot execute exactly like the resolvers would —
interface-typed fields, introspection, fields no mapping renders — is left to them: the plan keeps a residual
document of those root fields, which the resolvers run and the executor merges into the plan's answer. It refuses
(raises :class:`NotCompilable`) other operation types, other directives, and operations with no compiled root
field. A union-typed field gets a selection per possible type; its renderer picks one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    BooleanValueNode,
    DirectiveNode,
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    Node,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    VariableNode,
    get_location,
    get_named_type,
    is_leaf_type,
    parse,
    print_ast,
)
from strawberry.schema.schema_converter import GraphQLCoreConverter

#: PostgreSQL's json_build_object takes at most 100 arguments: 50 keys per object.
MAX_KEYS_PER_OBJECT = 50
#: Fragments can multiply a small document into an exponential number of fields; past this many response
#: fields an operation is left to the resolvers (which stop at the first error instead of rendering SQL).
MAX_FIELDS_PER_PLAN = 2000


class NotCompilable(Exception):
    """The operation uses something the compiled path does not execute; the resolvers will."""


@dataclass(frozen=True)
class FieldPlan:
    """One response key: the field it reads, the arguments as written, and its sub-selection — for a field of a
    union type, one per possible object type (``variants``)."""

    key: str
    name: str
    definition: GraphQLField | None  # None for __typename
    node: FieldNode
    selection: SelectionPlan | None
    variants: dict[str, SelectionPlan] = field(default_factory=dict, compare=False)

    def nested_selections(self) -> list[SelectionPlan]:
        return ([self.selection] if self.selection is not None else []) + list(self.variants.values())


@dataclass(frozen=True)
class SelectionPlan:
    """The fields selected on one object type, in response order."""

    type_name: str
    fields: tuple[FieldPlan, ...]


@dataclass(frozen=True)
class OperationPlan:
    """A compiled query: its root selection, variable definitions and every permission class on its fields."""

    root: SelectionPlan
    variable_definitions: tuple[VariableDefinitionNode, ...]
    permission_classes: tuple[type, ...]
    #: Rendered statements by shape (tenant scoping on or off, which optional arguments are given, enum
    #: values): SQL text and where each positional parameter's value comes from.
    statements: dict[tuple, tuple[str, list]] = field(default_factory=dict, compare=False, repr=False)
    #: The parsed document, which the request limits measure with each request's variables.
    document: DocumentNode | None = field(default=None, compare=False, repr=False)
    #: Every root response key in response order, the residual's included.
    root_keys: tuple[str, ...] = ()
    #: The root fields the resolvers answer, as a document of their own (same operation name, only the variables
    #: and fragments they use); ``None`` when the plan answers everything.
    residual_query: str | None = None
    #: Where each node of ``residual_query`` stands in the original document, (line, column) to (line, column):
    #: the resolvers' errors point into the document the client sent.
    residual_locations: dict[tuple[int, int], tuple[int, int]] = field(default_factory=dict, compare=False)


CONDITIONAL_DIRECTIVES = frozenset({"skip", "include"})


def condition_variables(document: DocumentNode) -> tuple[str, ...]:
    """The variables any ``@skip``/``@include`` of the document reads: a plan exists per combination of theirs."""
    names = {
        argument.value.name.value
        for node in _walk(document)
        if isinstance(node, DirectiveNode) and node.name.value in CONDITIONAL_DIRECTIVES
        for argument in node.arguments
        if isinstance(argument.value, VariableNode)
    }
    return tuple(sorted(names))


def compile_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    is_supported: Callable[[str, str], bool],
    variables: dict[str, Any] | None = None,
) -> OperationPlan:
    """The plan of ``operation_name`` in a *validated* document; raises :class:`NotCompilable`.

    ``is_supported(type_name, field_name)`` says whether a mapping can render a field; ``variables`` (coerced)
    decide the ``@skip``/``@include`` conditions that use them.
    """
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None and len(operations) == 1:
        operation = operations[0]
    else:
        matching = [op for op in operations if op.name is not None and op.name.value == operation_name]
        if len(matching) != 1:
            raise NotCompilable("operation not found")
        operation = matching[0]
    if operation.operation != OperationType.QUERY or operation.directives:
        raise NotCompilable("only queries without directives")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    compiler = _Compiler(schema, fragments, is_supported, variables or {})
    grouped = compiler.group(schema.query_type, [operation.selection_set])
    compiled: list[FieldPlan] = []
    residual: dict[str, list[FieldNode]] = {}
    for key, nodes in grouped.items():
        mark = compiler.mark()
        try:
            compiled.append(compiler.field(schema.query_type, key, nodes))
        except NotCompilable:
            compiler.rewind(mark)
            residual[key] = nodes
    if not compiled:
        raise NotCompilable("no root field is compiled")
    residual_query, residual_locations = _residual_query(operation, fragments, residual) if residual else (None, {})
    return OperationPlan(
        root=SelectionPlan(schema.query_type.name, tuple(compiled)),
        variable_definitions=tuple(operation.variable_definitions or ()),
        permission_classes=tuple(dict.fromkeys(compiler.permission_classes)),
        root_keys=tuple(grouped),
        residual_query=residual_query,
        residual_locations=residual_locations,
    )


def _residual_query(
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    residual: dict[str, list[FieldNode]],
) -> tuple[str, dict[tuple[int, int], tuple[int, int]]]:
    """A document of the root fields the resolvers answer: the operation (same name) with just those fields, and
    only the variable definitions and fragments they use (GraphQL rejects unused ones); and where its nodes stand
    in the original document."""
    nodes = [node for group in residual.values() for node in group]
    used_fragments: dict[str, FragmentDefinitionNode] = {}
    pending = list(nodes)
    while pending:
        for node in _walk(pending.pop()):
            if isinstance(node, FragmentSpreadNode) and node.name.value not in used_fragments:
                fragment = used_fragments[node.name.value] = fragments[node.name.value]
                pending.append(fragment)
    used_variables = {
        node.name.value
        for root in [*nodes, *used_fragments.values()]
        for node in _walk(root)
        if isinstance(node, VariableNode)
    }
    rest = OperationDefinitionNode(
        operation=OperationType.QUERY,
        name=operation.name,
        directives=(),
        variable_definitions=tuple(
            d for d in operation.variable_definitions or () if d.variable.name.value in used_variables
        ),
        selection_set=SelectionSetNode(selections=tuple(nodes)),
    )
    document = DocumentNode(definitions=(rest, *used_fragments.values()))
    text = print_ast(document)
    # Printing and parsing again gives the same tree: pair the nodes up to pair their positions.
    try:
        locations = {
            _line_column(printed): _line_column(original)
            for original, printed in zip(_walk(document), _walk(parse(text)), strict=True)
            if original.loc is not None and printed.loc is not None
        }
    except ValueError:  # not the same tree after all: let the resolvers answer the whole operation
        raise NotCompilable("the residual document does not print faithfully") from None
    return text, locations


def _line_column(node: Node) -> tuple[int, int]:
    location = get_location(node.loc.source, node.loc.start)
    return location.line, location.column


def _walk(node: Node) -> Iterator[Node]:
    """The node and every node below it."""
    pending = [node]
    while pending:
        current = pending.pop()
        yield current
        for key in current.keys:
            value = getattr(current, key, None)
            if isinstance(value, Node):
                pending.append(value)
            elif isinstance(value, tuple | list):
                pending.extend(item for item in value if isinstance(item, Node))


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        is_supported: Callable[[str, str], bool],
        variables: dict[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.is_supported = is_supported
        self.variables = variables
        self.permission_classes: list[type] = []
        self.fields = 0

    def mark(self) -> tuple[int, int]:
        return len(self.permission_classes), self.fields

    def rewind(self, mark: tuple[int, int]) -> None:
        """Forget what a field that turned out not compilable added."""
        del self.permission_classes[mark[0] :]
        self.fields = mark[1]

    def group(
        self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> dict[str, list[FieldNode]]:
        """The included field nodes of the selection sets, by response key in response order."""
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, set())
        if len(grouped) > MAX_KEYS_PER_OBJECT:
            raise NotCompilable("too many keys for one JSON object")
        return grouped

    def selection(self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]) -> SelectionPlan:
        grouped = self.group(object_type, selection_sets)
        fields = tuple(self.field(object_type, key, nodes) for key, nodes in grouped.items())
        return SelectionPlan(object_type.name, fields)

    def _included(self, node: FieldNode | InlineFragmentNode | FragmentSpreadNode) -> bool:
        """``@skip``/``@include`` decided as graphql-core's executor decides them; other directives refused."""
        if not node.directives:
            return True
        conditions = {}
        for directive in node.directives:
            if directive.name.value not in CONDITIONAL_DIRECTIVES:
                raise NotCompilable("only @skip and @include are applied by plans")
            conditions[directive.name.value] = self._condition(directive)
        return not conditions.get("skip", False) and conditions.get("include", True)

    def _condition(self, directive: DirectiveNode) -> bool:
        value = directive.arguments[0].value if directive.arguments else None
        if isinstance(value, BooleanValueNode):
            return value.value
        if isinstance(value, VariableNode):
            given = self.variables.get(value.name.value)
            if isinstance(given, bool):
                return given
        raise NotCompilable("a condition graphql-core refuses (null)")  # the resolvers report it

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for node in selection_set.selections:
            if not self._included(node):
                continue
            if isinstance(node, FieldNode):
                grouped.setdefault(node.alias.value if node.alias else node.name.value, []).append(node)
            elif isinstance(node, InlineFragmentNode):
                condition = node.type_condition.name.value if node.type_condition else None
                if self._applies(condition, object_type):
                    self._collect(object_type, node.selection_set, grouped, visited)
            elif isinstance(node, FragmentSpreadNode):
                name = node.name.value
                fragment = self.fragments.get(name)
                if fragment is None:
                    raise NotCompilable(f"unknown fragment {name}")
                if name in visited or not self._applies(fragment.type_condition.name.value, object_type):
                    continue
                visited.add(name)
                self._collect(object_type, fragment.selection_set, grouped, visited)

    def _applies(self, condition: str | None, object_type: GraphQLObjectType) -> bool:
        if condition is None or condition == object_type.name:
            return True
        named = self.schema.get_type(condition)
        if isinstance(named, GraphQLInterfaceType):
            return any(interface.name == condition for interface in object_type.interfaces)
        if isinstance(named, GraphQLUnionType):
            return object_type in named.types
        return False

    def field(self, object_type: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
        self.fields += 1
        if self.fields > MAX_FIELDS_PER_PLAN:
            raise NotCompilable("too many fields")
        node = nodes[0]
        name = node.name.value
        if name == "__typename":
            return FieldPlan(key, name, None, node, None)
        definition = object_type.fields.get(name)
        if definition is None or not self.is_supported(object_type.name, name):
            raise NotCompilable(f"{object_type.name}.{name} is not compiled")
        strawberry_field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        self.permission_classes.extend(getattr(strawberry_field, "permission_classes", None) or ())
        named = get_named_type(definition.type)
        selection_sets = [n.selection_set for n in nodes if n.selection_set is not None]
        if isinstance(named, GraphQLObjectType):
            return FieldPlan(key, name, definition, node, self.selection(named, selection_sets))
        if isinstance(named, GraphQLUnionType):
            variants = {member.name: self.selection(member, selection_sets) for member in named.types}
            return FieldPlan(key, name, definition, node, None, variants)
        if not is_leaf_type(named):
            raise NotCompilable(f"{named} is an interface")
        return FieldPlan(key, name, definition, node, None)
