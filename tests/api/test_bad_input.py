"""Bad input answers BAD_USER_INPUT or NOT_FOUND with a message a person understands; nothing is half-written.

Page sizes outside 1–100, scores outside [0, 1], unknown enum values, malformed or unknown ids, bad cursors,
invalid countries / NACE codes / vocabularies, and inconsistent grant data. Syntax and validation errors get
their own codes; unexpected errors are masked. Every error carries ``extensions.code`` (see `errors_of`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

import pytest

from graphql_app.services import catalogue
from tests.api.factories import (
    COMPANY_FIELDS,
    calculate,
    company_input,
    create_company,
    create_grants,
    grant_input,
)
from tests.conftest import GraphQLClient

KNOWN_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_SERVER_ERROR",
    # The request limits (graphql_app/limits.py).
    "DOCUMENT_TOO_LARGE",
    "QUERY_TOO_DEEP",
    "TOO_MANY_ALIASES",
    "QUERY_TOO_COMPLEX",
    "RATE_LIMITED",
}


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The response's errors; each must carry a known ``extensions.code`` and a message."""
    errors = body.get("errors")
    assert errors, f"expected an error, got {body}"
    for error in errors:
        assert (error.get("extensions") or {}).get("code") in KNOWN_CODES, error
        assert error.get("message"), error
    return errors


async def first_error(client: GraphQLClient, query: str, variables: dict | None = None) -> dict[str, Any]:
    """The first error of a response that must fail (all its errors carry a code; no data was returned)."""
    body = await client.execute(query, variables)
    error = errors_of(body)[0]
    data = body.get("data")
    assert data is None or all(value is None for value in data.values()), body
    return error


def assert_error(error: dict[str, Any], code: str, *fragments: str) -> None:
    """``error`` has ``code`` and a message mentioning every fragment (case-insensitive)."""
    assert error["extensions"]["code"] == code, error
    for fragment in fragments:
        assert fragment.lower() in error["message"].lower(), (fragment, error["message"])


def gql(kind: str, selection: str, types: dict[str, str] | None = None) -> str:
    """``kind`` with ``selection``, declaring its variables (``ID!`` unless ``types`` says otherwise)."""
    names = sorted(set(re.findall(r"\$(\w+)", selection)))
    types = types or {}
    declared = ", ".join(f"${name}: {types.get(name, 'ID!')}" for name in names)
    return f"{kind}({declared}) {{ {selection} }}" if names else f"{kind} {{ {selection} }}"


@dataclass
class World:
    grant_ids: list[str]
    company_id: str
    computation_id: str
    match_id: str
    match_grant_id: str


@pytest.fixture
async def world(as_platform_admin, as_admin) -> World:
    """Two grants, tenant-a's company and its stored matches."""
    grants = await create_grants(
        as_platform_admin,
        [grant_input("Solar Boost"), grant_input("Water Reuse", carbonCategories=["water_management"])],
    )
    company = await create_company(as_admin)
    computation = await calculate(as_admin, company["id"])
    data = await as_admin.data(
        "query($c: ID!) { grantMatches(companyId: $c) { edges { node { id grant { id } } } } }", {"c": company["id"]}
    )
    node = data["grantMatches"]["edges"][0]["node"]
    return World([g["id"] for g in grants], company["id"], computation["id"], node["id"], node["grant"]["id"])


def ids_of(world: World) -> dict[str, str]:
    """Variables naming real objects: $c company, $g grant (of match $m), $m match, $comp computation."""
    return {"c": world.company_id, "g": world.match_grant_id, "m": world.match_id, "comp": world.computation_id}


SNAPSHOT = """
query($c: ID!) {
  companies(first: 100) { totalCount }
  company(id: $c) { name country size naceCodes carbonCategories updatedAt
    grantMatches(first: 100) { totalCount edges { node { id score isViewed isSaved isDismissed updatedAt } } } }
  grants(first: 100, includeClosed: true) { totalCount edges { node { id title updatedAt } } }
}
"""


async def snapshot(as_admin: GraphQLClient, world: World) -> dict[str, Any]:
    """What tenant-a sees of its companies, its matches and the catalogue (to prove nothing changed)."""
    return await as_admin.data(SNAPSHOT, {"c": world.company_id})


