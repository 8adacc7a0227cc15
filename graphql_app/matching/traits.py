"""Work-style traits of members (see docs/matching.md): the fixed, documented vocabulary and its wording.

Every trait is a value in [0, 1]. Team norms, job targets and member profiles all use these names; the
column order of ``WORK_STYLE_TRAITS`` is the column order of trait matrices in belonging scoring.
"""

from __future__ import annotations

#: The work-style traits a member may have a value for (each 0..1), in matrix column order.
WORK_STYLE_TRAITS: tuple[str, ...] = (
    "pressure_response",
    "collaborative_orientation",
    "strategic_thinking",
    "cognitive_flexibility",
    "attention_to_detail",
    "communication_clarity",
    "autonomy",
    "learning_agility",
    "empathy",
    "resilience",
)

#: Trait name -> column index in trait matrices.
TRAIT_INDEX: dict[str, int] = {trait: i for i, trait in enumerate(WORK_STYLE_TRAITS)}

#: How a growth area in each trait is worded ("Developing {phrase}").
GROWTH_PHRASES: dict[str, str] = {
    "pressure_response": "composure under pressure",
    "collaborative_orientation": "collaboration across teams",
    "strategic_thinking": "strategic thinking under ambiguity",
    "cognitive_flexibility": "flexibility when plans change",
    "attention_to_detail": "attention to detail in complex work",
    "communication_clarity": "clear communication of complex ideas",
    "autonomy": "independent ownership of work",
    "learning_agility": "speed in picking up new domains",
    "empathy": "empathy with colleagues and users",
    "resilience": "resilience through setbacks",
}


def trait_label(trait: str) -> str:
    """Human wording of a trait name: ``"pressure_response"`` -> ``"pressure response"``."""
    return trait.replace("_", " ").strip()


def growth_phrase(trait: str) -> str:
    """The growth-area wording of a trait; its label for a trait outside the vocabulary."""
    return GROWTH_PHRASES.get(trait, trait_label(trait))


__all__ = ["GROWTH_PHRASES", "TRAIT_INDEX", "WORK_STYLE_TRAITS", "growth_phrase", "trait_label"]
