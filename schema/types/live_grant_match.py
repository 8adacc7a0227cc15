"""The `LiveGrantMatch` type: a match computed on request, not stored."""

from __future__ import annotations

import uuid

import strawberry
from strawberry.types import Info

from graphql_app.services.grant_matching import ComputedMatch
from schema.scalars import JSON
from schema.types.grant import Grant


@strawberry.type(description="A grant match computed now from the current catalogue; nothing is stored.")
class LiveGrantMatch:
    score: float = strawberry.field(description="Weighted total, 0..1.")
    semantic_score: float = strawberry.field(description="Meaning of the texts (embedding cosine), 0..1.")
    rule_score: float = strawberry.field(description="Country, NACE activity and size fit, 0..1.")
    carbon_score: float = strawberry.field(description="Carbon categories, certifications, EU taxonomy, 0..1.")
    collaborative_score: float = strawberry.field(description="What similar companies did with it, 0..1.")
    recency_score: float = strawberry.field(description="Deadline urgency, 0..1.")
    match_reasons: list[str] = strawberry.field(description="Why it matches, in words.")
    score_breakdown: JSON = strawberry.field(description="Each component's score, weight and contribution.")
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
