"""Small value types of the talent domain: traits, trait norms, weighted skills, belonging levels and scores."""

from __future__ import annotations

import strawberry

from schema.enums import ComponentLevel


@strawberry.type(description="A work-style trait and its value, 0..1.")
class TraitScore:
    trait: str = strawberry.field(description="One of the documented work-style traits, e.g. `pressure_response`.")
    value: float = strawberry.field(description="0..1.")


@strawberry.type(description="The team's norm for a trait: its mean and how far from it still fits.")
class TraitNorm:
    trait: str = strawberry.field(description="Work-style trait.")
    mean: float = strawberry.field(description="The team's mean, 0..1.")
    tolerance: float = strawberry.field(description="Accepted distance from the mean, (0, 1].")


@strawberry.type(description="A skill a job requires, with its weight.")
class RequiredSkill:
    skill: str = strawberry.field(description="Skill (lower-case).")
    weight: float = strawberry.field(description="Relative importance, (0, 10].")


@strawberry.type(description="Levels of the three belonging components.")
class BelongingLevels:
    authenticity: ComponentLevel = strawberry.field(description="Can they be themselves here (values, culture).")
    acceptance: ComponentLevel = strawberry.field(description="Will the team take them in (trait norms).")
    complementarity: ComponentLevel = strawberry.field(description="Do they add what the team lacks (skills).")


@strawberry.type(description="The numbers behind a match (platform admins only).")
class BelongingScores:
    probability: float = strawberry.field(description="Belonging probability, 0..1.")
    authenticity: float = strawberry.field(description="Authenticity component, 0..1.")
    acceptance: float = strawberry.field(description="Acceptance component, 0..1.")
    complementarity: float = strawberry.field(description="Complementarity component, 0..1.")
    weights: list[float] = strawberry.field(description="Weights used (authenticity, acceptance, complementarity).")


def trait_scores(values: dict | None) -> list[TraitScore]:
    return [TraitScore(trait=t, value=float(x)) for t, x in sorted((values or {}).items())]
