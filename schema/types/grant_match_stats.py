"""The `GrantMatchStats` type: counts and score distribution of stored matches."""

from __future__ import annotations

import strawberry


@strawberry.type(
    description="One bar of a score histogram: matches with lower ≤ score < upper (the last bar includes 1)."
)
class ScoreBucket:
    lower: float = strawberry.field(description="Inclusive lower bound.")
    upper: float = strawberry.field(description="Upper bound (exclusive, except 1.0).")
    count: int = strawberry.field(description="How many matches fall in it.")


@strawberry.type(description="Statistics of the stored (open) grant matches of one company or the whole tenant.")
class GrantMatchStats:
    total: int = strawberry.field(description="Stored matches whose grant is still open.")
    saved: int = strawberry.field(description="Of those, saved.")
    dismissed: int = strawberry.field(description="Of those, dismissed.")
    viewed: int = strawberry.field(description="Of those, viewed.")
    average_score: float | None = strawberry.field(description="Mean total score; null without matches.")
    top_score: float | None = strawberry.field(description="Highest total score; null without matches.")
    histogram: list[ScoreBucket] = strawberry.field(description="Ten buckets of width 0.1 over 0..1.")
