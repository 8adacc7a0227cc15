"""Helpers shared by root resolvers."""

from __future__ import annotations

import base64
import dataclasses
import enum
from typing import Any

import strawberry

from graphql_app import validation
from graphql_app.errors import BadUserInput


def input_fields(data: Any) -> dict[str, Any]:
    """A Strawberry input object as plain data: the fields the client set (UNSET left out), enums as their
    values, nested inputs as dicts; text PostgreSQL cannot store is refused here, for every input at once."""
    return {name: _plain(value, name) for name, value in vars(data).items() if value is not strawberry.UNSET}


def _plain(value: Any, name: str) -> Any:
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, str):
        return validation.storable_text(value, name)
    if isinstance(value, list):
        return [_plain(item, name) for item in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return input_fields(value)
    return value


def encode_offset_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o1|{offset}".encode()).decode().rstrip("=")


def decode_offset_cursor(value: str | None) -> int:
    """The offset after the item a cursor names (0 without a cursor)."""
    if value is None:
        return 0
    try:
        tag, offset = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("|")
        if tag != "o1" or int(offset) < 0:
            raise ValueError(tag)
        return int(offset) + 1
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None
