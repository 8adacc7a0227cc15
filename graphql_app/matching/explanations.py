"""Wording of a member-job match (see docs/matching.md): strengths, growth areas, belonging levels, confidence, summary.

Members and organisations see words, never numbers; the wording is part of the API and tests pin it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from graphql_app.matching.belonging import BELONGING_COMPONENTS, component_level
from graphql_app.matching.traits import growth_phrase, trait_label

EXCEPTIONAL_TRAIT = 0.90  # "Exceptional {trait}" from here
STRONG_TRAIT = 0.75  # "Strong {trait}" from here; below it a trait is no strength
GROWTH_GAP = 0.15  # a growth area: the member is more than this below the job's target
MAX_STRENGTHS = 3
MAX_GROWTH_AREAS = 3
GAP_SLACK = 1e-9  # a gap of exactly 0.15 (0.80 − 0.65 in floating point) is not a growth area

#: Profile completeness (0..1) from which each confidence statement applies, highest first.
CONFIDENCE_STATEMENTS: tuple[tuple[float, str], ...] = (
    (0.8, "High confidence based on comprehensive identity data."),
    (0.5, "Moderate confidence based on partial identity data."),
)
LOW_CONFIDENCE_STATEMENT = "Low confidence: the profile is still incomplete."

#: What each belonging component means, as the object of the summary's first sentence.
COMPONENT_PHRASES: dict[str, str] = {
    "authenticity": "alignment with the organisation's values and culture",
    "acceptance": "alignment with the team culture",
    "complementarity": "complement to the skills the team needs",
}
#: Component level -> the adjective opening the summary.
LEVEL_ADJECTIVES: dict[str, str] = {
    "HIGH": "Excellent",
    "STRONG": "Strong",
    "MODERATE": "Moderate",
    "DEVELOPING": "Developing",
}


@dataclass(frozen=True)
class MatchExplanationData:
    """The explanation of one match; ``belonging_breakdown`` maps each component to its level name."""

    top_strengths: list[str]
    growth_areas: list[str]
    belonging_breakdown: dict[str, str]
    confidence_statement: str
    summary_text: str


def _known(value: float | None) -> bool:
    return value is not None and not math.isnan(value)


def strength_traits(member_traits: Mapping[str, float | None], desired_traits: Mapping[str, float]) -> list[str]:
    """The wanted traits the member is strong in (≥ 0.75), highest first, ties by name, at most 3."""
    strong = []
    for trait in desired_traits:
        value = member_traits.get(trait)
        if _known(value) and value >= STRONG_TRAIT:
            strong.append((-float(value), trait))
    return [trait for _, trait in sorted(strong)[:MAX_STRENGTHS]]


def strength_phrase(trait: str, value: float) -> str:
    """``"Exceptional {label}"`` from 0.9, else ``"Strong {label}"``."""
    level = "Exceptional" if value >= EXCEPTIONAL_TRAIT else "Strong"
    return f"{level} {trait_label(trait)}"


def growth_traits(member_traits: Mapping[str, float | None], desired_traits: Mapping[str, float]) -> list[str]:
    """Traits where the member is more than 0.15 below the job's target, largest gap first (ties by name), at
    most 3; a trait the member has no value for is not one."""
    gaps = []
    for trait, target in desired_traits.items():
        value = member_traits.get(trait)
        if _known(value) and _known(target) and target - value > GROWTH_GAP + GAP_SLACK:
            gaps.append((-round(float(target) - float(value), 9), trait))  # rounded: equal gaps tie exactly
    return [trait for _, trait in sorted(gaps)[:MAX_GROWTH_AREAS]]


def confidence_statement(profile_completeness: float | None) -> str:
    """The confidence statement for a profile completeness in 0..1 (None = unknown = low)."""
    if _known(profile_completeness):
        for threshold, statement in CONFIDENCE_STATEMENTS:
            if profile_completeness >= threshold:
                return statement
    return LOW_CONFIDENCE_STATEMENT


def summary_text(components: Mapping[str, float], top_strength: str | None, top_growth: str | None) -> str:
    """First sentence: the strongest component (ties in component order) worded by its level, with the top
    strength trait if any; second sentence, if there is one: the main growth area."""
    strongest = max(BELONGING_COMPONENTS, key=lambda name: (components[name], -BELONGING_COMPONENTS.index(name)))
    sentence = f"{LEVEL_ADJECTIVES[component_level(components[strongest])]} {COMPONENT_PHRASES[strongest]}"
    if top_strength is not None:
        sentence += f", particularly in {trait_label(top_strength)}"
    sentence += "."
    if top_growth is not None:
        sentence += f" Main growth area: {growth_phrase(top_growth)}."
    return sentence


def explain_belonging(
    member_traits: Mapping[str, float | None],
    desired_traits: Mapping[str, float],
    authenticity: float,
    acceptance: float,
    complementarity: float,
    profile_completeness: float | None,
) -> MatchExplanationData:
    """The explanation of one member's match with a job (see docs/matching.md)."""
    strengths = strength_traits(member_traits, desired_traits)
    growth = growth_traits(member_traits, desired_traits)
    components = {"authenticity": authenticity, "acceptance": acceptance, "complementarity": complementarity}
    components = {name: float(score) for name, score in components.items()}
    return MatchExplanationData(
        top_strengths=[strength_phrase(trait, member_traits[trait]) for trait in strengths],
        growth_areas=[f"Developing {growth_phrase(trait)}" for trait in growth],
        belonging_breakdown={name: component_level(score) for name, score in components.items()},
        confidence_statement=confidence_statement(profile_completeness),
        summary_text=summary_text(components, strengths[0] if strengths else None, growth[0] if growth else None),
    )


__all__ = [
    "CONFIDENCE_STATEMENTS",
    "LOW_CONFIDENCE_STATEMENT",
    "MatchExplanationData",
    "confidence_statement",
    "explain_belonging",
    "growth_traits",
    "strength_phrase",
    "strength_traits",
    "summary_text",
]
