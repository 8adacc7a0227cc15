"""The demo dataset: deterministic, within the vocabularies, and spread enough to show every feature."""

from __future__ import annotations

import csv
import re
import time
from collections import Counter
from dataclasses import astuple
from pathlib import Path

import naceconverter
import pycountry
import pytest

from graphql_app.demo.dataset import (
    DEMO_COUNTRIES,
    DEMO_TENANTS,
    DemoCompany,
    DemoGrant,
    generate_demo_companies,
    generate_demo_grants,
)
from graphql_app.matching.vocabulary import (
    CARBON_CATEGORIES,
    CERTIFICATIONS,
    COMPANY_SIZES,
    TAXONOMY_OBJECTIVES,
    size_for_headcount,
)

NACE_FORMAT = re.compile(r"^[A-U]\d{2}(\.\d{1,2})?$")

# NACE Rev. 2 sections by division (the demo data writes codes with Rev. 2 section letters).
_REV2_SECTIONS = {
    "A": (1, 3), "B": (5, 9), "C": (10, 33), "D": (35, 35), "E": (36, 39), "F": (41, 43), "G": (45, 47),
    "H": (49, 53), "I": (55, 56), "J": (58, 63), "K": (64, 66), "L": (68, 68), "M": (69, 75), "N": (77, 82),
    "O": (84, 84), "P": (85, 85), "Q": (86, 88), "R": (90, 93), "S": (94, 96), "T": (97, 98), "U": (99, 99),
}  # fmt: skip


@pytest.fixture(scope="module")
def companies() -> list[DemoCompany]:
    return generate_demo_companies()


@pytest.fixture(scope="module")
def grants() -> list[DemoGrant]:
    return generate_demo_grants()


@pytest.fixture(scope="module")
def many_companies() -> list[DemoCompany]:
    """Large enough to reach every template option at least once."""
    return generate_demo_companies(seed=99, count=5000)


@pytest.fixture(scope="module")
def many_grants() -> list[DemoGrant]:
    return generate_demo_grants(seed=99, count=5000)


@pytest.fixture(scope="module")
def nace_list() -> set[str]:
    path = Path(naceconverter.__file__).parent / "nacecodes.csv"
    with path.open(encoding="utf-8", errors="replace", newline="") as handle:
        return {row["code"] for row in csv.DictReader(handle, delimiter=";")}


def _check_nace_set(codes: tuple[str, ...], nace_list: set[str]) -> None:
    for code in codes:
        _check_nace(code, nace_list)
        assert not any(other != code and code.startswith(other) for other in codes), codes


def _check_nace(code: str, nace_list: set[str]) -> None:
    assert NACE_FORMAT.match(code), code
    section, digits = code[0], code[1:]
    assert digits in nace_list, f"{code}: {digits} not in naceconverter's list"
    low, high = _REV2_SECTIONS[section]
    assert low <= int(digits[:2]) <= high, f"{code}: division {digits[:2]} is not in Rev. 2 section {section}"


def test_nace_codes_are_canonical_for_the_matching_module(many_companies, many_grants):
    """The project's NACE module keeps every demo code unchanged (Rev. 2 letter + digits) and can name it."""
    from graphql_app.matching.nace import nace_code_name, normalise_nace_code

    codes = {code for c in many_companies for code in c.nace_codes}
    codes |= {code for g in many_grants for code in g.nace_codes}
    for code in codes:
        assert normalise_nace_code(code) == code
        assert nace_code_name(code)


# --- determinism and counts -------------------------------------------------------------------------------


def test_defaults_and_counts(companies, grants):
    assert len(companies) == 200
    assert len(grants) == 300
    assert len(generate_demo_companies(seed=3, count=17)) == 17
    assert len(generate_demo_grants(seed=3, count=23)) == 23
    assert generate_demo_companies(count=0) == []
    assert generate_demo_grants(count=0) == []


def test_same_seed_same_output(companies, grants):
    assert generate_demo_companies(seed=7, count=200) == companies
    assert generate_demo_grants(seed=7, count=300) == grants


def test_different_seed_different_output(companies, grants):
    assert generate_demo_companies(seed=8, count=200) != companies
    assert generate_demo_grants(seed=8, count=300) != grants


def test_prefix_stability():
    """A smaller count is a prefix of a larger one for the same seed (handy for benchmarks)."""
    assert generate_demo_companies(seed=5, count=50) == generate_demo_companies(seed=5, count=120)[:50]
    assert generate_demo_grants(seed=5, count=50) == generate_demo_grants(seed=5, count=120)[:50]


def test_items_are_frozen_and_hashable(companies, grants):
    assert len(set(companies)) == len(companies)
    assert len(set(grants)) == len(grants)
    with pytest.raises(AttributeError):
        companies[0].name = "x"  # type: ignore[misc]


# --- companies --------------------------------------------------------------------------------------------


def test_both_tenants_present(companies):
    per_tenant = Counter(c.tenant for c in companies)
    assert set(per_tenant) == set(DEMO_TENANTS)
    assert min(per_tenant.values()) >= len(companies) // 4


@pytest.mark.parametrize("seed,count", [(7, 200), (1, 2000), (42, 5000)])
def test_company_names_unique_per_tenant(seed, count):
    data = generate_demo_companies(seed=seed, count=count)
    keys = [(c.tenant, c.name) for c in data]
    assert len(keys) == len(set(keys))


