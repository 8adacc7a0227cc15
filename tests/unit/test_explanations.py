"""Match explanation wording (see docs/matching.md): strengths, growth areas, levels, confidence and summary."""

import math

import pytest

from graphql_app.matching.explanations import MatchExplanationData, explain_belonging
from graphql_app.matching.traits import GROWTH_PHRASES, WORK_STYLE_TRAITS

DESIRED = {"pressure_response": 0.8, "collaborative_orientation": 0.7, "strategic_thinking": 0.8}


def explain(member_traits=None, desired_traits=None, scores=(0.6, 0.7, 0.55), completeness=0.9):
    return explain_belonging(
        member_traits or {}, DESIRED if desired_traits is None else desired_traits, *scores, completeness
    )


def test_design_example():
    explanation = explain(
        {"pressure_response": 0.93, "collaborative_orientation": 0.8, "strategic_thinking": 0.6, "empathy": 0.99},
        scores=(0.6, 0.7, 0.55),
        completeness=0.85,
    )
    assert explanation == MatchExplanationData(
        top_strengths=["Exceptional pressure response", "Strong collaborative orientation"],
        growth_areas=["Developing strategic thinking under ambiguity"],
        belonging_breakdown={"authenticity": "MODERATE", "acceptance": "STRONG", "complementarity": "MODERATE"},
        confidence_statement="High confidence based on comprehensive identity data.",
        summary_text=(
            "Strong alignment with the team culture, particularly in pressure response. "
            "Main growth area: strategic thinking under ambiguity."
        ),
    )


# --- strengths -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "strengths"),
    [
        (1.0, ["Exceptional pressure response"]),
        (0.9, ["Exceptional pressure response"]),
        (0.8999, ["Strong pressure response"]),
        (0.75, ["Strong pressure response"]),
        (0.7499, []),
        (None, []),
        (math.nan, []),
    ],
)
def test_strength_wording_by_level(value, strengths):
    assert explain({"pressure_response": value}).top_strengths == strengths


def test_only_traits_the_job_wants_are_strengths():
    explanation = explain({"empathy": 0.95, "autonomy": 0.9, "collaborative_orientation": 0.76})
    assert explanation.top_strengths == ["Strong collaborative orientation"]


def test_at_most_three_strengths_highest_first_ties_by_name():
    member = {"resilience": 0.8, "autonomy": 0.95, "empathy": 0.8, "attention_to_detail": 0.8, "learning_agility": 0.77}
    desired = dict.fromkeys(member, 0.5)
    assert explain(member, desired).top_strengths == [
        "Exceptional autonomy",
        "Strong attention to detail",
        "Strong empathy",
    ]


# --- growth areas --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "growth"),
    [
        (0.6, ["Developing strategic thinking under ambiguity"]),
        (0.649, ["Developing strategic thinking under ambiguity"]),
        (0.65, []),  # exactly 0.15 below the target is not "below by more than 0.15"
        (0.7, []),
        (0.95, []),
        (None, []),  # an unknown trait is no growth area
    ],
)
def test_growth_area_when_more_than_015_below_target(value, growth):
    assert explain({"strategic_thinking": value}).growth_areas == growth


def test_at_most_three_growth_areas_largest_gap_first():
    desired = {"empathy": 0.9, "autonomy": 0.9, "resilience": 0.8, "pressure_response": 0.9, "strategic_thinking": 0.9}
    member = {"empathy": 0.3, "autonomy": 0.6, "resilience": 0.2, "pressure_response": 0.6, "strategic_thinking": 0.7}
    assert explain(member, desired).growth_areas == [
        "Developing empathy with colleagues and users",  # gap 0.6
        "Developing resilience through setbacks",  # gap 0.6, after empathy by name
        "Developing independent ownership of work",  # gap 0.3, before pressure_response by name
    ]


def test_every_trait_has_a_growth_phrase():
    for trait in WORK_STYLE_TRAITS:
        assert explain({trait: 0.1}, {trait: 0.9}).growth_areas == [f"Developing {GROWTH_PHRASES[trait]}"]


# --- breakdown and confidence --------------------------------------------------------------------------


def test_belonging_breakdown_uses_component_levels():
    breakdown = explain(scores=(0.8, 0.65, 0.4999)).belonging_breakdown
    assert breakdown == {"authenticity": "HIGH", "acceptance": "STRONG", "complementarity": "DEVELOPING"}


@pytest.mark.parametrize(
    ("completeness", "statement"),
    [
        (1.0, "High confidence based on comprehensive identity data."),
        (0.8, "High confidence based on comprehensive identity data."),
        (0.79, "Moderate confidence based on partial identity data."),
        (0.5, "Moderate confidence based on partial identity data."),
        (0.49, "Low confidence: the profile is still incomplete."),
        (0.0, "Low confidence: the profile is still incomplete."),
        (None, "Low confidence: the profile is still incomplete."),
    ],
)
def test_confidence_from_profile_completeness(completeness, statement):
    assert explain(completeness=completeness).confidence_statement == statement


# --- summary -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("scores", "member", "summary"),
    [
        (
            (0.6, 0.7, 0.5),
            {"collaborative_orientation": 0.8},
            "Strong alignment with the team culture, particularly in collaborative orientation.",
        ),
        (
            (0.85, 0.7, 0.5),
            {"collaborative_orientation": 0.8},
            "Excellent alignment with the organisation's values and culture, particularly in collaborative orientation.",
        ),
        ((0.3, 0.2, 0.55), {}, "Moderate complement to the skills the team needs."),
        ((0.4, 0.4, 0.4), {}, "Developing alignment with the organisation's values and culture."),  # tie: first
        (
            (0.3, 0.45, 0.2),
            {"pressure_response": 0.5},
            "Developing alignment with the team culture. Main growth area: composure under pressure.",
        ),
    ],
)
def test_summary_text(scores, member, summary):
    assert explain(member, scores=scores).summary_text == summary


def test_explanation_is_deterministic():
    member = {"pressure_response": 0.91, "strategic_thinking": 0.5}
    assert explain(member) == explain(dict(reversed(member.items())))
