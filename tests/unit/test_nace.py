"""NACE code normalisation, hierarchy, names and pair scores (see docs/matching.md, rule component)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graphql_app.matching.nace import (
    REV2_SECTION_OF_DIVISION,
    InvalidNaceCode,
    best_nace_overlap,
    nace_code_name,
    nace_levels,
    nace_pair_score,
    nace_score,
    normalise_nace_code,
    rev21_section_of_division,
)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("M71.12", "M71.12"),
        ("71.12", "M71.12"),
        ("m71.12", "M71.12"),
        ("  M71.12 ", "M71.12"),
        ("M71.1", "M71.1"),
        ("71.1", "M71.1"),
        ("M71", "M71"),
        ("71", "M71"),
        ("M", "M"),
        ("m", "M"),
        ("01.11", "A01.11"),
        ("35.11", "D35.11"),
        ("45.20", "G45.20"),  # division 45 exists in Rev. 2 only
        ("99", "U99"),
        ("62.01", "J62.01"),
    ],
)
def test_normalise_accepts_rev2_codes_with_or_without_letter(raw, canonical):
    assert normalise_nace_code(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("N71.12", "M71.12"),  # Rev. 2.1 puts division 71 in section N
        ("K62.01", "J62.01"),
        ("L64.19", "K64.19"),
        ("V99", "U99"),
        ("M68", "L68"),
    ],
)
def test_normalise_accepts_rev21_letter_and_outputs_rev2_letter(raw, canonical):
    assert normalise_nace_code(raw) == canonical


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("Z99", "division 99 belongs to section U, not Z"),
        ("A71.12", "division 71 belongs to section M, not A"),
        ("N45", "division 45 belongs to section G, not N"),  # no Rev. 2.1 division 45
        ("00", "there is no division 00"),
        ("04.1", "there is no division 04"),
        ("M34", "there is no division 34"),
        ("V", "sections run from A to U"),
        ("", "expected"),
        ("M 71.12", "expected"),
        ("M71.123", "expected"),
        ("M7", "expected"),
        ("M71.", "expected"),
        ("7112", "expected"),
        ("MM71", "expected"),
    ],
)
def test_normalise_rejects_invalid_codes_with_clear_message(raw, fragment):
    with pytest.raises(InvalidNaceCode) as error:
        normalise_nace_code(raw)
    message = str(error.value)
    assert message.startswith(f"{raw!r} is not a NACE code: ")
    assert fragment in message


def test_invalid_nace_code_is_a_value_error_and_rejects_non_strings():
    assert issubclass(InvalidNaceCode, ValueError)
    with pytest.raises(InvalidNaceCode, match="expected a string"):
        normalise_nace_code(71)  # type: ignore[arg-type]


def test_rev2_division_table_matches_the_official_ranges():
    assert len(REV2_SECTION_OF_DIVISION) == 88
    assert REV2_SECTION_OF_DIVISION["71"] == "M"
    assert REV2_SECTION_OF_DIVISION["45"] == "G"
    assert REV2_SECTION_OF_DIVISION["68"] == "L"
    assert REV2_SECTION_OF_DIVISION["84"] == "O"
    missing = {f"{d:02d}" for d in range(100)} - set(REV2_SECTION_OF_DIVISION)
    assert missing == {"00", "04", "34", "40", "44", "48", "54", "57", "67", "76", "83", "89"}


def test_rev21_sections_come_from_naceconverter():
    assert rev21_section_of_division("71") == "N"
    assert rev21_section_of_division("99") == "V"
    assert rev21_section_of_division("45") is None


@pytest.mark.parametrize(
    ("code", "levels"),
    [
        ("M71.12", ("M", "M71", "M71.1", "M71.12")),
        ("71.12", ("M", "M71", "M71.1", "M71.12")),
        ("M71.1", ("M", "M71", "M71.1")),
        ("M71", ("M", "M71")),
        ("M", ("M",)),
    ],
)
def test_nace_levels_from_section_down(code, levels):
    assert nace_levels(code) == levels


def test_nace_code_names():
    assert nace_code_name("M71.12") == "Engineering activities and related technical consultancy"
    assert nace_code_name("71") == "Architectural and engineering activities; technical testing and analysis"
    assert nace_code_name("M") == "Professional, scientific and technical activities"
    assert nace_code_name("G45") is None  # not in the Rev. 2.1 list: best effort, no error
    with pytest.raises(InvalidNaceCode):
        nace_code_name("Z99")


@pytest.mark.parametrize(
    ("company", "grant", "score"),
    [
        ("M71.12", "M71.12", 1.0),  # equal
        ("M71.12", "M71.1", 1.0),  # grant group covers company class
        ("M71.12", "M71", 1.0),  # grant division covers
        ("M71.12", "M", 1.0),  # grant section covers
        ("M71.12", "M71.11", 0.85),  # same group
        ("M71.1", "M71.12", 0.85),  # company broader, shares the group
        ("M71.12", "M71.2", 0.7),  # same division
        ("M71", "M71.12", 0.7),  # company broader, shares the division
        ("M71.12", "M72.1", 0.3),  # same section
        ("M", "M71", 0.3),
        ("M71.12", "C25.1", 0.0),  # nothing shared
        ("71.12", "M71", 1.0),  # letterless input normalised
        ("N71.12", "71.12", 1.0),
    ],
)
def test_nace_pair_score_at_every_level(company, grant, score):
    assert nace_pair_score(company, grant) == score


def test_nace_score_takes_the_best_pair():
    assert nace_score(["C25.1", "M71.12"], ["M72", "M71.13"]) == 0.85
    assert nace_score(["C25.1", "M71.12"], ["M71"]) == 1.0
    assert nace_score(["C25.1"], ["M71"]) == 0.0


def test_nace_score_unrestricted_grant_and_company_without_codes():
    assert nace_score(["M71.12"], []) == 0.5
    assert nace_score([], []) == 0.5
    assert nace_score([], ["M71"]) == 0.0


@pytest.mark.parametrize(
    ("company", "grant", "expected"),
    [
        (["M71.12"], ["M71"], (1.0, "M71")),
        (["M71.12"], ["M71.12"], (1.0, "M71.12")),
        (["M71.12"], ["M71.13"], (0.85, "M71.1")),
        (["M71"], ["M71.12"], (0.7, "M71")),
        (["M71.12"], ["M72"], (0.3, "M")),
        (["M71.12"], ["C25"], (0.0, None)),
        (["M71.12"], [], (0.5, None)),
        ([], ["M71"], (0.0, None)),
        (["C25", "71.12"], ["M72", "M71"], (1.0, "M71")),
    ],
)
def test_best_nace_overlap_names_the_shared_code(company, grant, expected):
    assert best_nace_overlap(company, grant) == expected


_valid_codes = st.sampled_from(sorted(REV2_SECTION_OF_DIVISION)).flatmap(
    lambda division: st.sampled_from([division, f"{division}.1", f"{division}.12", f"{division}.3", f"{division}.31"])
)


@given(company=_valid_codes, grant=_valid_codes)
def test_pair_score_properties(company, grant):
    score = nace_pair_score(company, grant)
    assert score in {0.0, 0.3, 0.7, 0.85, 1.0}
    assert nace_pair_score(company, company) == 1.0
    assert normalise_nace_code(normalise_nace_code(company)) == normalise_nace_code(company)
    if score == 1.0 and company != grant:
        assert nace_levels(grant) == nace_levels(company)[: len(nace_levels(grant))]
