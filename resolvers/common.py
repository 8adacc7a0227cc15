"""Helpers shared by root resolvers."""

from __future__ import annotations

import base64
import dataclasses
import enum
from collections.abc import Callable
from typing import Any

import strawberry
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Row

from graphql_app import validation
from graphql_app.db.engine import Database
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
    """The offset after the item a cursor names (0 without a cursor; "" counts as none, as in match lists)."""
    if not value:
        return 0
    try:
        tag, offset = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("|")
        if tag != "o1" or int(offset) < 0:
            raise ValueError(tag)
        return int(offset) + 1
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None


async def offset_page(db: Database, query: Select, *, first: int, after: str | None, to_node: Callable[[Row], Any]):
    """A Connection over an ordered catalogue query, with offset cursors and the total in the same SELECT
    (a second, counting SELECT only for a cursor past the end)."""
    from schema.connections import build_connection

    limit, offset = validation.page_size(first), decode_offset_cursor(after)
    counted = query.add_columns(func.count().over().label("total_count"))
    async with db.reader() as conn:
        rows = list(await conn.execute(counted.offset(offset).limit(limit + 1)))
        total = rows[0].total_count if rows else 0
        if not rows and offset > 0:
            total = await conn.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = rows[:limit]
    return build_connection(
        [to_node(row) for row in page],
        [encode_offset_cursor(offset + i) for i in range(len(page))],
        total_count=int(total or 0),
        has_next_page=len(rows) > limit,
        has_previous_page=offset > 0,
    )
