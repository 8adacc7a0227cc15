"""Keyset pages of ranked rows (matches), for one list or many lists at once (DataLoader batches).

Pages are ordered by a score descending, then id: a cursor names the last row seen, so pages stay stable while
other rows change. One statement returns the page rows *and* the filtered total (a window count taken before
the cursor condition), so a page costs a single SELECT.
"""

from __future__ import annotations

import base64
import functools
import math
import struct
import uuid
from collections import namedtuple
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Integer, Select, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database
from graphql_app.db.statements import ShapedStatement
from graphql_app.errors import BadUserInput
from graphql_app.validation import MAX_OFFSET


@dataclass(frozen=True)
class MatchCursor:
    """Names the last row seen: its score and id.

    Encoded as URL-safe base64 (unpadded) of ``gm2|<score as big-endian IEEE-754 hex>|<uuid>``: exact, and
    reproducible in SQL (``float8send``), so compiled plans (graphql_app.compiled) build identical cursors.
    ``gm1`` cursors (score as Python repr) of earlier versions are still accepted.
    """

    score: float
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"gm2|{struct.pack('>d', self.score).hex()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> MatchCursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            tag, score, ident = raw.split("|")
            if tag == "gm2":
                number = struct.unpack(">d", bytes.fromhex(score))[0]
            elif tag == "gm1":
                number = float(score)
            else:
                raise ValueError(tag)
            if not math.isfinite(number):
                raise ValueError(score)
            return cls(number, uuid.UUID(ident))
        except (ValueError, UnicodeDecodeError, struct.error):
            raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None


def encode_offset_cursor(offset: int) -> str:
    """The cursor of the item at ``offset`` of an ordered catalogue list (unpadded URL-safe base64 of
    ``o1|<offset>``; compiled plans build the same in SQL)."""
    return base64.urlsafe_b64encode(f"o1|{offset}".encode()).decode().rstrip("=")


def decode_offset_cursor(value: str | None) -> int:
    """The offset after the item a cursor names (0 without a cursor; "" counts as none, as in match lists)."""
    if not value:
        return 0
    try:
        tag, offset = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("|")
        if tag != "o1" or not 0 <= int(offset) <= MAX_OFFSET:
            raise ValueError(tag)
        return int(offset) + 1
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None


@dataclass(frozen=True)
class PageRequest:
    first: int
    after: MatchCursor | None = None


@dataclass
class MatchPage:
    rows: list[Row] = field(default_factory=list)
    total_count: int = 0
    has_next_page: bool = False
    has_previous_page: bool = False


#: Bind parameters of a ranked page's own values (the base statement names its own, see db.statements).
AFTER_SCORE, AFTER_ID, PAGE_LIMIT = "after_score", "after_id", "page_limit"


def ranked_pages_statement(base: Select, *, score: str, partition: str | None, after: bool) -> Select:
    """Pages of ``base`` (filtered rows with ``id``, ``score`` and ``partition`` columns), each row with its
    ``position`` and its list's ``total_count``; the cursor and the page size are the bind parameters
    ``AFTER_SCORE``/``AFTER_ID`` (when ``after``) and ``PAGE_LIMIT``."""
    partition_by = [base.selected_columns[partition]] if partition else []
    filtered = base.add_columns(func.count().over(partition_by=partition_by).label("total_count")).subquery("filtered")
    score_column = filtered.c[score]
    after_cursor = score_column.isnot(None)
    if after:
        after_score = bindparam(AFTER_SCORE, type_=score_column.type)
        after_cursor = or_(
            score_column < after_score,
            and_(score_column == after_score, filtered.c.id > bindparam(AFTER_ID, type_=filtered.c.id.type)),
        )
    ranked = (
        select(
            filtered,
            func.row_number()
            .over(
                partition_by=[filtered.c[partition]] if partition else [], order_by=[score_column.desc(), filtered.c.id]
            )
            .label("position"),
        )
        .where(after_cursor)
        .subquery("ranked")
    )
    order = [ranked.c[partition]] if partition else []
    return (
        select(ranked)
        .where(ranked.c.position <= bindparam(PAGE_LIMIT, type_=Integer))
        .order_by(*order, literal_column("position"))
    )


def ranked_page_values(page: PageRequest) -> dict[str, object]:
    """The values of :func:`ranked_pages_statement`'s own parameters for ``page``."""
    values: dict[str, object] = {PAGE_LIMIT: page.first + 1}
    if page.after is not None:
        values[AFTER_SCORE], values[AFTER_ID] = page.after.score, page.after.id
    return values


#: Builds a page's row from one record of its statement; made from the statement's column names.
RowReader = Callable[[Sequence[Any]], Any]


async def fetch_ranked_pages(
    db: Database,
    statement: ShapedStatement,
    values: dict,
    *,
    partition: str | None,
    page: PageRequest,
    row_reader: Callable[[tuple[str, ...]], RowReader] | None = None,
) -> dict[object, MatchPage]:
    """Runs a :func:`ranked_pages_statement` (``values``: the base's and :func:`ranked_page_values`); pages keyed by
    partition value (``None`` when ``partition`` is None). Their rows are what ``row_reader(columns)`` builds,
    by default named tuples of the statement's columns."""
    records = await db.fetch_rows(statement.sql, *statement.arguments(values))
    pages: dict[object, MatchPage] = {}
    if not records:
        return pages
    columns = tuple(records[0].keys())
    read = row_reader(columns) if row_reader is not None else _named_rows(columns, statement.json_columns)
    key_index = columns.index(partition) if partition else None
    total_index, position_index = columns.index("total_count"), columns.index("position")
    for record in records:
        key = record[key_index] if key_index is not None else None
        current = pages.get(key)
        if current is None:
            current = pages[key] = MatchPage(total_count=record[total_index], has_previous_page=page.after is not None)
        if record[position_index] > page.first:
            current.has_next_page = True
        else:
            current.rows.append(read(record))
    return pages


@functools.cache
def _named_rows(columns: tuple[str, ...], json_columns: frozenset[str]) -> RowReader:
    """Rows as named tuples of ``columns``, the JSON ones decoded (asyncpg returns them as text)."""
    row_type = namedtuple("PageRow", columns)
    json_indexes = [i for i, name in enumerate(columns) if name in json_columns]
    if not json_indexes:
        return row_type._make

    def read(record: Sequence[Any]) -> Any:
        values = list(record)
        for i in json_indexes:
            values[i] = orjson.loads(values[i]) if values[i] is not None else None
        return row_type._make(values)

    return read


@dataclass
class OffsetPage:
    """A page of an ordered list paged by offset cursors (``o1|n``)."""

    rows: list[Row]
    cursors: list[str]
    total_count: int
    has_next_page: bool
    has_previous_page: bool


async def fetch_offset_page(db: Database, query: Select, *, first: int, after: str | None) -> OffsetPage:
    """A page of an ordered list (the catalogue, companies, jobs), with the total in the same SELECT (a second,
    counting SELECT only for a cursor past the end)."""
    offset = decode_offset_cursor(after)
    counted = query.add_columns(func.count().over().label("total_count"))
    async with db.reader() as conn:
        rows = list(await conn.execute(counted.offset(offset).limit(first + 1)))
        total = rows[0].total_count if rows else 0
        if not rows and offset > 0:
            total = await conn.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = rows[:first]
    return OffsetPage(
        rows=page,
        cursors=[encode_offset_cursor(offset + i) for i in range(len(page))],
        total_count=int(total or 0),
        has_next_page=len(rows) > first,
        has_previous_page=offset > 0,
    )
