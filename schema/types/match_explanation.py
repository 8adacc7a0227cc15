"""`MatchExplanation` (cached wording of a job match) or `ExplanationPending` (being generated)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry

from schema.enums import ComponentLevel
from schema.types.computation import Computation
from schema.types.traits import BelongingLevels


@strawberry.type(description="Why a member and a job fit, in words (generated in the background, then cached).")
class MatchExplanation:
    top_strengths: list[str] = strawberry.field(description="The member's strongest traits the job wants.")
    growth_areas: list[str] = strawberry.field(description="Traits below the job's target by more than 0.15.")
    belonging_breakdown: BelongingLevels = strawberry.field(description="Level of each belonging component.")
    confidence_statement: str = strawberry.field(description="How much to trust this, from profile completeness.")
    summary_text: str = strawberry.field(description="One or two sentences.")
    generated_at: datetime = strawberry.field(description="When it was generated.")

    @classmethod
    def from_json(cls, data: dict, generated_at: datetime) -> MatchExplanation:
        levels = data["belongingBreakdown"]
        return cls(
            top_strengths=list(data["topStrengths"]),
            growth_areas=list(data["growthAreas"]),
            belonging_breakdown=BelongingLevels(
                authenticity=ComponentLevel(levels["authenticity"]),
                acceptance=ComponentLevel(levels["acceptance"]),
                complementarity=ComponentLevel(levels["complementarity"]),
            ),
            confidence_statement=data["confidenceStatement"],
            summary_text=data["summaryText"],
            generated_at=generated_at,
        )


@strawberry.type(description="The explanation is being generated; follow the computation, then ask again.")
class ExplanationPending:
    computation: Computation = strawberry.field(description="The computation generating it.")


ExplanationResult = Annotated[
    MatchExplanation | ExplanationPending,
    strawberry.union("ExplanationResult", description="The cached explanation, or the computation making it."),
]
