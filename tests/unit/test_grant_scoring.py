"""Grant scoring contract (see docs/matching.md): hand-computed examples for every rule, then properties."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_app.matching.grants import (
    CARBON_FOCUS_MULTIPLIER,
    COMPONENT_WEIGHTS,
    CompanyProfile,
    GrantCandidates,
    collaborative_scores,
    cosine_similarity,
    explain_grant_match,
    peer_signal_sum,
    peer_signal_sums,
    rank_grant_matches,
    recency_scores,
    score_grants_for_company,
)
from graphql_app.matching.vocabulary import (
    CARBON_CATEGORIES,
    CERTIFICATIONS,
    COMPANY_SIZES,
    TAXONOMY_OBJECTIVES,
)

COMPANY = CompanyProfile(
    country="DE",
    nace_codes=("M71.12",),
    size="SMALL",
    carbon_categories=frozenset({"renewable_energy", "energy_efficiency"}),
    certifications=frozenset({"ISO_14001"}),
    taxonomy_objectives=frozenset({"CLIMATE_CHANGE_MITIGATION"}),
)


def candidates(*grants: dict) -> GrantCandidates:
    """Candidates from per-grant dicts; ids default to the position."""
    return GrantCandidates.from_rows({"id": i, **grant} for i, grant in enumerate(grants))


def score_one(company: CompanyProfile = COMPANY, **grant):
    """Scores of a single grant (unrestricted, rolling, cosine 0 unless given) as a dict of floats."""
    table = score_grants_for_company(company, candidates(grant))
    fields = (
        *COMPONENT_WEIGHTS,
        *("country", "nace", "size", "categories", "certification", "taxonomy"),
        *("weighted_total", "total", "carbon_bonus_applied", "disqualified", "closed", "eligible"),
    )
    return {name: getattr(table, name)[0].item() for name in fields}


# --- weights -----------------------------------------------------------------------------------------


def test_component_weights():
    assert COMPONENT_WEIGHTS == {
        "semantic": 0.25,
        "rule": 0.30,
        "carbon": 0.25,
        "collaborative": 0.10,
        "recency": 0.10,
    }
    assert math.isclose(sum(COMPONENT_WEIGHTS.values()), 1.0)
    assert CARBON_FOCUS_MULTIPLIER == 1.2


# --- semantic ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("cosine", "semantic"), [(0.8, 0.8), (0.0, 0.0), (-0.3, 0.0), (1.0, 1.0)])
def test_semantic_is_non_negative_cosine(cosine, semantic):
    assert score_one(cosine_similarity=cosine)["semantic"] == pytest.approx(semantic)


def test_cosine_similarity_vector_against_rows_and_zero_vectors():
    company = np.array([1.0, 0.0])
    grants = np.array([[1.0, 0.0], [0.0, 2.0], [-3.0, 0.0], [1.0, 1.0], [0.0, 0.0]])
    expected = [1.0, 0.0, -1.0, 1 / math.sqrt(2), 0.0]
    np.testing.assert_allclose(cosine_similarity(company, grants), expected)
    np.testing.assert_allclose(cosine_similarity(grants, company), expected)
    assert cosine_similarity(np.zeros(3), np.ones(3)) == 0.0
    assert cosine_similarity(np.array([1.0, 2.0]), np.array([2.0, 4.0])) == pytest.approx(1.0)


def test_cosine_similarity_row_wise_for_two_matrices():
    a = np.array([[1.0, 0.0], [0.0, 1.0]])
    b = np.array([[1.0, 0.0], [1.0, 0.0]])
    np.testing.assert_allclose(cosine_similarity(a, b), [1.0, 0.0])


# --- rule --------------------------------------------------------------------------------------------


def test_rule_listed_country_and_size_score_one():
    scores = score_one(countries=["DE", "FR"], sizes=["SMALL", "MEDIUM"], nace_codes=["M71"])
    assert (scores["country"], scores["size"], scores["nace"]) == (1.0, 1.0, 1.0)
    assert scores["rule"] == pytest.approx(0.4 * 1.0 + 0.4 * 1.0 + 0.2 * 1.0)


def test_rule_unrestricted_country_size_and_nace():
    scores = score_one()
    assert (scores["country"], scores["size"], scores["nace"]) == (0.8, 0.8, 0.5)
    assert scores["rule"] == pytest.approx(0.4 * 0.8 + 0.4 * 0.5 + 0.2 * 0.8)  # 0.68


def test_rule_mixed_listed_country_unrestricted_size_shared_group():
    scores = score_one(countries=["DE"], nace_codes=["M71.13", "C25"])
    assert (scores["country"], scores["size"], scores["nace"]) == (1.0, 0.8, 0.85)
    assert scores["rule"] == pytest.approx(0.4 * 1.0 + 0.4 * 0.85 + 0.2 * 0.8)  # 0.9


@pytest.mark.parametrize(
    ("grant_codes", "nace"),
    [
        (["M71"], 1.0),
        (["M71.11"], 0.85),
        (["M71.2"], 0.7),
        (["M72"], 0.3),
        (["C25"], 0.0),
        ([], 0.5),
        (["71.12"], 1.0),  # letterless grant code normalised
    ],
)
def test_rule_nace_sub_score(grant_codes, nace):
    assert score_one(nace_codes=grant_codes)["nace"] == nace


def test_company_profile_normalises_nace_codes():
    company = CompanyProfile("DE", ("71.12", "n72.1"), "SMALL")
    assert company.nace_codes == ("M71.12", "M72.1")
    assert company.carbon_categories == frozenset()


# --- carbon ------------------------------------------------------------------------------------------


def test_carbon_with_grant_categories_certifications_and_objectives():
    scores = score_one(
        carbon_categories=["renewable_energy", "green_buildings"],
        certifications=["EMAS"],
        taxonomy_objectives=["CLIMATE_CHANGE_MITIGATION", "CIRCULAR_ECONOMY"],
    )
    assert (scores["categories"], scores["certification"], scores["taxonomy"]) == (0.5, 0.0, 0.5)
    assert scores["carbon"] == pytest.approx(0.5 * 0.5 + 0.25 * 0.0 + 0.25 * 0.5)  # 0.375


def test_carbon_when_grant_names_nothing_uses_defaults_and_platform_certifications():
    scores = score_one()
    assert (scores["categories"], scores["certification"], scores["taxonomy"]) == (0.5, 1.0, 0.5)
    assert scores["carbon"] == pytest.approx(0.5 * 0.5 + 0.25 * 1.0 + 0.25 * 0.5)  # 0.625


def test_certification_fallback_needs_a_recognised_environmental_certification():
    company = CompanyProfile("DE", ("M71.12",), "SMALL", certifications=frozenset({"ISO_9001"}))
    assert score_one(company)["certification"] == 0.0
    # A grant that names ISO_9001 recognises it even though the platform list does not contain it.
    assert score_one(company, certifications=["ISO_9001", "EMAS"])["certification"] == 1.0


def test_carbon_category_and_taxonomy_shares():
    scores = score_one(
        carbon_categories=["renewable_energy", "energy_efficiency", "green_buildings", "carbon_capture"],
        taxonomy_objectives=["CLIMATE_CHANGE_MITIGATION", "CIRCULAR_ECONOMY", "BIODIVERSITY_ECOSYSTEMS"],
    )
    assert scores["categories"] == pytest.approx(2 / 4)
    assert scores["taxonomy"] == pytest.approx(1 / 3)
    none = score_one(carbon_categories=["carbon_capture"], taxonomy_objectives=["CIRCULAR_ECONOMY"])
    assert (none["categories"], none["taxonomy"]) == (0.0, 0.0)


# --- collaborative -----------------------------------------------------------------------------------


def test_collaborative_without_signal_is_exactly_one_half():
    assert score_one()["collaborative"] == 0.5
    assert collaborative_scores(np.array([0.0, np.nan])).tolist() == [0.5, 0.5]


@pytest.mark.parametrize(
    ("signal", "expected"),
    [
        (3.0, 0.880797),  # 0.5 + 0.5·tanh(1)
        (-1.5, 0.268941),  # 0.5 + 0.5·tanh(-0.5)
        (1000.0, 1.0),
    ],
)
def test_collaborative_tanh(signal, expected):
    assert score_one(peer_signal=signal)["collaborative"] == pytest.approx(expected, abs=1e-6)


def test_peer_signal_sum_convention():
    similarities = np.array([0.9, 0.8, 0.5, 0.4, 0.7])
    saved = np.array([True, False, False, False, True])
    viewed = np.array([True, True, False, True, False])
    dismissed = np.array([False, False, True, False, True])
    # saved +1·0.9, viewed-only +0.25·0.8, dismissed −1·0.5, viewed-only +0.25·0.4, saved and dismissed 0
    assert peer_signal_sum(similarities, saved, viewed, dismissed) == pytest.approx(0.9 + 0.2 - 0.5 + 0.1)
    assert peer_signal_sum(np.array([]), np.array([]), np.array([]), np.array([])) == 0.0


def test_peer_signal_sums_per_grant():
    sums = peer_signal_sums(
        grant_index=np.array([0, 2, 2]),
        n_grants=4,
        similarities=np.array([0.5, 0.8, 0.4]),
        saved=np.array([True, True, False]),
        viewed=np.array([False, True, True]),
        dismissed=np.array([False, False, False]),
    )
    np.testing.assert_allclose(sums, [0.5, 0.0, 0.8 + 0.1, 0.0])


# --- recency -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "recency"),
    [
        (0, 1.0),
        (12, 1.0),
        (30, 1.0),
        (31, 1.0 - 0.6 * 1 / 150),
        (105, 0.7),
        (179, 1.0 - 0.6 * 149 / 150),
        (180, 0.4),
        (365, 0.4),
        (None, 0.5),
    ],
)
def test_recency_bands(days, recency):
    assert score_one(days_left=days)["recency"] == pytest.approx(recency)
    assert recency_scores(np.array([np.nan if days is None else days]))[0] == pytest.approx(recency)


def test_closed_grant_is_never_ranked():
    table = score_grants_for_company(COMPANY, candidates({"days_left": -1}, {"days_left": 0}, {}))
    assert table.closed.tolist() == [True, False, False]
    assert table.eligible.tolist() == [False, True, True]
    assert table.total[0] == 0.0
    assert 0 not in rank_grant_matches(table, limit=None).tolist()


# --- disqualification --------------------------------------------------------------------------------


@pytest.mark.parametrize("grant", [{"countries": ["FR", "AT"]}, {"sizes": ["LARGE"]}])
def test_disqualified_grants_score_zero_and_are_never_ranked(grant):
    table = score_grants_for_company(
        COMPANY, candidates({**grant, "cosine_similarity": 1.0, "is_carbon_focused": True}, {})
    )
    assert table.disqualified.tolist() == [True, False]
    assert table.total[0] == 0.0
    assert not table.carbon_bonus_applied[0]
    assert rank_grant_matches(table, limit=None).tolist() == [1]


# --- total and carbon bonus --------------------------------------------------------------------------

FULL_GRANT = {
    "cosine_similarity": 0.8,
    "countries": ["DE"],
    "nace_codes": ["M71"],
    "sizes": ["SMALL"],
    "carbon_categories": ["renewable_energy", "green_buildings"],
    "taxonomy_objectives": ["CLIMATE_CHANGE_MITIGATION"],
    "days_left": 105,
}
# semantic 0.8; rule 1.0; carbon 0.5·0.5 + 0.25·1 + 0.25·1 = 0.75; collaborative 0.5; recency 0.7
FULL_TOTAL = 0.25 * 0.8 + 0.30 * 1.0 + 0.25 * 0.75 + 0.10 * 0.5 + 0.10 * 0.7  # 0.8075


def test_full_total_by_hand():
    scores = score_one(**FULL_GRANT)
    assert scores["semantic"] == pytest.approx(0.8)
    assert scores["rule"] == pytest.approx(1.0)
    assert scores["carbon"] == pytest.approx(0.75)
    assert scores["collaborative"] == 0.5
    assert scores["recency"] == pytest.approx(0.7)
    assert scores["total"] == pytest.approx(FULL_TOTAL)
    assert scores["weighted_total"] == pytest.approx(0.8075)
    assert scores["eligible"]
    assert not scores["carbon_bonus_applied"]


def test_carbon_focus_bonus():
    scores = score_one(**FULL_GRANT, is_carbon_focused=True)
    assert scores["weighted_total"] == pytest.approx(0.8075)
    assert scores["total"] == pytest.approx(0.8075 * 1.2)  # 0.969
    assert scores["carbon_bonus_applied"]


def test_carbon_focus_bonus_is_capped_at_one():
    scores = score_one(**{**FULL_GRANT, "cosine_similarity": 1.0, "days_left": 10}, is_carbon_focused=True)
    assert scores["weighted_total"] == pytest.approx(0.8875)  # × 1.2 = 1.065
    assert scores["total"] == 1.0


# --- ranking -----------------------------------------------------------------------------------------


def test_rank_orders_by_total_with_ties_by_index_and_respects_limit_and_min_score():
    table = score_grants_for_company(
        COMPANY,
        candidates(
            {"cosine_similarity": 0.2},
            {"cosine_similarity": 0.9},
            {"cosine_similarity": 0.2},
            {"cosine_similarity": 0.9, "countries": ["FR"]},
            {"cosine_similarity": 0.5},
        ),
    )
    assert rank_grant_matches(table, limit=None).tolist() == [1, 4, 0, 2]
    assert rank_grant_matches(table, limit=2).tolist() == [1, 4]
    assert rank_grant_matches(table, limit=0).tolist() == []
    threshold = table.total[4]
    assert rank_grant_matches(table, limit=None, min_score=threshold).tolist() == [1, 4]
    assert rank_grant_matches(table, limit=None, min_score=1.0).tolist() == []
    with pytest.raises(ValueError):
        rank_grant_matches(table, limit=-1)


# --- reasons and breakdown ---------------------------------------------------------------------------


def test_reasons_and_breakdown_of_a_full_match():
    grant = {
        **FULL_GRANT,
        "carbon_categories": ["renewable_energy", "energy_efficiency", "green_buildings"],
        "days_left": 12,
        "is_carbon_focused": True,
        "peers_saved": 3,
        "peer_signal": 1.5,
    }
    cands = candidates(grant)
    table = score_grants_for_company(COMPANY, cands)
    explanation = explain_grant_match(COMPANY, cands, table, 0)
    assert explanation.reasons == [
        "Country match: DE",
        "NACE code overlap: M71",
        "Size eligible: SMALL",
        "Carbon category match: energy_efficiency",
        "Carbon category match: renewable_energy",
        "ISO_14001 certification recognized",
        "EU taxonomy objective: CLIMATE_CHANGE_MITIGATION",
        "High semantic similarity",
        "Deadline in 12 days",
        "Saved by 3 similar companies",
        "Carbon-focused grant: 1.2× bonus applied",
    ]
    # carbon = 0.5·(2/3) + 0.25 + 0.25; collaborative = 0.5 + 0.5·tanh(0.5); recency 1.0
    carbon = 0.5 * 2 / 3 + 0.5
    collaborative = 0.5 + 0.5 * math.tanh(0.5)
    weighted = 0.25 * 0.8 + 0.30 * 1.0 + 0.25 * carbon + 0.10 * collaborative + 0.10 * 1.0
    r = lambda x: round(x, 6)  # noqa: E731
    assert explanation.breakdown == {
        "components": {
            "semantic": {"score": 0.8, "weight": 0.25, "contribution": 0.2},
            "rule": {"score": 1.0, "weight": 0.30, "contribution": 0.3},
            "carbon": {"score": r(carbon), "weight": 0.25, "contribution": r(0.25 * carbon)},
            "collaborative": {
                "score": r(collaborative),
                "weight": 0.10,
                "contribution": r(0.1 * collaborative),
            },
            "recency": {"score": 1.0, "weight": 0.10, "contribution": 0.1},
        },
        "subScores": {
            "country": 1.0,
            "nace": 1.0,
            "size": 1.0,
            "categories": r(2 / 3),
            "certification": 1.0,
            "taxonomy": 1.0,
        },
        "weightedTotal": r(weighted),
        "carbonBonusApplied": True,
        "carbonBonusMultiplier": 1.2,
        "total": 1.0,  # weighted ≈ 0.916 × 1.2 capped
        "daysLeft": 12,
    }
    json.dumps(explanation.breakdown)


def test_reasons_for_an_unrestricted_rolling_grant():
    company = CompanyProfile("FR", ("C25.1",), "LARGE")
    cands = candidates({"peers_saved": 1, "days_left": None, "cosine_similarity": 0.3})
    explanation = explain_grant_match(company, cands, score_grants_for_company(company, cands), 0)
    assert explanation.reasons == ["Open to all countries", "Rolling deadline", "Saved by 1 similar company"]
    assert explanation.breakdown["daysLeft"] is None
    assert explanation.breakdown["carbonBonusApplied"] is False
    assert explanation.breakdown["subScores"]["nace"] == 0.5


@pytest.mark.parametrize(
    ("days", "reason"), [(0, "Deadline today"), (1, "Deadline in 1 day"), (179, "Deadline in 179 days")]
)
def test_deadline_reason_wording(days, reason):
    cands = candidates({"days_left": days})
    reasons = explain_grant_match(COMPANY, cands, score_grants_for_company(COMPANY, cands), 0).reasons
    assert reason in reasons


def test_nace_reason_names_the_deepest_shared_code():
    cands = candidates({"nace_codes": ["M71.13"]}, {"nace_codes": ["M72"]}, {"nace_codes": ["C25"]})
    table = score_grants_for_company(COMPANY, cands)
    reasons = [explain_grant_match(COMPANY, cands, table, i).reasons for i in range(3)]
    assert "NACE code overlap: M71.1" in reasons[0]
    assert "NACE code overlap: M" in reasons[1]
    assert not any(reason.startswith("NACE") for reason in reasons[2])


def test_reasons_for_ineligible_grants():
    cands = candidates({"countries": ["FR"], "sizes": ["LARGE"]}, {"days_left": -3})
    table = score_grants_for_company(COMPANY, cands)
    first = explain_grant_match(COMPANY, cands, table, 0)
    assert first.reasons[:2] == ["Country not eligible: DE", "Size not eligible: SMALL"]
    assert first.breakdown["total"] == 0.0
    second = explain_grant_match(COMPANY, cands, table, 1)
    assert second.reasons[0] == "Deadline passed"
    assert not any(reason.startswith("Deadline in") for reason in second.reasons)


def test_certification_reason_uses_platform_list_when_grant_names_none():
    company = CompanyProfile("DE", (), "SMALL", certifications=frozenset({"EMAS", "ISO_9001", "ISO_14001"}))
    cands = candidates({}, {"certifications": ["ISO_9001"]})
    table = score_grants_for_company(company, cands)
    first = explain_grant_match(company, cands, table, 0).reasons
    second = explain_grant_match(company, cands, table, 1).reasons
    assert [r for r in first if r.endswith("recognized")] == [
        "EMAS certification recognized",
        "ISO_14001 certification recognized",
    ]
    assert [r for r in second if r.endswith("recognized")] == ["ISO_9001 certification recognized"]


# --- candidates container ----------------------------------------------------------------------------


def test_candidates_from_rows_defaults_and_length_check():
    cands = GrantCandidates.from_rows([{"id": "a"}, {"id": "b", "days_left": 3, "peers_saved": None}])
    assert len(cands) == 2
    assert cands.ids == ["a", "b"]
    assert np.isnan(cands.days_left[0]) and cands.days_left[1] == 3
    assert cands.countries == [frozenset(), frozenset()]
    assert cands.peers_saved.tolist() == [0, 0]
    with pytest.raises(ValueError, match="cosine_similarity"):
        GrantCandidates(
            ids=["a"],
            cosine_similarity=np.array([0.1, 0.2]),
            countries=[frozenset()],
            nace_codes=[()],
            sizes=[frozenset()],
            carbon_categories=[frozenset()],
            certifications=[frozenset()],
            taxonomy_objectives=[frozenset()],
            is_carbon_focused=np.array([False]),
            days_left=np.array([np.nan]),
            peer_signal=np.array([0.0]),
            peers_saved=np.array([0]),
        )


def test_empty_candidates():
    table = score_grants_for_company(COMPANY, candidates())
    assert len(table) == 0
    assert rank_grant_matches(table, limit=10).tolist() == []


# --- properties --------------------------------------------------------------------------------------

_NACE_POOL = ["M", "M71", "M71.1", "M71.12", "M72.1", "C25", "C25.11", "D35.11", "A01"]


def _subset(pool, max_size=3):
    return st.lists(st.sampled_from(list(pool)), max_size=max_size, unique=True)


_companies = st.builds(
    CompanyProfile,
    country=st.sampled_from(["DE", "FR", "IT"]),
    nace_codes=st.lists(st.sampled_from(_NACE_POOL), max_size=2).map(tuple),
    size=st.sampled_from(COMPANY_SIZES),
    carbon_categories=_subset(CARBON_CATEGORIES).map(frozenset),
    certifications=_subset(CERTIFICATIONS).map(frozenset),
    taxonomy_objectives=_subset(TAXONOMY_OBJECTIVES).map(frozenset),
)
_finite = {"allow_nan": False, "allow_infinity": False}
_grants = st.fixed_dictionaries(
    {
        "cosine_similarity": st.floats(-1.0, 1.0, **_finite),
        "countries": _subset(["DE", "FR", "IT", "ES"]),
        "nace_codes": _subset(_NACE_POOL, 2),
        "sizes": _subset(COMPANY_SIZES),
        "carbon_categories": _subset(CARBON_CATEGORIES),
        "certifications": _subset(CERTIFICATIONS, 2),
        "taxonomy_objectives": _subset(TAXONOMY_OBJECTIVES),
        "is_carbon_focused": st.booleans(),
        "days_left": st.one_of(st.none(), st.integers(-30, 400)),
        "peer_signal": st.floats(-50.0, 50.0, **_finite),
        "peers_saved": st.integers(0, 20),
    }
)


@settings(max_examples=150, deadline=None)
@given(company=_companies, grants=st.lists(_grants, max_size=12))
def test_scores_stay_in_range_and_respect_disqualification(company, grants):
    cands = candidates(*grants)
    table = score_grants_for_company(company, cands)
    for name in (*COMPONENT_WEIGHTS, "country", "nace", "size", "categories", "certification", "taxonomy"):
        values = getattr(table, name)
        assert np.all((values >= 0.0) & (values <= 1.0)), name
    assert np.all((table.total >= 0.0) & (table.total <= 1.0))
    assert np.all(table.total[~table.eligible] == 0.0)
    assert np.all(table.total[table.disqualified] == 0.0)
    assert np.all(table.total <= 1.0)
    plain = table.eligible & ~cands.is_carbon_focused
    np.testing.assert_allclose(table.total[plain], table.weighted_total[plain])
    boosted = table.carbon_bonus_applied
    np.testing.assert_allclose(table.total[boosted], np.minimum(table.weighted_total[boosted] * 1.2, 1.0))
    for i, grant in enumerate(grants):
        expected = bool(grant["countries"]) and company.country not in grant["countries"]
        expected |= bool(grant["sizes"]) and company.size not in grant["sizes"]
        assert table.disqualified[i] == expected
        explanation = explain_grant_match(company, cands, table, i)
        assert json.loads(json.dumps(explanation.breakdown))["total"] == float(np.round(table.total[i], 6))


@settings(max_examples=100, deadline=None)
@given(
    company=_companies,
    grants=st.lists(_grants, max_size=15),
    limit=st.one_of(st.none(), st.integers(0, 20)),
    min_score=st.floats(0.0, 1.0, **_finite),
)
def test_ranking_is_sorted_and_respects_limit_and_min_score(company, grants, limit, min_score):
    table = score_grants_for_company(company, candidates(*grants))
    ranked = rank_grant_matches(table, limit=limit, min_score=min_score)
    totals = table.total[ranked]
    assert np.all(table.eligible[ranked])
    assert np.all(totals >= min_score)
    assert all(
        totals[k] > totals[k + 1] or (totals[k] == totals[k + 1] and ranked[k] < ranked[k + 1])
        for k in range(len(ranked) - 1)
    )
    qualifying = int(np.sum(table.eligible & (table.total >= min_score)))
    assert len(ranked) == (qualifying if limit is None else min(limit, qualifying))
