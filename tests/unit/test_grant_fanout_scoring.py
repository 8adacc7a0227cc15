"""Scoring one grant against many companies (the fan-out) equals each company's own scoring of that grant."""

import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_app.matching.grants import (
    CompanyCandidates,
    CompanyProfile,
    GrantProfile,
    explain_company_matches,
    explain_grant_match,
    score_companies_for_grant,
    score_grants_for_company,
)
from graphql_app.matching.vocabulary import CARBON_CATEGORIES, CERTIFICATIONS, TAXONOMY_OBJECTIVES

COUNTRIES = ("DE", "FR", "SE", "NL")
SIZES = ("MICRO", "SMALL", "MEDIUM", "LARGE")
NACE = ("C27.11", "M71.12", "D35.11", "C20.1", "A01", "J62.01")

small_sets = lambda values: st.frozensets(st.sampled_from(values), max_size=3)  # noqa: E731

companies = st.builds(
    CompanyProfile,
    country=st.sampled_from(COUNTRIES),
    nace_codes=st.lists(st.sampled_from(NACE), max_size=3).map(tuple),
    size=st.sampled_from(SIZES),
    carbon_categories=small_sets(CARBON_CATEGORIES),
    certifications=small_sets(CERTIFICATIONS),
    taxonomy_objectives=small_sets(TAXONOMY_OBJECTIVES),
)
grants = st.builds(
    GrantProfile,
    id=st.just("g"),
    countries=small_sets(COUNTRIES),
    nace_codes=st.lists(st.sampled_from(NACE), max_size=3).map(tuple),
    sizes=small_sets(SIZES),
    carbon_categories=small_sets(CARBON_CATEGORIES),
    certifications=small_sets(CERTIFICATIONS),
    taxonomy_objectives=small_sets(TAXONOMY_OBJECTIVES),
    is_carbon_focused=st.booleans(),
    days_left=st.one_of(st.just(math.nan), st.integers(-5, 400).map(float)),
)
unit = st.floats(-1.0, 1.0, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    grant=grants,
    rows=st.lists(st.tuples(companies, unit, st.floats(-3, 3, allow_nan=False), st.integers(0, 4)), min_size=1),
)
def test_both_directions_give_identical_scores_and_reasons(grant, rows):
    profiles = [row[0] for row in rows]
    fanout = CompanyCandidates.from_profiles(
        range(len(rows)), profiles, [r[1] for r in rows], [r[2] for r in rows], [r[3] for r in rows]
    )
    table = score_companies_for_grant(grant, fanout)
    for j, (company, cosine, signal, saved) in enumerate(rows):
        own_candidates = grant.candidates(cosine, signal, saved)
        own = score_grants_for_company(company, own_candidates)
        for name in ("total", "semantic", "rule", "carbon", "collaborative", "recency", "eligible", "closed"):
            assert getattr(table, name)[j] == getattr(own, name)[0], name
        own_explanation = explain_grant_match(company, own_candidates, own, 0)
        assert explain_company_matches(grant, fanout, table, [j]) == [own_explanation]
    # Explaining all of them at once (the fan-out's way: each reason part worded once) changes nothing.
    everyone = range(len(rows))
    assert explain_company_matches(grant, fanout, table, everyone) == [
        explain_company_matches(grant, fanout, table, [j])[0] for j in everyone
    ]


def test_an_ineligible_company_scores_zero():
    grant = GrantProfile(id="g", countries=frozenset({"DE"}))
    table = score_companies_for_grant(
        grant,
        CompanyCandidates.from_profiles(
            ["de", "fr"],
            [CompanyProfile(country="DE", nace_codes=(), size="SMALL"), CompanyProfile("FR", (), "SMALL")],
            [0.5, 0.5],
        ),
    )
    assert table.eligible.tolist() == [True, False]
    assert table.total[1] == 0.0 and table.total[0] > 0
    assert np.all(table.total >= 0)