@pytest.mark.parametrize("sample", ["companies", "many_companies"])
def test_company_fields_within_vocabularies(sample, request, nace_list):
    for c in request.getfixturevalue(sample):
        assert c.tenant in DEMO_TENANTS
        assert c.name and c.name == c.name.strip()
        assert pycountry.countries.get(alpha_2=c.country) is not None, c.country
        assert c.country in DEMO_COUNTRIES
        assert c.size in COMPANY_SIZES
        assert c.employees >= 1
        assert c.size == size_for_headcount(c.employees)
        assert c.carbon_categories and set(c.carbon_categories) <= set(CARBON_CATEGORIES)
        assert set(c.certifications) <= set(CERTIFICATIONS)
        assert c.taxonomy_objectives and set(c.taxonomy_objectives) <= set(TAXONOMY_OBJECTIVES)
        for values in (c.carbon_categories, c.certifications, c.taxonomy_objectives, c.nace_codes):
            assert len(values) == len(set(values))
        assert c.nace_codes
        _check_nace_set(c.nace_codes, nace_list)


def test_company_descriptions_read_well(companies, many_companies):
    for c in many_companies:
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", c.description) if s]
        assert 1 <= len(sentences) <= 3, c.description
        assert "{" not in c.description and "}" not in c.description
        assert c.description[0].isupper()
    assert len({c.description for c in companies}) > len(companies) * 0.9


def test_company_spread(companies):
    assert len({c.country for c in companies}) >= 12
    assert {c.size for c in companies} == set(COMPANY_SIZES)
    assert len({c.carbon_categories[0] for c in companies}) >= 8
    assert any(c.certifications for c in companies)
    assert any(not c.certifications for c in companies)


# --- grants -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", ["grants", "many_grants"])
def test_grant_fields_within_vocabularies(sample, request, nace_list):
    for g in request.getfixturevalue(sample):
        assert g.title and g.funder
        for country in g.countries:
            assert pycountry.countries.get(alpha_2=country) is not None, country
        assert set(g.sizes) <= set(COMPANY_SIZES)
        assert set(g.carbon_categories) <= set(CARBON_CATEGORIES)
        assert set(g.certifications) <= set(CERTIFICATIONS)
        assert set(g.taxonomy_objectives) <= set(TAXONOMY_OBJECTIVES)
        _check_nace_set(g.nace_codes, nace_list)
        assert g.currency in {"EUR", "SEK", "PLN", "DKK"}
        assert g.url.startswith("https://") and " " not in g.url
        if g.amount_min is not None:
            assert g.amount_max is not None and 0 < g.amount_min <= g.amount_max
        if g.amount_max is not None:
            assert g.amount_max > 0
        sentences = [s for s in re.split(r"(?<=[.!?])\s+", g.description) if s]
        assert 2 <= len(sentences) <= 4, g.description
        if g.is_carbon_focused:
            assert g.carbon_categories


def test_grant_titles_unique(grants):
    assert len({g.title for g in grants}) == len(grants)


def test_deadline_spread(grants):
    deadlines = [g.deadline_in_days for g in grants]
    rolling = sum(d is None for d in deadlines)
    closed = sum(d is not None and d < 0 for d in deadlines)
    soon = sum(d is not None and 0 <= d <= 30 for d in deadlines)
    later = sum(d is not None and d > 180 for d in deadlines)
    middle = sum(d is not None and 30 < d <= 180 for d in deadlines)
    assert rolling and closed and soon and later
    assert 0.08 <= rolling / len(grants) <= 0.25
    assert 0.01 <= closed / len(grants) <= 0.12
    assert middle > len(grants) / 3


def test_grant_spread(grants):
    funders = Counter(g.funder for g in grants)
    assert len(funders) >= 15
    assert any(not g.countries for g in grants), "EU-wide programmes"
    assert any(len(g.countries) == 1 for g in grants), "national funders"
    assert any(not g.nace_codes for g in grants) and any(g.nace_codes for g in grants)
    assert any(not g.sizes for g in grants) and any(g.sizes == ("MICRO", "SMALL", "MEDIUM") for g in grants)
    assert any(g.is_carbon_focused for g in grants) and any(not g.is_carbon_focused for g in grants)
    assert any(g.certifications for g in grants) and any(not g.certifications for g in grants)
    assert {g.currency for g in grants} >= {"EUR", "SEK", "PLN", "DKK"}
    assert sum(g.currency == "EUR" for g in grants) > len(grants) / 2


def test_national_funders_are_national(grants):
    national = {"KfW": "DE", "Bpifrance": "FR", "RVO": "NL", "Vinnova": "SE", "NCBR": "PL", "CDTI": "ES"}
    for g in grants:
        if g.funder in national:
            assert g.countries == (national[g.funder],)
        if g.funder in {"Horizon Europe", "LIFE Programme", "European Innovation Council", "Innovation Fund"}:
            assert g.countries == ()
            assert g.currency == "EUR"


def test_companies_find_relevant_grants(companies, grants):
    """Every company has open grants it is eligible for that share one of its carbon categories."""
    open_grants = [g for g in grants if g.deadline_in_days is None or g.deadline_in_days >= 0]
    without = []
    for c in companies:
        if not any(
            (not g.countries or c.country in g.countries)
            and (not g.sizes or c.size in g.sizes)
            and set(g.carbon_categories) & set(c.carbon_categories)
            for g in open_grants
        ):
            without.append(c)
    assert not without, without[:3]


# --- scale ------------------------------------------------------------------------------------------------


def test_default_generation_is_fast():
    start = time.perf_counter()
    generate_demo_companies()
    generate_demo_grants()
    assert time.perf_counter() - start < 1.0


def test_large_counts_are_feasible():
    start = time.perf_counter()
    data = generate_demo_companies(seed=11, count=20_000)
    grants = generate_demo_grants(seed=11, count=20_000)
    assert time.perf_counter() - start < 6.0
    assert len({(c.tenant, c.name) for c in data}) == len(data)
    assert len({g.title for g in grants}) == len(grants)
    assert all(astuple(g) for g in grants[:10])
