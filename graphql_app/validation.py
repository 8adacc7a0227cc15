"""Input validation shared by every write path; raises :class:`BadUserInput` with a readable message."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Iterable

import pycountry

from graphql_app.errors import BadUserInput
from graphql_app.matching.nace import InvalidNaceCode, normalise_nace_code
from graphql_app.matching.vocabulary import (
    CARBON_CATEGORIES,
    CERTIFICATIONS,
    COMPANY_SIZES,
    TAXONOMY_OBJECTIVES,
)

#: The longest text each input field accepts (characters); any other text field: DEFAULT_TEXT_LIMIT.
TEXT_LIMITS = {
    "name": 300,
    "title": 500,
    "display_name": 200,
    "headline": 300,
    "funder": 300,
    "url": 2_000,
    "country": 64,
    "currency": 64,
    "skill": 100,
    "trait": 100,
    "comments": 5_000,
    "notes": 5_000,
    "bio": 10_000,
    "culture_statement": 10_000,
    "description": 20_000,
}
DEFAULT_TEXT_LIMIT = 1_000
#: The most items any list in an input may hold (skills, values, NACE codes, categories, …).
LIST_LIMIT = 200
#: Money amounts (grants) must be finite and at most this much.
MAX_AMOUNT = 1e12
#: Grant deadlines must fall in this range (UTC).
EARLIEST_DEADLINE = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
LATEST_DEADLINE = dt.datetime(2200, 1, 1, tzinfo=dt.UTC)
#: Offsets a catalogue cursor may name.
MAX_OFFSET = 1_000_000_000


def camel_case(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def bounded_text(value: str, name: str) -> str:
    """Input text within its field's length limit (``name`` in snake_case) and storable by PostgreSQL."""
    limit = TEXT_LIMITS.get(name, DEFAULT_TEXT_LIMIT)
    if len(value) > limit:
        field = camel_case(name)
        raise BadUserInput(f"{field} is longer than {limit} characters ({len(value)}).", field=field)
    return storable_text(value, camel_case(name))


def bounded_list(values: list, name: str) -> list:
    if len(values) > LIST_LIMIT:
        field = camel_case(name)
        raise BadUserInput(f"{field} has more than {LIST_LIMIT} items ({len(values)}).", field=field)
    return values


def amount(value: float | None, field: str) -> float | None:
    if value is None:
        return None
    if not math.isfinite(value) or not 0 <= value <= MAX_AMOUNT:
        raise BadUserInput(f"{field} must be between 0 and {MAX_AMOUNT:,.0f}.", field=field)
    return value


def deadline(value: dt.datetime | None, field: str = "deadline") -> dt.datetime | None:
    if value is None:
        return None
    if value.tzinfo is None:
        raise BadUserInput(f"{field} must carry a time zone (ISO 8601 with offset or Z).", field=field)
    try:
        in_range = EARLIEST_DEADLINE <= value < LATEST_DEADLINE
    except OverflowError:
        in_range = False
    if not in_range:
        raise BadUserInput(f"{field} must fall between 1970 and 2199.", field=field)
    return value


def date_within(value: dt.date | None, field: str, *, earliest: dt.date, latest: dt.date) -> dt.date | None:
    if value is not None and not earliest <= value <= latest:
        raise BadUserInput(f"{field} must fall between {earliest} and {latest}.", field=field)
    return value


def parse_uuid(value: str, what: str = "id") -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except (ValueError, TypeError, AttributeError):
        raise BadUserInput(f"{what} {value!r} is not a valid UUID.", field=what) from None


def country_code(value: str, field: str = "country") -> str:
    code = (value or "").strip().upper()
    if len(code) != 2 or pycountry.countries.get(alpha_2=code) is None:
        raise BadUserInput(f"{value!r} is not an ISO 3166-1 alpha-2 country code (e.g. 'DE').", field=field)
    return code


def country_codes(values: Iterable[str], field: str = "countries") -> list[str]:
    return sorted({country_code(v, field) for v in values})


def nace_codes(values: Iterable[str], field: str = "naceCodes") -> list[str]:
    out: list[str] = []
    for value in values:
        try:
            code = normalise_nace_code(value)
        except InvalidNaceCode as exc:
            raise BadUserInput(str(exc), field=field) from None
        if code not in out:
            out.append(code)
    return out


def _from_vocabulary(values: Iterable[str], vocabulary: tuple[str, ...], field: str, what: str) -> list[str]:
    out: list[str] = []
    for value in values:
        if value not in vocabulary:
            raise BadUserInput(f"{value!r} is not a known {what}; use one of: {', '.join(vocabulary)}.", field=field)
        if value not in out:
            out.append(value)
    return out


def carbon_categories(values: Iterable[str], field: str = "carbonCategories") -> list[str]:
    return _from_vocabulary(values, CARBON_CATEGORIES, field, "carbon category")


def certifications(values: Iterable[str], field: str = "certifications") -> list[str]:
    return _from_vocabulary(values, CERTIFICATIONS, field, "certification")


def taxonomy_objectives(values: Iterable[str], field: str = "taxonomyObjectives") -> list[str]:
    return _from_vocabulary(values, TAXONOMY_OBJECTIVES, field, "EU taxonomy objective")


def sizes(values: Iterable[str], field: str = "sizes") -> list[str]:
    return _from_vocabulary(values, COMPANY_SIZES, field, "company size")


def currency_code(value: str, field: str = "currency") -> str:
    code = (value or "").strip().upper()
    if pycountry.currencies.get(alpha_3=code) is None:
        raise BadUserInput(f"{value!r} is not an ISO 4217 currency code (e.g. 'EUR').", field=field)
    return code


def storable_text(value: str, field: str) -> str:
    """Refuse text PostgreSQL cannot store (NUL bytes, lone surrogates) instead of failing at INSERT time."""
    if "\x00" in value:
        raise BadUserInput(f"{field} must not contain NUL characters.", field=field)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadUserInput(f"{field} is not valid Unicode text.", field=field) from None
    return value


def non_blank(value: str, field: str, max_length: int = 10_000) -> str:
    text = storable_text((value or "").strip(), field)
    if not text:
        raise BadUserInput(f"{field} must not be blank.", field=field)
    if len(text) > max_length:
        raise BadUserInput(f"{field} is longer than {max_length} characters.", field=field)
    return text


def page_size(first: int | None, default: int = 20, maximum: int = 100, field: str = "first") -> int:
    if first is None:
        return default
    if not 1 <= first <= maximum:
        raise BadUserInput(f"`{field}` must be between 1 and {maximum}; got {first}.", field=field)
    return first


def score_threshold(value: float | None, field: str = "minScore") -> float | None:
    if value is None:
        return None
    if not 0.0 <= value <= 1.0:
        raise BadUserInput(f"`{field}` must be between 0 and 1; got {value}.", field=field)
    return float(value)