# --- page sizes and score thresholds ----------------------------------------------------------------------------

INT = {"first": "Int!"}
PAGED_FIELDS = {
    "grantMatches": gql("query", "grantMatches(first: $first) { totalCount }", INT),
    "grantMatches(companyId)": gql("query", "grantMatches(companyId: $c, first: $first) { totalCount }", INT),
    "companies": gql("query", "companies(first: $first) { totalCount }", INT),
    "grants": gql("query", "grants(first: $first) { totalCount }", INT),
    "liveGrantMatches": gql("query", "liveGrantMatches(companyId: $c, first: $first) { totalCount }", INT),
    "Company.grantMatches": gql("query", "company(id: $c) { grantMatches(first: $first) { totalCount } }", INT),
    "searchGrants": gql("query", 'searchGrants(text: "solar", first: $first) { similarity }', INT),
}


@pytest.mark.parametrize("query", PAGED_FIELDS.values(), ids=PAGED_FIELDS.keys())
async def test_page_size_outside_1_to_100_is_bad_user_input(world, as_admin, query):
    for first in (0, 101, -1, 10_000):
        error = await first_error(as_admin, query, {**ids_of(world), "first": first})
        assert_error(error, "BAD_USER_INPUT", "first", "100", str(first))
    for first in (1, 100):  # the bounds themselves are fine
        await as_admin.data(query, {**ids_of(world), "first": first})


@pytest.mark.parametrize("field", ["grantMatches", "companies", "grants"])
async def test_page_size_as_a_literal_is_checked_too(as_admin, field):
    error = await first_error(as_admin, f"{{ {field}(first: 0) {{ totalCount }} }}")
    assert_error(error, "BAD_USER_INPUT", "first", "100")


async def test_page_size_beyond_32_bits_is_bad_user_input(as_admin):
    error = await first_error(as_admin, "{ companies(first: 99999999999) { totalCount } }")
    assert_error(error, "BAD_USER_INPUT", "99999999999")


@pytest.mark.parametrize("save_results", [True, False])
async def test_refresh_limit_outside_1_to_100_is_bad_user_input_and_stores_nothing(
    as_platform_admin, as_admin, save_results
):
    await create_grants(as_platform_admin, [grant_input("Solar Boost")])
    company = await create_company(as_admin)  # no matches stored yet
    refresh = (
        "mutation($c: ID!, $limit: Int!, $save: Boolean!) "
        "{ refreshGrantMatches(companyId: $c, limit: $limit, saveResults: $save) { saved } }"
    )
    for limit in (0, 101, -5):
        error = await first_error(as_admin, refresh, {"c": company["id"], "limit": limit, "save": save_results})
        assert_error(error, "BAD_USER_INPUT", "100", str(limit))
    data = await as_admin.data("query($c: ID!) { grantMatches(companyId: $c) { totalCount } }", {"c": company["id"]})
    assert data["grantMatches"]["totalCount"] == 0


FLOAT = {"s": "Float"}
SCORED_FIELDS = {
    "grantMatches": gql("query", "grantMatches(minScore: $s) { totalCount }", FLOAT),
    "grantMatches(companyId)": gql("query", "grantMatches(companyId: $c, minScore: $s) { totalCount }", FLOAT),
    "liveGrantMatches": gql("query", "liveGrantMatches(companyId: $c, minScore: $s) { totalCount }", FLOAT),
    "Company.grantMatches": gql("query", "company(id: $c) { grantMatches(minScore: $s) { totalCount } }", FLOAT),
}


@pytest.mark.parametrize("query", SCORED_FIELDS.values(), ids=SCORED_FIELDS.keys())
async def test_min_score_outside_0_to_1_is_bad_user_input(world, as_admin, query):
    for min_score in (-0.1, 1.5, -1e9):
        error = await first_error(as_admin, query, {**ids_of(world), "s": min_score})
        assert_error(error, "BAD_USER_INPUT", "minScore", "0", "1")
    for min_score in (0.0, 1.0):  # the bounds themselves are fine
        await as_admin.data(query, {**ids_of(world), "s": min_score})


# --- unknown enum values ----------------------------------------------------------------------------------------


