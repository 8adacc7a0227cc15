"""The `GrantMatch` type: a stored company ↔ grant match with scores, reasons and interaction flags."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app.matching.breakdown import render_breakdown
from graphql_app.services.grant_match_pages import CompanyColumns, GrantColumns
from graphql_app.services.pages import MatchCursor, MatchPage
from schema.connections import Connection, page_connection
from schema.execution import DIRECT
from schema.scalars import JSON
from schema.types.grant import Grant
from schema.types.grant_match_scores import GrantMatchScores
from schema.types.match import Match


@strawberry.type(description="A stored match of a company and a grant, explained.")
class GrantMatch(Match, GrantMatchScores):
    is_viewed: bool = strawberry.field(description="The company has looked at it.")
    is_saved: bool = strawberry.field(description="The company saved it.")
    is_dismissed: bool = strawberry.field(description="The company dismissed it.")
    grant_id: strawberry.Private[uuid.UUID]
    company_id: strawberry.Private[uuid.UUID]
    stored_breakdown: strawberry.Private[tuple]
    joined_grant: strawberry.Private[GrantColumns | None] = None
    joined_company: strawberry.Private[CompanyColumns | None] = None

    @strawberry.field(description="Each component's score, weight and contribution; sub-scores; the carbon bonus.")
    def score_breakdown(self) -> JSON:
        # Rendered only when asked for: most pages do not select it.
        return render_breakdown(*self.stored_breakdown)

    # `grant` and `company` are plain functions, not coroutines: a page row carries both (grant_match_pages joins
    # them), and an object built from it completes without an awaitable. Other rows go through the loaders.
    @strawberry.field(description="The matched grant.", metadata={DIRECT: True})
    def grant(self, info: Info) -> Grant:
        if self.joined_grant is not None:
            return Grant.from_row(self.joined_grant)
        return _load_grant(info, self.grant_id)

    @strawberry.field(description="The matched company.", metadata={DIRECT: True})
    def company(self, info: Info) -> Annotated[Company, strawberry.lazy("schema.types.company")]:  # noqa: F821
        from schema.types.company import Company

        if self.joined_company is not None:
            return Company.from_row(self.joined_company)
        return _load_company(info, self.company_id)

    @classmethod
    def from_row(cls, row: Row) -> GrantMatch:
        return cls(
            id=str(row.id),
            grant_id=row.grant_id,
            company_id=row.company_id,
            score=row.score,
            semantic_score=row.semantic_score,
            rule_score=row.rule_score,
            carbon_score=row.carbon_score,
            collaborative_score=row.collaborative_score,
            recency_score=row.recency_score,
            match_reasons=list(row.match_reasons),
            stored_breakdown=(row.breakdown_figures, row.carbon_bonus_applied, row.days_left_at_scoring),
            is_viewed=row.is_viewed,
            is_saved=row.is_saved,
            is_dismissed=row.is_dismissed,
            created_at=row.created_at,
            updated_at=row.updated_at,
            joined_grant=getattr(row, "grant", None),  # a page row's joined grant and company (grant_match_pages)
            joined_company=getattr(row, "company", None),
        )


async def _load_grant(info: Info, grant_id: uuid.UUID) -> Grant:
    return Grant.from_row(await info.context.loaders.grant_by_id.load(grant_id))


async def _load_company(info: Info, company_id: uuid.UUID) -> Company:  # noqa: F821
    from schema.types.company import Company

    return Company.from_row(await info.context.loaders.company_by_id.load(company_id))


def grant_match_connection(page: MatchPage) -> Connection[GrantMatch]:
    return page_connection(
        page,
        [GrantMatch.from_row(row) for row in page.rows],
        [MatchCursor(row.score, row.id).encode() for row in page.rows],
    )
