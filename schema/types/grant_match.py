"""The `GrantMatch` type: a stored company ↔ grant match with scores, reasons and interaction flags."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app.matching.breakdown import render_breakdown
from graphql_app.services.pages import MatchCursor, MatchPage
from schema.connections import Connection, page_connection
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

    @strawberry.field(description="The matched grant.")
    async def grant(self, info: Info) -> Grant:
        return Grant.from_row(await info.context.loaders.grant_by_id.load(self.grant_id))

    @strawberry.field(description="The matched company.")
    async def company(self, info: Info) -> Annotated[Company, strawberry.lazy("schema.types.company")]:  # noqa: F821
        from schema.types.company import Company

        return Company.from_row(await info.context.loaders.company_by_id.load(self.company_id))

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
            score_breakdown=render_breakdown(row.breakdown_figures, row.carbon_bonus_applied, row.days_left_at_scoring),
            is_viewed=row.is_viewed,
            is_saved=row.is_saved,
            is_dismissed=row.is_dismissed,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )


def grant_match_connection(page: MatchPage) -> Connection[GrantMatch]:
    return page_connection(
        page,
        [GrantMatch.from_row(row) for row in page.rows],
        [MatchCursor(row.score, row.id).encode() for row in page.rows],
    )