async def test_unknown_action_as_a_literal_is_bad_user_input(world, as_admin):
    before = await snapshot(as_admin, world)
    error = await first_error(
        as_admin, "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: FLY) { id } }", {"m": world.match_id}
    )
    assert_error(error, "BAD_USER_INPUT", "FLY", "GrantMatchAction")
    assert await snapshot(as_admin, world) == before


async def test_unknown_action_as_a_variable_is_bad_user_input(world, as_admin):
    before = await snapshot(as_admin, world)
    error = await first_error(
        as_admin,
        "mutation($m: ID!, $a: GrantMatchAction!) { applyGrantMatchAction(matchId: $m, action: $a) { id } }",
        {"m": world.match_id, "a": "FLY"},
    )
    assert_error(error, "BAD_USER_INPUT", "FLY", "GrantMatchAction")
    assert await snapshot(as_admin, world) == before


CREATE_COMPANY_WITH = "mutation($i: CompanyInput!) { createCompany(input: $i) { id } }"


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        pytest.param("{ grantMatches(status: MAYBE) { totalCount } }", None, "MAYBE", id="status-literal"),
        pytest.param(
            'mutation { createCompany(input: {name: "Acme", country: "DE", size: HUGE}) { id } }',
            None,
            "HUGE",
            id="size-literal",
        ),
        pytest.param(
            "query($s: GrantMatchStatus) { grantMatches(status: $s) { totalCount } }",
            {"s": "maybe"},
            "maybe",
            id="status-variable",
        ),
        pytest.param(
            CREATE_COMPANY_WITH,
            {"i": company_input("Acme", size="HUGE")},
            "HUGE",
            id="size-variable",
        ),
        pytest.param(
            CREATE_COMPANY_WITH,
            {"i": company_input("Acme", certifications=["ISO_0"])},
            "ISO_0",
            id="certification-variable",
        ),
    ],
)
async def test_unknown_enum_values_are_bad_user_input(as_admin, query, variables, fragment):
    error = await first_error(as_admin, query, variables)
    assert_error(error, "BAD_USER_INPUT", fragment)
    assert (await as_admin.data("{ companies { totalCount } }"))["companies"]["totalCount"] == 0


# --- malformed and unknown ids ----------------------------------------------------------------------------------

#: Every argument of type ID! in the schema, with the other ids of the operation real.
ID_OPERATIONS = [
    ("company(id)", gql("query", "company(id: $c) { id }")),
    ("grant(id)", gql("query", "grant(id: $g) { id }")),
    ("grantMatch(id)", gql("query", "grantMatch(id: $m) { id }")),
    ("computation(id)", gql("query", "computation(id: $comp) { id }")),
    ("grantMatches(companyId)", gql("query", "grantMatches(companyId: $c) { totalCount }")),
    ("grantMatchStats(companyId)", gql("query", "grantMatchStats(companyId: $c) { total }")),
    ("liveGrantMatches(companyId)", gql("query", "liveGrantMatches(companyId: $c) { totalCount }")),
    ("updateCompany(id)", gql("mutation", 'updateCompany(id: $c, input: {name: "Renamed"}) { id }')),
    ("updateGrant(id)", gql("mutation", 'updateGrant(id: $g, input: {title: "Renamed"}) { id }')),
    ("calculateGrantMatches(companyId)", gql("mutation", "calculateGrantMatches(companyId: $c) { id }")),
    ("refreshGrantMatches(companyId)", gql("mutation", "refreshGrantMatches(companyId: $c) { saved }")),
    (
        "refreshGrantMatches(companyId, saveResults: false)",
        gql("mutation", "refreshGrantMatches(companyId: $c, saveResults: false) { saved }"),
    ),
    ("applyGrantMatchAction(matchId)", gql("mutation", "applyGrantMatchAction(matchId: $m, action: SAVE) { id }")),
    ("markGrantMatchViewed", gql("mutation", "markGrantMatchViewed(companyId: $c, grantId: $g) { id }")),
    ("setGrantMatchSaved", gql("mutation", "setGrantMatchSaved(companyId: $c, grantId: $g) { id }")),
    ("setGrantMatchDismissed", gql("mutation", "setGrantMatchDismissed(companyId: $c, grantId: $g) { id }")),
]
ARGUMENT_NAMES = {"c": ("companyId", "id"), "g": ("grantId", "id"), "m": ("matchId", "id"), "comp": ("id",)}
ID_CASES = [
    pytest.param(op, var, id=f"{name}-{ARGUMENT_NAMES[var][0]}")
    for name, op in ID_OPERATIONS
    for var in sorted(set(re.findall(r"\$(\w+)", op.split("{", 1)[1])))
]


