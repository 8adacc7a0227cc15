"""The `GrantMatchScores` interface: the scores and explanation shared by stored and live grant matches."""

from __future__ import annotations

import strawberry

from schema.scalars import JSON

SCORE_BREAKDOWN_DESCRIPTION = "Each component's score, weight and contribution; sub-scores; the carbon bonus."


@strawberry.interface(description="A company ↔ grant score with its five components and its explanation.")
class GrantMatchScores:
    score: float = strawberry.field(description="Weighted total, 0..1 (carbon-focused grants ×1.2, capped at 1).")
    semantic_score: float = strawberry.field(description="Meaning of the texts (embedding cosine), 0..1.")
    rule_score: float = strawberry.field(description="Country, NACE activity and size fit, 0..1.")
    carbon_score: float = strawberry.field(description="Carbon categories, certifications, EU taxonomy, 0..1.")
    collaborative_score: float = strawberry.field(description="What similar companies did with it, 0..1.")
    recency_score: float = strawberry.field(description="Deadline urgency, 0..1.")
    match_reasons: list[str] = strawberry.field(description="Why it matches, in words.")
    score_breakdown: JSON = strawberry.field(description=SCORE_BREAKDOWN_DESCRIPTION)
