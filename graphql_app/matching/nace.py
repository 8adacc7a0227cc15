"""NACE activity codes: normalisation, hierarchy and the NACE part of grant scoring (see docs/matching.md).

Canonical form is the NACE Rev. 2 section letter followed by the digits: ``"M"``, ``"M71"``, ``"M71.1"``,
``"M71.12"``. Input may omit the letter (``"71.12"``) or carry the NACE Rev. 2.1 section letter of the
division (``"N71.12"``); the output always carries the Rev. 2 letter, derived from the division.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from functools import cache, lru_cache
from importlib import resources

#: NACE Rev. 2 sections: letter, first and last division, name.
_REV2_SECTIONS: tuple[tuple[str, int, int, str], ...] = (
    ("A", 1, 3, "Agriculture, forestry and fishing"),
    ("B", 5, 9, "Mining and quarrying"),
    ("C", 10, 33, "Manufacturing"),
    ("D", 35, 35, "Electricity, gas, steam and air conditioning supply"),
    ("E", 36, 39, "Water supply; sewerage, waste management and remediation activities"),
    ("F", 41, 43, "Construction"),
    ("G", 45, 47, "Wholesale and retail trade; repair of motor vehicles and motorcycles"),
    ("H", 49, 53, "Transportation and storage"),
    ("I", 55, 56, "Accommodation and food service activities"),
    ("J", 58, 63, "Information and communication"),
    ("K", 64, 66, "Financial and insurance activities"),
    ("L", 68, 68, "Real estate activities"),
    ("M", 69, 75, "Professional, scientific and technical activities"),
    ("N", 77, 82, "Administrative and support service activities"),
    ("O", 84, 84, "Public administration and defence; compulsory social security"),
    ("P", 85, 85, "Education"),
    ("Q", 86, 88, "Human health and social work activities"),
    ("R", 90, 93, "Arts, entertainment and recreation"),
    ("S", 94, 96, "Other service activities"),
    (
        "T",
        97,
        98,
        "Activities of households as employers; undifferentiated goods- and services-producing "
        "activities of households for own use",
    ),
    ("U", 99, 99, "Activities of extraterritorial organisations and bodies"),
)

#: Rev. 2 division ("71") -> section letter ("M"). Only these divisions exist (00, 04, 34, 40, ... do not).
REV2_SECTION_OF_DIVISION: dict[str, str] = {
    f"{division:02d}": letter for letter, first, last, _name in _REV2_SECTIONS for division in range(first, last + 1)
}

_REV2_SECTION_NAMES: dict[str, str] = {letter: name for letter, _f, _l, name in _REV2_SECTIONS}

#: Score of a (company, grant) code pair by the deepest level they share (1 section ... 3 group).
_SHARED_LEVEL_SCORES: dict[int, float] = {0: 0.0, 1: 0.3, 2: 0.7, 3: 0.85}
COVERED_SCORE = 1.0
UNRESTRICTED_SCORE = 0.5

_CODE_PATTERN = re.compile(r"(?P<letter>[A-Z])?(?P<division>\d{2})(?:\.(?P<rest>\d{1,2}))?")


class InvalidNaceCode(ValueError):
    """A string that is not a NACE code."""

    def __init__(self, code: object, reason: str) -> None:
        self.code = code
        self.reason = reason
        super().__init__(f"{code!r} is not a NACE code: {reason}")


@cache
def _rev21_catalogue() -> tuple[dict[str, str], dict[str, str]]:
    """Rev. 2.1 division -> section letter, and code digits -> name, from naceconverter's list."""
    section_of_division: dict[str, str] = {}
    names: dict[str, str] = {}
    try:
        text = resources.files("naceconverter").joinpath("nacecodes.csv").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError, OSError):
        return section_of_division, names
    for row in csv.DictReader(text.splitlines(), delimiter=";"):
        code = (row.get("code") or "").strip()
        name = (row.get("name") or "").strip()
        if row.get("level") == "2":
            section_of_division[code] = (row.get("parentCode") or "").strip()
        if code and name:
            names[code] = name
    return section_of_division, names


def rev21_section_of_division(division: str) -> str | None:
    """The NACE Rev. 2.1 section letter of a two-digit division, or None when 2.1 has no such division."""
    return _rev21_catalogue()[0].get(division)