@pytest.mark.parametrize(("query", "var"), ID_CASES)
async def test_malformed_ids_are_bad_user_input(world, as_admin, as_platform_admin, query, var):
    client = as_platform_admin if "updateGrant" in query else as_admin
    before = await snapshot(as_admin, world)
    for bad_id in ("not-a-uuid", "123", "00000000-0000-0000-0000-00000000000g", ""):
        error = await first_error(client, query, {**ids_of(world), var: bad_id})
        assert_error(error, "BAD_USER_INPUT", "UUID", repr(bad_id))
        assert error["extensions"].get("field", ARGUMENT_NAMES[var][0]) in ARGUMENT_NAMES[var], error
    assert await snapshot(as_admin, world) == before


@pytest.mark.parametrize(("query", "var"), ID_CASES)
async def test_well_formed_unknown_ids_are_not_found(world, as_admin, as_platform_admin, query, var):
    client = as_platform_admin if "updateGrant" in query else as_admin
    before = await snapshot(as_admin, world)
    unknown = str(uuid.uuid4())
    error = await first_error(client, query, {**ids_of(world), var: unknown})
    assert_error(error, "NOT_FOUND", unknown)
    assert await snapshot(as_admin, world) == before
    await client.data(query, ids_of(world))  # control: with the real ids the same operation succeeds


# --- cursors ----------------------------------------------------------------------------------------------------

AFTER = {"after": "String"}
CURSOR_FIELDS = {
    "grantMatches": gql("query", "grantMatches(after: $after) { totalCount }", AFTER),
    "grantMatches(companyId)": gql("query", "grantMatches(companyId: $c, after: $after) { totalCount }", AFTER),
    "companies": gql("query", "companies(after: $after) { totalCount }", AFTER),
    "grants": gql("query", "grants(after: $after) { totalCount }", AFTER),
    "liveGrantMatches": gql("query", "liveGrantMatches(companyId: $c, after: $after) { totalCount }", AFTER),
    "Company.grantMatches": gql("query", "company(id: $c) { grantMatches(after: $after) { totalCount } }", AFTER),
}


@pytest.mark.parametrize("query", CURSOR_FIELDS.values(), ids=CURSOR_FIELDS.keys())
async def test_bad_after_cursor_is_bad_user_input(world, as_admin, query):
    # "bzF8LTU" decodes to "o1|-5" (a negative offset); "Z20xfDAuNXxub3QtYS11dWlk" to "gm1|0.5|not-a-uuid".
    for cursor in ("garbage", "bzF8LTU", "Z20xfDAuNXxub3QtYS11dWlk", "%%%"):
        error = await first_error(as_admin, query, {**ids_of(world), "after": cursor})
        assert_error(error, "BAD_USER_INPUT", "after", cursor)


@pytest.mark.parametrize("query", CURSOR_FIELDS.values(), ids=CURSOR_FIELDS.keys())
async def test_cursor_of_another_list_is_never_an_unexpected_error(world, as_admin, query):
    """A cursor of `companies` passed to a match list (and vice versa) is refused as input or accepted."""
    companies = await as_admin.data("{ companies(first: 1) { edges { cursor } } }")
    matches = await as_admin.data("{ grantMatches(first: 1) { edges { cursor } } }")
    for cursor in (companies["companies"]["edges"][0]["cursor"], matches["grantMatches"]["edges"][0]["cursor"]):
        body = await as_admin.execute(query, {**ids_of(world), "after": cursor})
        for error in body.get("errors") or []:
            assert error["extensions"]["code"] == "BAD_USER_INPUT", error


# --- companies --------------------------------------------------------------------------------------------------

CREATE_COMPANY = f"mutation($input: CompanyInput!) {{ createCompany(input: $input) {{ {COMPANY_FIELDS} }} }}"
UPDATE_COMPANY = (
    "mutation($id: ID!, $input: CompanyUpdateInput!) "
    f"{{ updateCompany(id: $id, input: $input) {{ {COMPANY_FIELDS} }} }}"
)

