"""Helpers shared by root resolvers."""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Callable
from typing import Any

import strawberry
from sqlalchemy import Select, func, select
from sqlalchemy.engine import Row

from graphql_app import validation
from graphql_app.db.engine import Database
from graphql_app.services.pages import decode_offset_cursor, encode_offset_cursor


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
