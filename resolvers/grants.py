"""Root fields and mutations for the grant catalogue."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.errors import BadUserInput, not_found
from graphql_app.services import catalogue
from graphql_app.services.pages import fetch_offset_page
from resolvers.common import input_fields, offset_connection
from schema.connections import Connection
from schema.inputs import GrantInput, GrantUpdateInput
from schema.types.grant import Grant, GrantSearchResult

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The grant's UUID.")]
MAX_IMPORT_BATCH = 1000


async def grant(info: Info, id: IdArg) -> Grant:
    row = await info.context.loaders.grant_by_id.load(validation.parse_uuid(id))
    if row is None:
        raise not_found("Grant", id)
    return Grant.from_row(row)


async def grants_page(
    info: Info,
    first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
    after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    include_closed: Annotated[
        bool, strawberry.argument(description="Also list grants whose deadline has passed.")
    ] = False,
) -> Connection[Grant]:
    """Grants by deadline (soonest first, rolling calls last)."""
    query = catalogue.grants_list(info.context.clock.now(), include_closed)
    page = await fetch_offset_page(info.context.db, query, first=validation.page_size(first), after=after)
    return offset_connection(page, Grant.from_row)


async def search_grants(
    info: Info,
    text: Annotated[str, strawberry.argument(description="What you are looking for, in plain words.")],
    first: Annotated[int, strawberry.argument(description="How many results, 1–100.")] = 10,
) -> list[GrantSearchResult]:
    """Open grants closest in meaning to `text` (semantic search over grant embeddings)."""
    query_text = validation.non_blank(text, "text", 2000)
    limit = validation.page_size(first)
    results = await catalogue.search_grants(
        info.context.db, await info.context.services.get_embedder(), query_text, limit, info.context.clock.now()
    )
    return [GrantSearchResult(grant=Grant.from_row(row), similarity=sim) for row, sim in results]


async def create_grant(
    info: Info, input: Annotated[GrantInput, strawberry.argument(description="The new grant.")]
) -> Grant:
    rows = await catalogue.create_grants(
        info.context.db, await info.context.services.get_embedder(), [input_fields(input)], _fanout_for(info)
    )
    return Grant.from_row(rows[0])


async def create_grants(
    info: Info,
    inputs: Annotated[list[GrantInput], strawberry.argument(description="Grants to import (at most 1000).")],
) -> list[Grant]:
    """Import many grants at once: embedded in one batch, inserted in one transaction (all or nothing)."""
    if not 1 <= len(inputs) <= MAX_IMPORT_BATCH:
        raise BadUserInput(f"Import between 1 and {MAX_IMPORT_BATCH} grants at a time.", field="inputs")
    rows = await catalogue.create_grants(
        info.context.db,
        await info.context.services.get_embedder(),
        [input_fields(i) for i in inputs],
        _fanout_for(info),
    )
    return [Grant.from_row(r) for r in rows]


async def update_grant(
    info: Info,
    id: IdArg,
    input: Annotated[GrantUpdateInput, strawberry.argument(description="The fields to change.")],
) -> Grant:
    row = await catalogue.update_grant(
        info.context.db,
        await info.context.services.get_embedder(),
        validation.parse_uuid(id),
        input_fields(input),
        _fanout_for(info),
    )
    return Grant.from_row(row)


def _fanout_for(info: Info):
    """The caller a GRANT_FANOUT computation is recorded for, or None when the setting switches fan-out off."""
    return info.context.principal if info.context.services.settings.grant_fanout else None