#: (fields, fragments the message must mention)
BAD_COMPANY_FIELDS = [
    pytest.param({"country": "XX"}, ["XX", "country"], id="country-XX"),
    pytest.param({"country": "Germany"}, ["Germany", "country"], id="country-Germany"),
    pytest.param({"country": "DEU"}, ["DEU"], id="country-DEU"),
    pytest.param({"country": ""}, ["country"], id="country-empty"),
    pytest.param({"naceCodes": ["Z99"]}, ["Z99"], id="nace-Z99"),
    pytest.param({"naceCodes": ["M7"]}, ["M7"], id="nace-M7"),
    pytest.param({"naceCodes": ["99.99.99"]}, ["99.99.99"], id="nace-99.99.99"),
    pytest.param({"naceCodes": ["M71.12", "banana"]}, ["banana"], id="nace-second-of-two"),
    pytest.param(
        {"carbonCategories": ["renewable_energy", "unicorn_farming"]}, ["unicorn_farming"], id="carbon-category"
    ),
    pytest.param({"size": "MICRO", "employees": 300}, ["size", "300"], id="size-vs-employees"),
    pytest.param({"size": "LARGE", "employees": 3}, ["size", "3"], id="size-vs-few-employees"),
    pytest.param({"employees": -1}, ["employees"], id="negative-employees"),
    pytest.param({"name": "   "}, ["name"], id="blank-name"),
    pytest.param({"name": ""}, ["name"], id="empty-name"),
]


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [*BAD_COMPANY_FIELDS, pytest.param({"employees": None}, ["size"], id="neither-size-nor-employees")],
)
async def test_invalid_company_is_bad_user_input_and_not_created(as_admin, overrides, fragments):
    await create_company(as_admin, name="Existing GmbH")
    listing = "{ companies(first: 100) { totalCount edges { node { name } } } }"
    before = await as_admin.data(listing)
    error = await first_error(as_admin, CREATE_COMPANY, {"input": {**company_input("Acme"), **overrides}})
    assert_error(error, "BAD_USER_INPUT", *fragments)
    assert await as_admin.data(listing) == before
    assert before["companies"]["totalCount"] == 1


@pytest.mark.parametrize(("overrides", "fragments"), BAD_COMPANY_FIELDS)
async def test_invalid_company_update_is_bad_user_input_and_changes_nothing(world, as_admin, overrides, fragments):
    before = await snapshot(as_admin, world)
    error = await first_error(as_admin, UPDATE_COMPANY, {"id": world.company_id, "input": overrides})
    assert_error(error, "BAD_USER_INPUT", *fragments)
    assert await snapshot(as_admin, world) == before


async def test_valid_company_variants_are_accepted(as_admin):
    """Controls for the cases above: lower-case country, NACE without section letter, size from headcount."""
    company = await create_company(as_admin, name="Valid GmbH", country="at", naceCodes=["71.12", "M71"], employees=3)
    assert company["country"] == "AT"
    assert company["size"] == "MICRO"
    assert set(company["naceCodes"]) == {"M71.12", "M71"}


@pytest.mark.parametrize("country", ["XX", "Germany"])
async def test_invalid_country_filter_is_bad_user_input(as_admin, country):
    error = await first_error(as_admin, "query($c: String) { companies(country: $c) { totalCount } }", {"c": country})
    assert_error(error, "BAD_USER_INPUT", country)


# --- grants -----------------------------------------------------------------------------------------------------

CATALOGUE = "{ grants(first: 100, includeClosed: true) { totalCount edges { node { id title updatedAt } } } }"
CREATE_GRANTS = "mutation($inputs: [GrantInput!]!) { createGrants(inputs: $inputs) { id } }"
CREATE_GRANT = "mutation($input: GrantInput!) { createGrant(input: $input) { id } }"
UPDATE_GRANT = "mutation($id: ID!, $input: GrantUpdateInput!) { updateGrant(id: $id, input: $input) { id } }"

