"""Root fields and mutations for companies."""

from __future__ import annotations

from typing import Annotated

import strawberry
from sqlalchemy import func, select
from strawberry.types import Info

from graphql_app import validation
from graphql_app.db.models import companies
from graphql_app.db.scoping import scoped
from graphql_app.errors import not_found
from graphql_app.services import catalogue
from resolvers.common import decode_offset_cursor, encode_offset_cursor, input_fields
from resolvers.loaders.company_by_id import COMPANY_COLUMNS
from schema.connections import Connection, build_connection
from schema.inputs import CompanyInput, CompanyUpdateInput
from schema.types.company import Company

IdArg = Annotated[strawberry.ID, strawberry.argument(description="The company's UUID.")]


async def company(info: Info, id: IdArg) -> Company:
    row = await info.context.loaders.company_by_id.load(validation.parse_uuid(id))
    if row is None:
        raise not_found("Company", id)
    return Company.from_row(row)


async def companies_page(
    info: Info,
    first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
    after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    country: Annotated[str | None, strawberry.argument(description="Only companies of this country.")] = None,
) -> Connection[Company]:
    limit = validation.page_size(first)
    offset = decode_offset_cursor(after)
    conditions = [companies.c.country == validation.country_code(country)] if country is not None else []
    query = scoped(select(*COMPANY_COLUMNS, func.count().over().label("total_count")), companies, info.context.viewer)
    query = query.where(*conditions).order_by(companies.c.name, companies.c.id)
    async with info.context.db.reader() as conn:
        rows = list(await conn.execute(query.offset(offset).limit(limit + 1)))
        total = rows[0].total_count if rows else 0
        if not rows and offset > 0:  # past the end: count separately
            count = scoped(select(func.count()).select_from(companies), companies, info.context.viewer)
            total = await conn.scalar(count.where(*conditions))
    page = rows[:limit]
    return build_connection(
        [Company.from_row(r) for r in page],
        [encode_offset_cursor(offset + i) for i in range(len(page))],
        total_count=int(total or 0),
        has_next_page=len(rows) > limit,
        has_previous_page=offset > 0,
    )


async def create_company(
    info: Info, input: Annotated[CompanyInput, strawberry.argument(description="The new company.")]
) -> Company:
    viewer = info.context.viewer
    rows = await catalogue.create_companies(
        info.context.db, info.context.services.require_embedder(), viewer.tenant_id, [input_fields(input)]
    )
    return Company.from_row(rows[0])


async def update_company(
    info: Info,
    id: IdArg,
    input: Annotated[CompanyUpdateInput, strawberry.argument(description="The fields to change.")],
) -> Company:
    row = await catalogue.update_company(
        info.context.db,
        info.context.services.require_embedder(),
        info.context.viewer,
        validation.parse_uuid(id),
        input_fields(input),
    )
    return Company.from_row(row)
