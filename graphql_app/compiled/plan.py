"""Compile a query operation into a plan tree: response keys, fields, arguments and permissions.

The compiler resolves fragments (named and inline) against the concrete object types, merges fields that
share a response key, and refuses (returns ``None``) anything it cannot execute exactly like the resolvers
would: other operation types, directives, interface-typed fields, introspection and fields no mapping renders.
A union-typed field gets a selection per possible type; its renderer picks one per row.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from graphql import (
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
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableDefinitionNode,
    get_named_type,
    is_leaf_type,
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


def compile_operation(
    schema: GraphQLSchema,
    document: DocumentNode,
    operation_name: str | None,
    is_supported: Callable[[str, str], bool],
) -> OperationPlan:
    """The plan of ``operation_name`` in a *validated* document; raises :class:`NotCompilable`.

    ``is_supported(type_name, field_name)`` says whether a mapping can render a field.
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
    compiler = _Compiler(schema, fragments, is_supported)
    root = compiler.selection(schema.query_type, [operation.selection_set])
    return OperationPlan(
        root=root,
        variable_definitions=tuple(operation.variable_definitions or ()),
        permission_classes=tuple(dict.fromkeys(compiler.permission_classes)),
    )


class _Compiler:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        is_supported: Callable[[str, str], bool],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.is_supported = is_supported
        self.permission_classes: list[type] = []
        self.fields = 0

    def selection(self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]) -> SelectionPlan:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, set())
        if len(grouped) > MAX_KEYS_PER_OBJECT:
            raise NotCompilable("too many keys for one JSON object")
        fields = tuple(self._field(object_type, key, nodes) for key, nodes in grouped.items())
        return SelectionPlan(object_type.name, fields)

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for node in selection_set.selections:
            if node.directives:
                raise NotCompilable("directives are evaluated by the resolvers' executor")
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

    def _field(self, object_type: GraphQLObjectType, key: str, nodes: list[FieldNode]) -> FieldPlan:
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