BAD_GRANT_FIELDS = [
    pytest.param({"countries": ["DE", "XX"]}, ["XX"], id="country-XX"),
    pytest.param({"countries": ["France"]}, ["France"], id="country-name"),
    pytest.param({"naceCodes": ["Z99"]}, ["Z99"], id="nace-Z99"),
    pytest.param({"carbonCategories": ["unicorn_farming"]}, ["unicorn_farming"], id="carbon-category"),
    pytest.param({"amountMin": 500000, "amountMax": 1000}, ["amountMin", "amountMax"], id="amounts-reversed"),
    pytest.param({"amountMin": -1, "amountMax": 1000}, ["amount"], id="negative-amount"),
    pytest.param({"currency": "EURO"}, ["EURO"], id="currency"),
    pytest.param({"title": "  "}, ["title"], id="blank-title"),
    pytest.param({"url": "javascript:alert(1)"}, ["url"], id="url-not-http"),
    pytest.param({"deadline": "2026-09-01T12:00:00"}, ["deadline", "time zone"], id="deadline-without-timezone"),
    pytest.param({"deadline": "next tuesday"}, ["next tuesday"], id="deadline-not-a-date"),
]


@pytest.mark.parametrize(("overrides", "fragments"), BAD_GRANT_FIELDS)
async def test_invalid_grant_is_bad_user_input_and_not_created(as_platform_admin, overrides, fragments):
    before = await as_platform_admin.data(CATALOGUE)
    error = await first_error(as_platform_admin, CREATE_GRANT, {"input": {**grant_input("Broken"), **overrides}})
    assert_error(error, "BAD_USER_INPUT", *fragments)
    assert await as_platform_admin.data(CATALOGUE) == before


@pytest.mark.parametrize(("overrides", "fragments"), BAD_GRANT_FIELDS)
async def test_grant_batch_with_one_invalid_grant_creates_none(as_platform_admin, overrides, fragments):
    """createGrants is all or nothing: the 3rd of 3 is invalid, so none of the 3 is created."""
    await create_grants(as_platform_admin, [grant_input("Already there")])
    before = await as_platform_admin.data(CATALOGUE)
    inputs = [grant_input("First"), grant_input("Second"), {**grant_input("Third"), **overrides}]
    error = await first_error(as_platform_admin, CREATE_GRANTS, {"inputs": inputs})
    assert_error(error, "BAD_USER_INPUT", *fragments)
    after = await as_platform_admin.data(CATALOGUE)
    assert after == before
    assert after["grants"]["totalCount"] == 1


@pytest.mark.parametrize(("overrides", "fragments"), BAD_GRANT_FIELDS)
async def test_invalid_grant_update_is_bad_user_input_and_changes_nothing(
    world, as_platform_admin, overrides, fragments
):
    before = await as_platform_admin.data(CATALOGUE)
    error = await first_error(as_platform_admin, UPDATE_GRANT, {"id": world.grant_ids[0], "input": overrides})
    assert_error(error, "BAD_USER_INPUT", *fragments)
    assert await as_platform_admin.data(CATALOGUE) == before


async def test_grant_update_reversing_the_amount_range_is_bad_user_input(world, as_platform_admin):
    """amountMin alone above the stored amountMax (250,000) is inconsistent too."""
    before = await as_platform_admin.data(CATALOGUE)
    error = await first_error(as_platform_admin, UPDATE_GRANT, {"id": world.grant_ids[0], "input": {"amountMin": 1e6}})
    assert_error(error, "BAD_USER_INPUT", "amountMin", "amountMax")
    assert await as_platform_admin.data(CATALOGUE) == before


async def test_empty_grant_batch_is_bad_user_input(as_platform_admin):
    error = await first_error(as_platform_admin, CREATE_GRANTS, {"inputs": []})
    assert_error(error, "BAD_USER_INPUT", "1000")


async def test_blank_search_text_is_bad_user_input(as_admin):
    error = await first_error(as_admin, '{ searchGrants(text: "   ") { similarity } }')
    assert_error(error, "BAD_USER_INPUT", "text")


