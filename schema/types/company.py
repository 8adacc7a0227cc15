"""The `Company` type: a company of a tenant, looking for grants."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING, Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app import validation
from graphql_app.services.grant_match_pages import GrantMatchFilter
from graphql_app.services.pages import MatchCursor, PageRequest
from schema.connections import Connection
from schema.enums import Certification, CompanySize, GrantMatchStatus, TaxonomyObjective

if TYPE_CHECKING:
    from schema.types.grant_match import GrantMatch


@strawberry.type(description="A company of the viewer's organisation account that seeks funding.")
class Company:
    id: strawberry.ID = strawberry.field(description="The company's UUID.")
    name: str = strawberry.field(description="Company name.")
    country: str = strawberry.field(description="Country of registration (ISO 3166-1 alpha-2).")
    nace_codes: list[str] = strawberry.field(description="NACE activities (section letter + digits, e.g. `M71.12`).")
    size: CompanySize = strawberry.field(description="EU size class.")
    employees: int | None = strawberry.field(description="Staff headcount, when known.")
    description: str = strawberry.field(description="What the company does.")
    carbon_categories: list[str] = strawberry.field(description="Carbon categories the company works in.")
    certifications: list[Certification] = strawberry.field(description="Certifications the company holds.")
    taxonomy_objectives: list[TaxonomyObjective] = strawberry.field(
        description="EU taxonomy objectives the company pursues."
    )
    created_at: datetime = strawberry.field(description="When the company was added.")
    updated_at: datetime = strawberry.field(description="When the company was last changed.")
    alert_min_score: float | None = strawberry.field(
        description="A grant whose match reaches this total score (0..1) raises an alert; null: alerts off."
    )
    alert_carbon_focused_only: bool = strawberry.field(description="Alert only on carbon-focused grants.")
    alert_min_amount: float | None = strawberry.field(
        description="Alert only on grants that may award at least this much (their largest award, else smallest)."
    )
    db_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="This company's stored grant matches, best first.")
    async def grant_matches(
        self,
        info: Info,
        status: Annotated[
            GrantMatchStatus | None,
            strawberry.argument(description="Only ACTIVE, SAVED or DISMISSED matches."),
        ] = None,
        min_score: Annotated[float | None, strawberry.argument(description="Lowest total score, 0..1.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    ) -> Connection[Annotated[GrantMatch, strawberry.lazy("schema.types.grant_match")]]:
        from schema.types.grant_match import grant_match_connection

        flt = GrantMatchFilter(status.value if status else None, validation.score_threshold(min_score))
        page = PageRequest(validation.page_size(first), MatchCursor.decode(after) if after else None)
        result = await info.context.loaders.grant_matches_by_company.load(
            (self.db_id, flt, page, info.context.clock.now())
        )
        return grant_match_connection(result)

    @classmethod
    def from_row(cls, row: Row) -> Company:
        return cls(
            id=str(row.id),
            db_id=row.id,
            name=row.name,
            country=row.country,
            nace_codes=list(row.nace_codes),
            size=CompanySize(row.size),
            employees=row.employees,
            description=row.description,
            carbon_categories=list(row.carbon_categories),
            certifications=[Certification(c) for c in row.certifications],
            taxonomy_objectives=[TaxonomyObjective(t) for t in row.taxonomy_objectives],
            created_at=row.created_at,
            updated_at=row.updated_at,
            alert_min_score=row.alert_min_score,
            alert_carbon_focused_only=row.alert_carbon_focused_only,
            alert_min_amount=float(row.alert_min_amount) if row.alert_min_amount is not None else None,
        )
