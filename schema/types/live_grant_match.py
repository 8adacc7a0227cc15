"""The `LiveGrantMatch` type: a match computed on request, not stored."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable

import strawberry
from strawberry.types import Info

from graphql_app.services.grant_match_pages import GrantColumns
from graphql_app.services.grant_matching import ComputedMatch
from schema.execution import DIRECT
from schema.scalars import JSON
from schema.types.grant import Grant
from schema.types.grant_match_scores import SCORE_BREAKDOWN_DESCRIPTION, GrantMatchScores


@strawberry.type(description="A grant match computed now from the current catalogue; nothing is stored.")
class LiveGrantMatch(GrantMatchScores):
    grant_id: strawberry.Private[uuid.UUID]
    grant_row: strawberry.Private[GrantColumns | None] = None  # the grant, when the page came with it
    computed: strawberry.Private[ComputedMatch | None] = None

    @strawberry.field(description=SCORE_BREAKDOWN_DESCRIPTION)
    def score_breakdown(self) -> JSON:
        # Rendered only when asked for (twenty JSON objects per page otherwise).
        return self.computed.score_breakdown

    @strawberry.field(description="The matched grant.", metadata={DIRECT: True})
    def grant(self, info: Info) -> Grant:
        # Not a coroutine function: with the row at hand the field resolves without an awaitable (graphql-core
        # awaits what a resolver returns when it is one).
        if self.grant_row is not None:
            return Grant.from_row(self.grant_row)
        return self._loaded_grant(info)

    async def _loaded_grant(self, info: Info) -> Awaitable[Grant]:
        return Grant.from_row(await info.context.loaders.grant_by_id.load(self.grant_id))

    @classmethod
    def from_computed(cls, match: ComputedMatch, grant_row: GrantColumns | None = None) -> LiveGrantMatch:
        return cls(
            grant_id=match.grant_id,
            grant_row=grant_row,
            score=match.score,
            semantic_score=match.semantic_score,
            rule_score=match.rule_score,
            carbon_score=match.carbon_score,
            collaborative_score=match.collaborative_score,
            recency_score=match.recency_score,
            match_reasons=match.match_reasons,
            computed=match,
        )