# --- documents that do not parse, validate or coerce ------------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    ["{ companies { totalCount }", "query {", "{ companies(first: ) { totalCount } }", "mutation { ! }", "garbage"],
)
async def test_syntax_error_is_graphql_parse_failed(as_admin, query):
    error = await first_error(as_admin, query)
    assert_error(error, "GRAPHQL_PARSE_FAILED", "Syntax Error")


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        pytest.param("{ companies { totalCount nope } }", "nope", id="unknown-field"),
        pytest.param("{ nope }", "nope", id="unknown-root-field"),
        pytest.param("{ companies(last: 5) { totalCount } }", "last", id="unknown-argument"),
        pytest.param("{ companies }", "companies", id="no-selection"),
        pytest.param("{ me { subject { name } } }", "subject", id="selection-on-scalar"),
        pytest.param("query($x: Int) { me { subject } }", "$x", id="unused-variable"),
    ],
)
async def test_invalid_document_is_graphql_validation_failed(as_admin, query, fragment):
    error = await first_error(as_admin, query)
    assert_error(error, "GRAPHQL_VALIDATION_FAILED", fragment)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        pytest.param(
            'mutation { createCompany(input: {name: "X", country: "DE", colour: "red"}) { id } }',
            "colour",
            id="unknown-input-field",
        ),
        pytest.param("{ company { id } }", "id", id="missing-argument"),
        pytest.param('{ companies(first: "ten") { totalCount } }', "ten", id="string-literal-for-int"),
    ],
)
async def test_invalid_literal_arguments_are_refused_before_execution(as_admin, query, fragment):
    """Wrong literal arguments: a validation error or bad input (either is a client error with a clear message)."""
    error = await first_error(as_admin, query)
    assert error["extensions"]["code"] in {"GRAPHQL_VALIDATION_FAILED", "BAD_USER_INPUT"}, error
    assert fragment in error["message"], error


@pytest.mark.parametrize(
    ("query", "variables", "fragment"),
    [
        pytest.param("query($f: Int!) { companies(first: $f) { totalCount } }", {"f": "ten"}, "ten", id="str-for-int"),
        pytest.param("query($f: Int!) { companies(first: $f) { totalCount } }", {}, "$f", id="missing-variable"),
        pytest.param("query($f: Int!) { companies(first: $f) { totalCount } }", {"f": 2.5}, "2.5", id="float-for-int"),
        pytest.param(
            "query($s: Float) { grantMatches(minScore: $s) { totalCount } }", {"s": "high"}, "high", id="str-for-float"
        ),
        pytest.param(CREATE_COMPANY_WITH, {"i": {"name": "X"}}, "country", id="missing-input-field"),
    ],
)
async def test_wrongly_typed_variables_are_bad_user_input(as_admin, query, variables, fragment):
    error = await first_error(as_admin, query, variables)
    assert_error(error, "BAD_USER_INPUT", fragment)


# --- unexpected errors ------------------------------------------------------------------------------------------


async def test_unexpected_errors_are_masked(as_admin, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("connection to db-internal-7.example failed: password=hunter2")

    monkeypatch.setattr(catalogue, "search_grants", broken)
    body = await as_admin.execute('{ searchGrants(text: "solar") { similarity } }')
    error = errors_of(body)[0]
    assert error["extensions"] == {"code": "INTERNAL_SERVER_ERROR"}
    assert error["message"] == "Unexpected error."
    assert "hunter2" not in str(body) and "db-internal" not in str(body) and "RuntimeError" not in str(body)


async def test_text_postgres_cannot_store_is_masked_and_not_stored(as_admin):
    """A NUL byte in a name reaches the database: the error must not leak, and nothing is stored."""
    body = await as_admin.execute(CREATE_COMPANY, {"input": company_input("Acme\x00GmbH")})
    error = errors_of(body)[0]
    assert error["extensions"]["code"] in {"BAD_USER_INPUT", "INTERNAL_SERVER_ERROR"}, error
    if error["extensions"]["code"] == "INTERNAL_SERVER_ERROR":
        assert error["message"] == "Unexpected error."
    assert "asyncpg" not in str(body).lower() and "sql" not in str(body).lower()
    assert (await as_admin.data("{ companies { totalCount } }"))["companies"]["totalCount"] == 0


async def test_nul_byte_in_text_is_bad_user_input(as_admin):
    error = await first_error(as_admin, CREATE_COMPANY, {"input": company_input("Acme\x00GmbH")})
    assert_error(error, "BAD_USER_INPUT", "name")
