"""The resolver path's short path for plain leaf fields describes each field definition once, on that definition."""

from graphql import GraphQLField, GraphQLObjectType, GraphQLString

from schema.execution import _plain_field

ITEM = GraphQLObjectType("Item", {"name": GraphQLField(GraphQLString)})


def attribute_read(source, info):
    """Stands for Strawberry's resolver of a field without one of its own (it marks those ``_is_default``)."""
    return source.name


attribute_read._is_default = True


def field(type_):
    return GraphQLField(type_, resolve=attribute_read)


def test_a_described_field_never_lends_its_description_to_a_later_one():
    """Schemas are rebuilt (tests, reloads); a new object-typed field may take the address of a collected leaf
    field, and must still go through graphql-core's full execution (it was once answered as a leaf)."""
    for _ in range(200):
        leaf = field(GraphQLString)
        assert _plain_field(leaf) is not None
        del leaf
        assert _plain_field(field(ITEM)) is None


def test_only_plain_scalar_fields_take_the_short_path():
    assert _plain_field(field(GraphQLString)) == (GraphQLString, False, False, False)
    assert _plain_field(GraphQLField(GraphQLString, resolve=lambda *_: "x")) is None
