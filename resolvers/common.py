"""Helpers shared by root resolvers."""

from __future__ import annotations

import base64
from typing import Any

import strawberry

from graphql_app import validation
from graphql_app.errors import BadUserInput


def input_fields(data: Any) -> dict[str, Any]:
    """A Strawberry input object as a dict of the fields the client actually set (UNSET ones left out)."""
    out: dict[str, Any] = {}
    for name, value in vars(data).items():
        if value is strawberry.UNSET:
            continue
        if isinstance(value, str):
            validation.storable_text(value, name)
        if isinstance(value, list):
            value = [getattr(item, "value", item) for item in value]
            for item in value:
                if isinstance(item, str):
                    validation.storable_text(item, name)
        elif hasattr(value, "value") and not isinstance(value, str | int | float | bool):
            value = value.value
        out[name] = value
    return out


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
