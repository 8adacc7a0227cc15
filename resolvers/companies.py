"""Root fields and mutations for companies."""

from __future__ import annotations

from typing import Annotated

import strawberry
from strawberry.types import Info

from graphql_app import validation
from graphql_app.errors import not_found
from graphql_app.services import catalogue
from graphql_app.services.pages import fetch_offset_page
from resolvers.common import input_fields, offset_connection
from schema.connections import Connection
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
    query = catalogue.companies_list(
        info.context.viewer, validation.country_code(country) if country is not None else None
    )
    page = await fetch_offset_page(info.context.db, query, first=validation.page_size(first), after=after)
    return offset_connection(page, Company.from_row)


async def create_company(
    info: Info, input: Annotated[CompanyInput, strawberry.argument(description="The new company.")]
) -> Company:
    viewer = info.context.viewer
    rows = await catalogue.create_companies(
        info.context.db, await info.context.services.get_embedder(), viewer.tenant_id, [input_fields(input)]
    )
    return Company.from_row(rows[0])


async def update_company(
    info: Info,
    id: IdArg,
    input: Annotated[CompanyUpdateInput, strawberry.argument(description="The fields to change.")],
) -> Company:
    row = await catalogue.update_company(
        info.context.db,
        await info.context.services.get_embedder(),
        info.context.viewer,
        validation.parse_uuid(id),
        input_fields(input),
    )
    return Company.from_row(row)
