"""Belonging scoring contract (see docs/matching.md): hand-computed examples for every formula, then properties."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_app.matching.belonging import (
    DEFAULT_BELONGING_WEIGHTS,
    BelongingScores,
    JobProfile,
    MemberCohort,
    component_level,
    quality_tier,
    rank_members,
    score_members_for_job,
)
from graphql_app.matching.traits import GROWTH_PHRASES, WORK_STYLE_TRAITS, trait_label

FIELDS = ("authenticity", "acceptance", "complementarity", "probability", "values", "culture", "coverage", "gap_fill")


def score_all(job: JobProfile, *members: dict, weights=DEFAULT_BELONGING_WEIGHTS) -> list[dict[str, float]]:
    """Scores of each member (ids default to the position) as dicts of floats."""
    cohort = MemberCohort.from_members({"id": i, **member} for i, member in enumerate(members))
    scores = score_members_for_job(job, cohort, weights)
    return [{name: float(getattr(scores, name)[i]) for name in FIELDS} for i in range(len(members))]


def score_one(job: JobProfile = JobProfile(), **member) -> dict[str, float]:
    return score_all(job, member)[0]


def unit(*xs: float) -> np.ndarray:
    v = np.array(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


# --- vocabulary and weights ----------------------------------------------------------------------------


def test_trait_vocabulary_and_wording():
    assert WORK_STYLE_TRAITS == (
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
    assert trait_label("pressure_response") == "pressure response"
    assert set(GROWTH_PHRASES) == set(WORK_STYLE_TRAITS)
    assert GROWTH_PHRASES["strategic_thinking"] == "strategic thinking under ambiguity"
    assert GROWTH_PHRASES["pressure_response"] == "composure under pressure"
    assert GROWTH_PHRASES["collaborative_orientation"] == "collaboration across teams"


def test_default_weights():
    assert DEFAULT_BELONGING_WEIGHTS == (0.40, 0.35, 0.25)
    assert math.isclose(sum(DEFAULT_BELONGING_WEIGHTS), 1.0)


def test_nothing_known_scores_one_half_everywhere():
    assert score_one() == {name: pytest.approx(0.5) for name in FIELDS}


# --- authenticity: values ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("member_values", "org_values", "expected"),
    [
        ({"curiosity", "integrity", "craft"}, {"integrity", "craft", "care"}, 2 / 4),
        ({"curiosity"}, {"integrity"}, 0.0),
        ({"integrity"}, {"integrity"}, 1.0),
        ({" Integrity ", "CRAFT"}, {"integrity", "craft", "care"}, 2 / 3),  # case-insensitive
        (set(), {"integrity"}, 0.5),  # member names none
        ({"integrity"}, set(), 0.5),  # organisation names none
        (["integrity", "Integrity", "integrity"], {"integrity", "care"}, 1 / 2),  # duplicates count once
    ],
)
def test_values_are_jaccard_overlap(member_values, org_values, expected):
    scores = score_one(JobProfile(org_values=frozenset(org_values)), values=member_values)
    assert scores["values"] == pytest.approx(expected)


def test_values_given_as_a_lone_string_is_one_value():
    assert score_one(JobProfile(org_values=frozenset({"integrity"})), values="Integrity")["values"] == 1.0


# --- authenticity: culture -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("bio", "culture", "expected"),
    [
        (unit(1, 0), unit(0.6, 0.8), 0.6),
        (unit(1, 0), np.array([3.0, 4.0]), 0.6),  # the culture embedding is normalised on construction
        (unit(1, 1), unit(1, 1), 1.0),
        (unit(1, 0), unit(-0.6, 0.8), 0.0),  # negative cosine -> 0
        (None, unit(1, 0), 0.5),  # member has no bio
        (unit(1, 0), None, 0.5),  # organisation has no culture statement
        (unit(1, 0), np.zeros(2), 0.5),  # a zero culture embedding counts as missing
    ],
)
def test_culture_is_non_negative_cosine(bio, culture, expected):
    scores = score_one(JobProfile(culture_embedding=culture), bio_embedding=bio)
    assert scores["culture"] == pytest.approx(expected, abs=1e-6)


def test_culture_of_members_without_bio_among_members_with_one():
    job = JobProfile(culture_embedding=unit(0.6, 0.8))
    scores = score_all(job, {"bio_embedding": unit(0, 1)}, {}, {"bio_embedding": None})
    assert [s["culture"] for s in scores] == pytest.approx([0.8, 0.5, 0.5], abs=1e-6)


@pytest.mark.parametrize(("similarity", "expected"), [(0.3, 0.3), (-0.2, 0.0), (None, 0.5), (1.0, 1.0)])
def test_precomputed_culture_similarity_replaces_embeddings(similarity, expected):
    job = JobProfile(culture_embedding=unit(1, 0))
    scores = score_all(job, {"culture_similarity": similarity}, {"culture_similarity": 0.9})
    assert scores[0]["culture"] == pytest.approx(expected)


def test_authenticity_averages_values_and_culture():
    job = JobProfile(org_values=frozenset({"integrity", "craft"}), culture_embedding=unit(0.6, 0.8))
    scores = score_one(job, values={"integrity"}, bio_embedding=unit(1, 0))
    assert scores["values"] == pytest.approx(0.5)
    assert scores["culture"] == pytest.approx(0.6)
    assert scores["authenticity"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.6)
    assert score_one(job, values={"integrity"})["authenticity"] == pytest.approx(0.5 * 0.5 + 0.5 * 0.5)


# --- acceptance ----------------------------------------------------------------------------------------

NORMS = {"pressure_response": (0.6, 0.1), "empathy": (0.5, 0.2)}


@pytest.mark.parametrize(
    ("traits", "expected"),
    [
        # |0.7−0.6|/(2·0.1) = 0.5 and |0.9−0.5|/(2·0.2) = 1.0 -> 1 − 0.75
        ({"pressure_response": 0.7, "empathy": 0.9}, 0.25),
        ({"pressure_response": 0.6, "empathy": 0.5}, 1.0),  # exactly the team means
        ({"pressure_response": 0.65, "empathy": 0.4}, 1 - (0.25 + 0.25) / 2),
        ({"pressure_response": 0.0, "empathy": 1.0}, 0.0),  # each deviation is capped at 1
        ({"pressure_response": 0.7}, 0.5),  # empathy unknown: mean over pressure response only, 1 − 0.5
        ({"pressure_response": 0.7, "empathy": None}, 0.5),
        ({"autonomy": 0.2, "resilience": 0.9}, 0.5),  # no trait with a norm and a value
        ({}, 0.5),
    ],
)
def test_acceptance_from_distance_to_team_norms(traits, expected):
    assert score_one(JobProfile(team_trait_norms=NORMS), traits=traits)["acceptance"] == pytest.approx(expected)


def test_acceptance_without_team_norms_is_one_half():
    assert score_one(JobProfile(), traits={"empathy": 0.1})["acceptance"] == 0.5


def test_acceptance_ignores_norms_outside_the_vocabulary():
    job = JobProfile(team_trait_norms={"charisma": (0.9, 0.1), "empathy": (0.5, 0.2)})
    assert score_one(job, traits={"empathy": 0.6, "charisma": 0.0})["acceptance"] == pytest.approx(0.75)


@pytest.mark.parametrize(("value", "expected"), [(0.5, 1.0), (0.5001, 0.0), (0.2, 0.0)])
def test_zero_tolerance_makes_any_difference_a_full_deviation(value, expected):
    job = JobProfile(team_trait_norms={"autonomy": (0.5, 0.0)})
    assert score_one(job, traits={"autonomy": value})["acceptance"] == pytest.approx(expected)


def test_traits_may_be_given_in_vocabulary_order():
    ordered = [None] * len(WORK_STYLE_TRAITS)
    ordered[WORK_STYLE_TRAITS.index("pressure_response")] = 0.7
    ordered[WORK_STYLE_TRAITS.index("empathy")] = 0.9
    assert score_one(JobProfile(team_trait_norms=NORMS), traits=ordered)["acceptance"] == pytest.approx(0.25)
    with pytest.raises(ValueError, match="trait sequence"):
        score_one(JobProfile(), traits=[0.5, 0.5])


# --- complementarity -----------------------------------------------------------------------------------

SKILLS_JOB = JobProfile(required_skills={"Python": 3.0, "SQL": 1.0, "go": 1.0}, team_skills=frozenset({"python"}))


@pytest.mark.parametrize(
    ("skills", "coverage", "gap_fill"),
    [
        ({"python", "GO "}, 4 / 5, 1 / 2),  # missing from the team: sql, go
        ({"sql", "go", "rust"}, 2 / 5, 2 / 2),
        ({"python"}, 3 / 5, 0.0),
        ({"python", "sql", "go"}, 1.0, 1.0),
        (set(), 0.0, 0.0),
        ({"rust"}, 0.0, 0.0),
    ],
)
def test_complementarity_combines_weighted_coverage_and_gap_fill(skills, coverage, gap_fill):
    scores = score_one(SKILLS_JOB, skills=skills)
    assert scores["coverage"] == pytest.approx(coverage)
    assert scores["gap_fill"] == pytest.approx(gap_fill)
    assert scores["complementarity"] == pytest.approx(0.6 * coverage + 0.4 * gap_fill)


def test_complementarity_is_coverage_alone_when_the_team_misses_nothing():
    job = JobProfile(required_skills={"python": 3.0, "sql": 1.0}, team_skills=frozenset({"Python", "SQL", "k8s"}))
    scores = score_one(job, skills={"sql"})
    assert scores["coverage"] == pytest.approx(0.25)
    assert scores["complementarity"] == pytest.approx(0.25)
    assert scores["gap_fill"] == 0.5  # does not apply


def test_complementarity_without_required_skills_is_one_half():
    scores = score_one(JobProfile(team_skills=frozenset({"python"})), skills={"python"})
    assert (scores["coverage"], scores["gap_fill"], scores["complementarity"]) == (0.5, 0.5, 0.5)


def test_required_skills_are_normalised_and_weights_checked():
    job = JobProfile(required_skills={"Python": 1.0, " python": 3.0, "SQL": 1.0})
    assert job.required_skills == {"python": 3.0, "sql": 1.0}  # a duplicate keeps the larger weight
    for weight in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="weight"):
            JobProfile(required_skills={"python": weight})


# --- probability, tiers, levels ------------------------------------------------------------------------

FULL_JOB = JobProfile(
    required_skills={"python": 1.0, "sql": 1.0},
    org_values=frozenset({"integrity", "craft"}),
    culture_embedding=unit(0.6, 0.8),
    team_trait_norms={"empathy": (0.5, 0.2)},
    team_skills=frozenset({"python"}),
)
FULL_MEMBER = {"values": {"integrity"}, "bio_embedding": unit(1, 0), "traits": {"empathy": 0.6}, "skills": {"sql"}}


def test_probability_is_the_weighted_sum_of_the_components():
    scores = score_one(FULL_JOB, **FULL_MEMBER)
    authenticity, acceptance, complementarity = 0.5 * 0.5 + 0.5 * 0.6, 1 - 0.25, 0.6 * 0.5 + 0.4 * 1.0
    assert (scores["authenticity"], scores["acceptance"], scores["complementarity"]) == pytest.approx(
        (authenticity, acceptance, complementarity)
    )
    assert scores["probability"] == pytest.approx(0.40 * authenticity + 0.35 * acceptance + 0.25 * complementarity)


def test_probability_with_learned_weights():
    scores = score_all(FULL_JOB, FULL_MEMBER, weights=(0.1, 0.7, 0.2))[0]
    assert scores["probability"] == pytest.approx(0.1 * 0.55 + 0.7 * 0.75 + 0.2 * 0.7)


@pytest.mark.parametrize("weights", [(0.5, 0.5, 0.5), (-0.1, 0.6, 0.5), (0.5, 0.5), (math.nan, 0.5, 0.5)])
def test_weights_must_lie_on_the_simplex(weights):
    with pytest.raises(ValueError, match="weights"):
        score_all(FULL_JOB, FULL_MEMBER, weights=weights)


@pytest.mark.parametrize(
    ("probability", "tier"),
    [
        (1.0, "EXCEPTIONAL"),
        (0.80, "EXCEPTIONAL"),
        (0.7999, "STRONG"),
        (0.65, "STRONG"),
        (0.6499, "MODERATE"),
        (0.50, "MODERATE"),
        (0.4999, "DEVELOPING"),
        (0.0, "DEVELOPING"),
    ],
)
def test_quality_tier_thresholds(probability, tier):
    assert quality_tier(probability) == tier


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (1.0, "HIGH"),
        (0.80, "HIGH"),
        (0.7999, "STRONG"),
        (0.65, "STRONG"),
        (0.6499, "MODERATE"),
        (0.50, "MODERATE"),
        (0.4999, "DEVELOPING"),
        (0.0, "DEVELOPING"),
    ],
)
def test_component_level_thresholds(score, level):
    assert component_level(score) == level


def test_a_computed_threshold_counts_despite_rounding():
    assert 0.1 + 0.7 < 0.8 and 0.3 + 0.35 < 0.65  # 0.7999999999999999 and 0.6499999999999999
    assert quality_tier(0.1 + 0.7) == "EXCEPTIONAL"
    assert component_level(0.3 + 0.35) == "STRONG"


# --- ranking -------------------------------------------------------------------------------------------


def _scores(probability) -> BelongingScores:
    p = np.asarray(probability, dtype=np.float64)
    return BelongingScores(*([p] * 8))


def test_rank_members_by_probability_ties_by_index():
    scores = _scores([0.4, 0.9, 0.4, 0.7, 0.9])
    assert rank_members(scores).tolist() == [1, 4, 3, 0, 2]
    assert rank_members(scores, limit=2).tolist() == [1, 4]
    assert rank_members(scores, limit=0).tolist() == []
    with pytest.raises(ValueError):
        rank_members(scores, limit=-1)


def test_empty_cohort():
    cohort = MemberCohort.from_members([])
    scores = score_members_for_job(FULL_JOB, cohort)
    assert len(cohort) == len(scores) == 0
    assert rank_members(scores).tolist() == []


def test_direct_construction_matches_from_members():
    direct = MemberCohort(
        ids=["a", "b"],
        values=[frozenset({"integrity"}), frozenset()],
        skills=[frozenset({"sql"}), frozenset({"python"})],
        traits=np.array([[math.nan] * 8 + [0.6, math.nan], [math.nan] * 10]),
        bio_embeddings=np.stack([unit(1, 0), np.zeros(2, dtype=np.float32)]),
    )
    assert direct.has_bio.tolist() == [True, False]
    via_rows = MemberCohort.from_members(
        [{"id": "a", **FULL_MEMBER}, {"id": "b", "skills": ["python"], "bio_embedding": None}]
    )
    for name in FIELDS:
        assert getattr(score_members_for_job(FULL_JOB, direct), name) == pytest.approx(
            getattr(score_members_for_job(FULL_JOB, via_rows), name)
        )
    with pytest.raises(ValueError, match="traits"):
        MemberCohort(ids=[1], values=[()], skills=[()], traits=np.zeros((1, 3)))


# --- vectorised == per-member, and ranges --------------------------------------------------------------


def reference_scores(job: JobProfile, member: dict, weights=DEFAULT_BELONGING_WEIGHTS) -> dict[str, float]:
    """The belonging formulas (docs/matching.md) for one member, written out plainly."""

    def terms(xs):
        xs = [xs] if isinstance(xs, str) else xs or ()
        return {x.strip().lower() for x in xs} - {""}

    member_values, org_values = terms(member.get("values")), terms(job.org_values)
    if member_values and org_values:
        values = len(member_values & org_values) / len(member_values | org_values)
    else:
        values = 0.5
    bio, culture_vector = member.get("bio_embedding"), job.culture_embedding
    if bio is None or culture_vector is None:
        culture = 0.5
    else:
        cosine = float(np.dot(bio, culture_vector) / (np.linalg.norm(bio) * np.linalg.norm(culture_vector)))
        culture = min(1.0, max(0.0, cosine))
    authenticity = 0.5 * values + 0.5 * culture

    deviations = []
    for trait, (mean, tolerance) in job.team_trait_norms.items():
        value = (member.get("traits") or {}).get(trait)
        if trait in WORK_STYLE_TRAITS and value is not None:
            width = 2 * max(tolerance, 1e-9)
            deviations.append(min(1.0, abs(value - mean) / width))
    acceptance = 1 - sum(deviations) / len(deviations) if deviations else 0.5

    skills, required = terms(member.get("skills")), job.required_skills
    if not required:
        coverage = gap_fill = complementarity = 0.5
    else:
        coverage = sum(w for s, w in required.items() if s in skills) / sum(required.values())
        missing = {s for s in required if s not in job.team_skills}
        gap_fill = len(missing & skills) / len(missing) if missing else 0.5
        complementarity = 0.6 * coverage + 0.4 * gap_fill if missing else coverage
    w_a, w_acc, w_c = weights
    return {
        "authenticity": authenticity,
        "acceptance": acceptance,
        "complementarity": complementarity,
        "probability": w_a * authenticity + w_acc * acceptance + w_c * complementarity,
        "values": values,
        "culture": culture,
        "coverage": coverage,
        "gap_fill": gap_fill,
    }


def random_member(rng: np.random.Generator) -> dict:
    vocab = ["python", "SQL", "go", "rust", "design", "Care", "craft", "integrity", "curiosity"]
    member = {
        "values": list(rng.choice(vocab, rng.integers(0, 4), replace=False)),
        "skills": list(rng.choice(vocab, rng.integers(0, 5), replace=False)),
        "traits": {t: float(rng.random()) for t in WORK_STYLE_TRAITS if rng.random() < 0.6},
    }
    if rng.random() < 0.7:
        member["bio_embedding"] = unit(*rng.normal(size=8))
    return member


def test_vectorised_scores_equal_per_member_formulas():
    rng = np.random.default_rng(7)
    job = JobProfile(
        required_skills={"python": 2.0, "sql": 1.0, "rust": 0.5},
        org_values=frozenset({"care", "craft"}),
        culture_embedding=unit(*rng.normal(size=8)),
        team_trait_norms={"empathy": (0.5, 0.2), "autonomy": (0.7, 0.0), "resilience": (0.4, 0.3)},
        team_skills=frozenset({"python", "go"}),
    )
    members = [random_member(rng) for _ in range(500)]
    for weights in (DEFAULT_BELONGING_WEIGHTS, (0.2, 0.5, 0.3)):
        for got, member in zip(score_all(job, *members, weights=weights), members, strict=True):
            assert got == pytest.approx(reference_scores(job, member, weights), abs=1e-6)


_terms = st.lists(st.sampled_from(["python", "SQL", " go", "care", "Craft", "integrity", ""]), max_size=5)
_trait_values = st.floats(0, 1) | st.none()
#: Embedding components: real unit vectors never have float32-subnormal norms, which cannot be normalised.
_component = st.floats(-1, 1).filter(lambda x: x == 0 or abs(x) > 1e-6)
_members = st.fixed_dictionaries(
    {
        "values": _terms,
        "skills": _terms,
        "traits": st.dictionaries(st.sampled_from(WORK_STYLE_TRAITS), _trait_values, max_size=10),
        "bio_embedding": st.none()
        | st.lists(_component, min_size=3, max_size=3)
        .filter(lambda v: np.linalg.norm(v) > 1e-3)
        .map(lambda v: unit(*v)),
    }
)
_jobs = st.builds(
    JobProfile,
    required_skills=st.dictionaries(st.sampled_from(["python", "sql", "go", "rust"]), st.floats(0.01, 10), max_size=4),
    org_values=st.frozensets(st.sampled_from(["care", "craft", "integrity"])),
    culture_embedding=st.none() | st.lists(_component, min_size=3, max_size=3).map(np.array),
    team_trait_norms=st.dictionaries(
        st.sampled_from(WORK_STYLE_TRAITS), st.tuples(st.floats(0, 1), st.floats(0, 0.5)), max_size=10
    ),
    team_skills=st.frozensets(st.sampled_from(["python", "sql", "go"])),
)
_weights = st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0.01, 1)).map(lambda w: tuple(np.array(w) / sum(w)))


@settings(max_examples=200, deadline=None)
@given(job=_jobs, members=st.lists(_members, max_size=8), weights=_weights)
def test_scores_stay_in_unit_interval_and_match_the_formulas(job, members, weights):
    for got, member in zip(score_all(job, *members, weights=weights), members, strict=True):
        for name in FIELDS:
            assert 0.0 <= got[name] <= 1.0, name
        assert got == pytest.approx(reference_scores(job, member, weights), abs=1e-6)
        assert quality_tier(got["probability"]) in {"EXCEPTIONAL", "STRONG", "MODERATE", "DEVELOPING"}
