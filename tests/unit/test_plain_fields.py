"""The resolver path's short path for plain leaf fields describes each field definition once, on that definition."""

import pytest
from graphql import GraphQLError, GraphQLField, GraphQLObjectType, GraphQLString

from schema.execution import _plain_field

ITEM = GraphQLObjectType("Item", {"name": GraphQLField(GraphQLString)})
ITEM_VALUE = type("ItemValue", (), {"name": "x"})()


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
    plain = _plain_field(field(GraphQLString))
    assert (plain.leaf_type, plain.non_null, plain.is_list, plain.item_non_null, plain.exact) == (
        GraphQLString,
        False,
        False,
        False,
        str,
    )
    assert plain.read(ITEM_VALUE) == "x"  # without Strawberry's definition: through the field's own resolver
    assert _plain_field(GraphQLField(GraphQLString, resolve=lambda *_: "x")) is None


def test_values_a_serialiser_would_change_or_refuse_still_go_through_it():
    from graphql import GraphQLFloat, GraphQLID

    from schema.execution import _coerce

    as_float = _plain_field(field(GraphQLFloat))
    assert _coerce(as_float, 0.25, True) == 0.25
    assert _coerce(as_float, 1, True) == 1.0 and isinstance(_coerce(as_float, 1, True), float)
    with pytest.raises(GraphQLError):
        _coerce(as_float, float("nan"), True)  # not finite: the serialiser's error, as graphql-core reports it
    assert _coerce(_plain_field(field(GraphQLID)), 7, True) == "7"
