"""The `LiveGrantMatch` type: a match computed on request, not stored."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from graphql_app.services.grant_matching import ComputedMatch
from schema.types.grant import Grant
from schema.types.grant_match_scores import GrantMatchScores


@strawberry.type(description="A grant match computed now from the current catalogue; nothing is stored.")
class LiveGrantMatch(GrantMatchScores):
    grant_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The matched grant.")
    async def grant(self, info: Info) -> Grant:
        return Grant.from_row(await info.context.loaders.grant_by_id.load(self.grant_id))

    @classmethod
    def from_computed(cls, match: ComputedMatch) -> LiveGrantMatch:
        return cls(
            grant_id=match.grant_id,
            score=match.score,
            semantic_score=match.semantic_score,
            rule_score=match.rule_score,
            carbon_score=match.carbon_score,
            collaborative_score=match.collaborative_score,
            recency_score=match.recency_score,
            match_reasons=match.match_reasons,
            score_breakdown=match.score_breakdown,
        )
