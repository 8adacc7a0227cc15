"""The `Grant` type: one funding opportunity of the platform-wide catalogue."""

from __future__ import annotations

import math
from datetime import datetime

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app import access
from graphql_app.services.grant_matching import whole_days_left
from schema.enums import Certification, CompanySize, TaxonomyObjective


@strawberry.type(description="A funding grant of the platform-wide catalogue.")
class Grant:
    id: strawberry.ID = strawberry.field(description="The grant's UUID.")
    title: str = strawberry.field(description="Title of the call.")
    description: str = strawberry.field(description="What the grant funds.")
    funder: str = strawberry.field(description="Who funds it (programme or agency).")
    countries: list[str] = strawberry.field(
        description="Eligible countries (ISO 3166-1 alpha-2); empty means every country."
    )
    nace_codes: list[str] = strawberry.field(
        description="Eligible NACE activities (section letter + digits, e.g. `M71.12`); empty means all."
    )
    sizes: list[CompanySize] = strawberry.field(description="Eligible company sizes; empty means all.")
    carbon_categories: list[str] = strawberry.field(description="Carbon categories the grant funds.")
    certifications: list[Certification] = strawberry.field(description="Certifications the grant recognises.")
    taxonomy_objectives: list[TaxonomyObjective] = strawberry.field(
        description="EU taxonomy objectives the grant pursues."
    )
    is_carbon_focused: bool = strawberry.field(description="Carbon-focused grants get a 1.2× score bonus.")
    deadline: datetime | None = strawberry.field(description="Closing time; null for rolling calls.")
    amount_min: float | None = strawberry.field(description="Smallest award, in `currency`.")
    amount_max: float | None = strawberry.field(description="Largest award, in `currency`.")
    currency: str = strawberry.field(description="ISO 4217 currency of the amounts.")
    url: str | None = strawberry.field(description="Where to read the call and apply.")
    created_at: datetime = strawberry.field(description="When the grant was added.")
    updated_at: datetime = strawberry.field(description="When the grant was last changed.")

    @strawberry.field(description="Whole days until the deadline (negative once closed); null for rolling calls.")
    def days_left(self, info: Info) -> int | None:
        days = whole_days_left(self.deadline, info.context.clock.now())
        return None if math.isnan(days) else int(days)

    @strawberry.field(description="Whether applications are still accepted (deadline not passed).")
    def is_open(self, info: Info) -> bool:
        return access.grant_open(self.deadline, info.context.clock.now())

    @classmethod
    def from_row(cls, row: Row) -> Grant:
        return cls(
            id=str(row.id),
            title=row.title,
            description=row.description,
            funder=row.funder,
            countries=list(row.countries),
            nace_codes=list(row.nace_codes),
            sizes=[CompanySize(s) for s in row.sizes],
            carbon_categories=list(row.carbon_categories),
            certifications=[Certification(c) for c in row.certifications],
            taxonomy_objectives=[TaxonomyObjective(t) for t in row.taxonomy_objectives],
            is_carbon_focused=row.is_carbon_focused,
            deadline=row.deadline,
            amount_min=float(row.amount_min) if row.amount_min is not None else None,
            amount_max=float(row.amount_max) if row.amount_max is not None else None,
            currency=row.currency,
            url=row.url,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


@strawberry.type(description="A grant found by `searchGrants`, with how close it is to the search text.")
class GrantSearchResult:
    grant: Grant = strawberry.field(description="The grant.")
    similarity: float = strawberry.field(description="Cosine similarity of the text and the grant, −1..1.")
