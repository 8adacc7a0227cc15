"""Helpers shared by root resolvers."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

import strawberry

from graphql_app import validation
from graphql_app.services.pages import OffsetPage
from schema.connections import Connection, page_connection


def input_fields(data: Any) -> dict[str, Any]:
    """A Strawberry input object as plain data: the fields the client set (UNSET left out), enums as their
    values, nested inputs as dicts. Texts over their field's length limit, lists over the item limit and text
    PostgreSQL cannot store are refused here, for every input at once."""
    return {name: _plain(value, name) for name, value in vars(data).items() if value is not strawberry.UNSET}


def _plain(value: Any, name: str) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return validation.bounded_text(value, name)
    if isinstance(value, list):
        return [_plain(item, name) for item in validation.bounded_list(value, name)]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return input_fields(value)
    return value


def offset_connection(page: OffsetPage, to_node: Callable[[Any], Any]) -> Connection:
    """A Connection of an offset-paged list."""
    return page_connection(page, [to_node(row) for row in page.rows])