@lru_cache(maxsize=4096)
def normalise_nace_code(code: str) -> str:
    """The canonical form (Rev. 2 section letter + digits) of a NACE code; raises InvalidNaceCode.

    Accepts ``"M71.12"``, ``"71.12"``, ``" m71.12 "``, ``"N71.12"`` (Rev. 2.1 letter) and bare section
    letters ``"A"`` to ``"U"`` (read as Rev. 2 sections).
    """
    if not isinstance(code, str):
        raise InvalidNaceCode(code, "expected a string")
    text = code.strip().upper()
    if len(text) == 1 and text.isalpha():
        if text in _REV2_SECTION_NAMES:
            return text
        raise InvalidNaceCode(code, "sections run from A to U")
    match = _CODE_PATTERN.fullmatch(text)
    if match is None:
        expected = "an optional section letter, two division digits, optionally '.' and 1-2 digits"
        raise InvalidNaceCode(code, f"expected {expected}")
    letter, division, rest = match.group("letter"), match.group("division"), match.group("rest")
    section = REV2_SECTION_OF_DIVISION.get(division)
    if section is None:
        raise InvalidNaceCode(code, f"there is no division {division}")
    if letter is not None and letter != section and letter != rev21_section_of_division(division):
        raise InvalidNaceCode(code, f"division {division} belongs to section {section}, not {letter}")
    return f"{section}{division}" + (f".{rest}" if rest else "")


@lru_cache(maxsize=4096)
def nace_levels(code: str) -> tuple[str, ...]:
    """The code's ancestors from section down, itself last: ``"M71.12"`` -> M, M71, M71.1, M71.12."""
    canonical = normalise_nace_code(code)
    levels = [canonical[0]]
    if len(canonical) >= 3:
        levels.append(canonical[:3])
    if len(canonical) >= 5:
        levels.append(canonical[:5])
    if len(canonical) == 6:
        levels.append(canonical)
    return tuple(levels)


def nace_code_name(code: str) -> str | None:
    """A human-readable name for a code, or None when none is known (best effort; valid codes never raise).

    Sections use the Rev. 2 names; divisions, groups and classes are looked up by their digits in
    naceconverter's Rev. 2.1 list, so a few names follow Rev. 2.1 wording.
    """
    canonical = normalise_nace_code(code)
    if len(canonical) == 1:
        return _REV2_SECTION_NAMES.get(canonical)
    return _rev21_catalogue()[1].get(canonical[1:])


def _shared_depth(a: tuple[str, ...], b: tuple[str, ...]) -> int:
    depth = 0
    for level_a, level_b in zip(a, b, strict=False):
        if level_a != level_b:
            break
        depth += 1
    return depth


def nace_pair_overlap(company_code: str, grant_code: str) -> tuple[float, str | None]:
    """Score of one (company code, grant code) pair and the deepest code they share (None if nothing).

    1.0 when the grant's code covers the company's (ancestor or equal); otherwise by the deepest shared
    level: group 0.85, division 0.7, section 0.3, nothing 0.0.
    """
    company_levels, grant_levels = nace_levels(company_code), nace_levels(grant_code)
    depth = _shared_depth(company_levels, grant_levels)
    if depth == 0:
        return 0.0, None
    if depth == len(grant_levels):
        return COVERED_SCORE, grant_levels[-1]
    return _SHARED_LEVEL_SCORES[depth], grant_levels[depth - 1]


def nace_pair_score(company_code: str, grant_code: str) -> float:
    """Score of one (company code, grant code) pair (see ``nace_pair_overlap``)."""
    return nace_pair_overlap(company_code, grant_code)[0]


def best_nace_overlap(company_codes: Iterable[str], grant_codes: Iterable[str]) -> tuple[float, str | None]:
    """The best pair score over all (company, grant) code pairs and the shared code to name in a reason.

    A grant without codes is unrestricted: (0.5, None). A company without codes against a restricting
    grant: (0.0, None). Ties keep the first pair (company codes outer, grant codes inner).
    """
    grant_codes = tuple(grant_codes)
    if not grant_codes:
        return UNRESTRICTED_SCORE, None
    best: tuple[float, str | None] = (0.0, None)
    for company_code in company_codes:
        for grant_code in grant_codes:
            overlap = nace_pair_overlap(company_code, grant_code)
            if overlap[0] > best[0]:
                best = overlap
                if best[0] == COVERED_SCORE:
                    return best
    return best


def nace_score(company_codes: Iterable[str], grant_codes: Iterable[str]) -> float:
    """The NACE sub-score (docs/matching.md): best pair score, 0.5 for an unrestricted grant."""
    return best_nace_overlap(company_codes, grant_codes)[0]
