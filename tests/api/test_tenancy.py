"""Tenancy, roles and authentication (see docs/matching.md, docs/api.md).

Another tenant's company, match or computation answers NOT_FOUND — with the same message as an unknown id,
so its existence is not revealed — and nothing of it changes. Every field and mutation that takes an id is
covered. Roles decide who may read the catalogue, company data and edit the catalogue; bad tokens are
UNAUTHENTICATED.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import Any

import jwt
import pytest
from jwt.warnings import InsecureKeyLengthWarning

from tests.api.factories import calculate, create_company, create_grants, grant_input
from tests.conftest import JWT_SECRET, GraphQLClient, token_for

KNOWN_CODES = {
    "UNAUTHENTICATED",
    "FORBIDDEN",
    "NOT_FOUND",
    "BAD_USER_INPUT",
    "CONFLICT",
    "GRAPHQL_PARSE_FAILED",
    "GRAPHQL_VALIDATION_FAILED",
    "INTERNAL_SERVER_ERROR",
}


@dataclass
class World:
    """Grants of the catalogue; tenant-a's and tenant-b's companies, each with stored matches."""

    grant_ids: list[str]
    company_a: str
    company_b: str
    computation_a: str
    match_ids_a: list[str]
    match_grants_a: list[str]
    match_ids_b: list[str]


async def _matches(client: GraphQLClient, company_id: str) -> tuple[list[str], list[str]]:
    """Ids of a company's stored matches, best first, and the ids of their grants."""
    data = await client.data(
        "query($c: ID!) { grantMatches(companyId: $c, first: 100) { edges { node { id grant { id } } } } }",
        {"c": company_id},
    )
    nodes = [e["node"] for e in data["grantMatches"]["edges"]]
    return [n["id"] for n in nodes], [n["grant"]["id"] for n in nodes]


@pytest.fixture
async def world(as_platform_admin, as_admin, as_other_tenant) -> World:
    grants = await create_grants(
        as_platform_admin,
        [
            grant_input("Solar Boost"),
            grant_input("Efficient Buildings", carbonCategories=["energy_efficiency"]),
            grant_input("Water Reuse", carbonCategories=["water_management"]),
        ],
    )
    company_a = await create_company(as_admin, name="Alpha Solar GmbH")
    company_b = await create_company(as_other_tenant, name="Beta Wind AG")
    computation_a = await calculate(as_admin, company_a["id"])
    computation_b = await calculate(as_other_tenant, company_b["id"])
    assert computation_a["status"] == computation_b["status"] == "SUCCEEDED"
    match_ids_a, match_grants_a = await _matches(as_admin, company_a["id"])
    match_ids_b, _ = await _matches(as_other_tenant, company_b["id"])
    assert len(match_ids_a) == len(match_ids_b) == 3
    # Give tenant-a's matches state (match 0 saved, 1 dismissed, 2 untouched), so cross-tenant writes would show.
    await as_admin.data(
        "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: SAVE) { id } }", {"m": match_ids_a[0]}
    )
    await as_admin.data(
        "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: DISMISS) { id } }", {"m": match_ids_a[1]}
    )
    return World(
        grant_ids=[g["id"] for g in grants],
        company_a=company_a["id"],
        company_b=company_b["id"],
        computation_a=computation_a["id"],
        match_ids_a=match_ids_a,
        match_grants_a=match_grants_a,
        match_ids_b=match_ids_b,
    )


SNAPSHOT = """
query($c: ID!) {
  company(id: $c) {
    id name country size employees naceCodes description carbonCategories certifications taxonomyObjectives
    createdAt updatedAt alertMinScore alertCarbonFocusedOnly alertMinAmount
    grantMatches(first: 100) {
      totalCount
      edges { node { id score semanticScore ruleScore carbonScore collaborativeScore recencyScore
                     isViewed isSaved isDismissed createdAt updatedAt grant { id } } }
    }
  }
  grantMatchStats(companyId: $c) { total saved dismissed viewed averageScore topScore }
}
"""


async def snapshot(client: GraphQLClient, company_id: str) -> dict[str, Any]:
    """Everything tenant-a can see of its company and its matches (to prove nothing changed)."""
    return await client.data(SNAPSHOT, {"c": company_id})


def errors_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The response's errors; each must carry a known ``extensions.code``."""
    errors = body.get("errors")
    assert errors, f"expected an error, got {body}"
    for error in errors:
        assert (error.get("extensions") or {}).get("code") in KNOWN_CODES, error
        assert error.get("message"), error
    return errors


def field_is_null(body: dict[str, Any], field: str) -> bool:
    return body.get("data") is None or body["data"].get(field) is None


# --- every id-taking operation, as another tenant -------------------------------------------------------------

# (name, root field, operation, variables from the ids {"company", "match", "grant", "computation"})
ID_OPERATIONS = [
    ("company", "company", "query($c: ID!) { company(id: $c) { id name } }", lambda i: {"c": i["company"]}),
    (
        "Company.grantMatches",
        "company",
        "query($c: ID!) { company(id: $c) { grantMatches { totalCount } } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "grantMatches",
        "grantMatches",
        "query($c: ID!) { grantMatches(companyId: $c) { totalCount edges { node { id } } } }",
        lambda i: {"c": i["company"]},
    ),
    ("grantMatch", "grantMatch", "query($m: ID!) { grantMatch(id: $m) { id score } }", lambda i: {"m": i["match"]}),
    (
        "grantMatchStats",
        "grantMatchStats",
        "query($c: ID!) { grantMatchStats(companyId: $c) { total saved } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "liveGrantMatches",
        "liveGrantMatches",
        "query($c: ID!) { liveGrantMatches(companyId: $c) { totalCount edges { node { score } } } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "computation",
        "computation",
        "query($id: ID!) { computation(id: $id) { id status } }",
        lambda i: {"id": i["computation"]},
    ),
    (
        "updateCompany",
        "updateCompany",
        'mutation($c: ID!) { updateCompany(id: $c, input: {name: "Hijacked", country: "FR"}) { id name } }',
        lambda i: {"c": i["company"]},
    ),
    (
        "calculateGrantMatches",
        "calculateGrantMatches",
        "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id status } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "refreshGrantMatches(saveResults: true)",
        "refreshGrantMatches",
        "mutation($c: ID!) { refreshGrantMatches(companyId: $c, saveResults: true) { saved candidateCount } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "refreshGrantMatches(saveResults: false)",
        "refreshGrantMatches",
        "mutation($c: ID!) { refreshGrantMatches(companyId: $c, saveResults: false) { saved matches { score } } }",
        lambda i: {"c": i["company"]},
    ),
    *[
        (
            f"applyGrantMatchAction({action})",
            "applyGrantMatchAction",
            f"mutation($m: ID!) {{ applyGrantMatchAction(matchId: $m, action: {action}) {{ id isSaved }} }}",
            lambda i: {"m": i["match"]},
        )
        for action in ("SAVE", "DISMISS", "RESTORE")
    ],
    (
        "markGrantMatchViewed",
        "markGrantMatchViewed",
        "mutation($c: ID!, $g: ID!) { markGrantMatchViewed(companyId: $c, grantId: $g) { id isViewed } }",
        lambda i: {"c": i["company"], "g": i["grant"]},
    ),
    *[
        (
            f"setGrantMatchSaved(saved: {flag})",
            "setGrantMatchSaved",
            f"mutation($c: ID!, $g: ID!) {{ setGrantMatchSaved(companyId: $c, grantId: $g, saved: {flag}) {{ id }} }}",
            lambda i: {"c": i["company"], "g": i["grant"]},
        )
        for flag in ("true", "false")
    ],
    *[
        (
            f"setGrantMatchDismissed(dismissed: {flag})",
            "setGrantMatchDismissed",
            "mutation($c: ID!, $g: ID!) "
            f"{{ setGrantMatchDismissed(companyId: $c, grantId: $g, dismissed: {flag}) {{ id }} }}",
            lambda i: {"c": i["company"], "g": i["grant"]},
        )
        for flag in ("true", "false")
    ],
    (
        "grantAlerts",
        "grantAlerts",
        "query($c: ID!) { grantAlerts(companyId: $c) { totalCount edges { node { id } } } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "markGrantAlertsRead",
        "markGrantAlertsRead",
        "mutation($c: ID!) { markGrantAlertsRead(companyId: $c) { markedCount unreadCount } }",
        lambda i: {"c": i["company"]},
    ),
    (
        "updateCompanyAlertSettings",
        "updateCompanyAlertSettings",
        "mutation($c: ID!) { updateCompanyAlertSettings(companyId: $c, input: {alertMinScore: null}) { id } }",
        lambda i: {"c": i["company"]},
    ),
]


def _normalised(error: dict[str, Any], ids: dict[str, str]) -> tuple[str, str]:
    """Message and extensions with the ids replaced, to compare error shapes."""
    message = error["message"]
    extensions = json.dumps(error.get("extensions", {}), sort_keys=True)
    for name, value in ids.items():
        message = message.replace(value, f"<{name}>")
        extensions = extensions.replace(value, f"<{name}>")
    return message, extensions


@pytest.mark.parametrize(
    ("field", "operation", "variables"),
    [pytest.param(field, op, var, id=name) for name, field, op, var in ID_OPERATIONS],
)
async def test_another_tenants_object_is_not_found_and_unchanged(
    world, as_admin, as_other_tenant, field, operation, variables
):
    # Aim at tenant-a's untouched match (index 2): any write to it would change its flags or `updatedAt`.
    ids = {
        "company": world.company_a,
        "match": world.match_ids_a[2],
        "grant": world.match_grants_a[2],
        "computation": world.computation_a,
    }
    before = await snapshot(as_admin, world.company_a)

    body = await as_other_tenant.execute(operation, variables(ids))
    error = errors_of(body)[0]
    assert error["extensions"]["code"] == "NOT_FOUND", body
    assert field_is_null(body, field), body

    # The same operation on random unknown ids: the answer has the same shape (existence is not revealed).
    unknown = {**ids, "company": str(uuid.uuid4()), "match": str(uuid.uuid4()), "computation": str(uuid.uuid4())}
    unknown_body = await as_other_tenant.execute(operation, variables(unknown))
    unknown_error = errors_of(unknown_body)[0]
    assert unknown_error["extensions"]["code"] == "NOT_FOUND", unknown_body
    assert _normalised(error, ids) == _normalised(unknown_error, unknown)

    assert await snapshot(as_admin, world.company_a) == before
    # Control: the very same operation succeeds for the owner, so NOT_FOUND came from tenancy, not the query.
    await as_admin.data(operation, variables(ids))


async def test_another_tenants_company_is_not_found_for_its_owner_either_way(world, as_admin, as_other_tenant):
    """Symmetry: tenant-a does not see tenant-b's objects either."""
    body = await as_admin.execute("query($c: ID!) { company(id: $c) { id } }", {"c": world.company_b})
    assert errors_of(body)[0]["extensions"]["code"] == "NOT_FOUND"
    body = await as_admin.execute("query($m: ID!) { grantMatch(id: $m) { id } }", {"m": world.match_ids_b[0]})
    assert errors_of(body)[0]["extensions"]["code"] == "NOT_FOUND"
    # … while each tenant sees its own.
    own = await as_other_tenant.data("query($c: ID!) { company(id: $c) { id name } }", {"c": world.company_b})
    assert own["company"] == {"id": world.company_b, "name": "Beta Wind AG"}


# --- tenant-wide lists ------------------------------------------------------------------------------------------

TENANT_LISTS = """
{
  companies(first: 100) { totalCount edges { node { id } } }
  grantMatches(first: 100) { totalCount edges { node { id company { id } } } }
  grantMatchStats { total saved dismissed viewed }
}
"""


@pytest.mark.parametrize("tenant", ["a", "b"])
async def test_tenant_wide_lists_show_only_the_tenants_own_data(world, as_admin, as_other_tenant, tenant):
    client, company, match_ids = (
        (as_admin, world.company_a, world.match_ids_a)
        if tenant == "a"
        else (as_other_tenant, world.company_b, world.match_ids_b)
    )
    data = await client.data(TENANT_LISTS)
    assert data["companies"]["totalCount"] == 1
    assert [e["node"]["id"] for e in data["companies"]["edges"]] == [company]
    assert data["grantMatches"]["totalCount"] == len(match_ids)
    assert {e["node"]["company"]["id"] for e in data["grantMatches"]["edges"]} == {company}
    assert sorted(e["node"]["id"] for e in data["grantMatches"]["edges"]) == sorted(match_ids)
    own_stats = await client.data(
        "query($c: ID!) { grantMatchStats(companyId: $c) { total saved dismissed viewed } }", {"c": company}
    )
    assert data["grantMatchStats"] == own_stats["grantMatchStats"]
    assert data["grantMatchStats"]["total"] == len(match_ids)


async def test_one_page_statement_serves_each_tenant_with_its_own_values(world, as_admin, as_other_tenant):
    """Pages are built once per shape (graphql_app.db.statements): the second tenant's request reuses the first's
    statement, with its own tenant, never the values it was built with."""
    for _ in range(2):
        for client, company, match_ids in (
            (as_admin, world.company_a, world.match_ids_a),
            (as_other_tenant, world.company_b, world.match_ids_b),
        ):
            page = (await client.data(TENANT_LISTS))["grantMatches"]
            assert sorted(e["node"]["id"] for e in page["edges"]) == sorted(match_ids)
            assert {e["node"]["company"]["id"] for e in page["edges"]} == {company}


async def test_tenant_wide_stats_do_not_count_other_tenants_flags(world, as_other_tenant):
    """tenant-a saved and dismissed matches; tenant-b's stats know nothing of it."""
    data = await as_other_tenant.data("{ grantMatchStats { total saved dismissed viewed } }")
    assert data["grantMatchStats"] == {"total": 3, "saved": 0, "dismissed": 0, "viewed": 0}


async def test_platform_admin_sees_every_tenants_company_and_matches(world, as_platform_admin):
    data = await as_platform_admin.data(
        """
        query($c: ID!, $m: ID!, $comp: ID!) {
          company(id: $c) { id name grantMatches { totalCount } }
          grantMatches(companyId: $c) { totalCount edges { node { id } } }
          grantMatch(id: $m) { id company { id } }
          grantMatchStats(companyId: $c) { total saved dismissed }
          computation(id: $comp) { id status subjectId }
          companies(first: 100) { totalCount edges { node { id } } }
        }
        """,
        {"c": world.company_a, "m": world.match_ids_a[0], "comp": world.computation_a},
    )
    assert data["company"] == {"id": world.company_a, "name": "Alpha Solar GmbH", "grantMatches": {"totalCount": 3}}
    assert sorted(e["node"]["id"] for e in data["grantMatches"]["edges"]) == sorted(world.match_ids_a)
    assert data["grantMatch"] == {"id": world.match_ids_a[0], "company": {"id": world.company_a}}
    assert data["grantMatchStats"] == {"total": 3, "saved": 1, "dismissed": 1}
    assert data["computation"] == {"id": world.computation_a, "status": "SUCCEEDED", "subjectId": world.company_a}
    assert {e["node"]["id"] for e in data["companies"]["edges"]} == {world.company_a, world.company_b}


# --- roles ------------------------------------------------------------------------------------------------------


def gql(kind: str, selection: str) -> str:
    """``kind`` ("query"/"mutation") with ``selection``, declaring the ID! variables it uses."""
    names = sorted(set(re.findall(r"\$(\w+)", selection)))
    declarations = f"({', '.join(f'${n}: ID!' for n in names)})" if names else ""
    return f"{kind}{declarations} {{ {selection} }}"


COMPANY_AND_MATCH_FIELDS = [
    ("company", gql("query", "company(id: $c) { id }")),
    ("companies", gql("query", "companies { totalCount }")),
    ("grantMatches", gql("query", "grantMatches(companyId: $c) { totalCount }")),
    ("grantMatches (tenant)", gql("query", "grantMatches { totalCount }")),
    ("grantMatch", gql("query", "grantMatch(id: $m) { id }")),
    ("grantMatchStats", gql("query", "grantMatchStats(companyId: $c) { total }")),
    ("grantMatchStats (tenant)", gql("query", "grantMatchStats { total }")),
    ("liveGrantMatches", gql("query", "liveGrantMatches(companyId: $c) { totalCount }")),
    ("createCompany", gql("mutation", 'createCompany(input: {name: "X", country: "DE", employees: 3}) { id }')),
    ("updateCompany", gql("mutation", 'updateCompany(id: $c, input: {name: "X"}) { id }')),
    ("calculateGrantMatches", gql("mutation", "calculateGrantMatches(companyId: $c) { id }")),
    ("refreshGrantMatches", gql("mutation", "refreshGrantMatches(companyId: $c) { saved }")),
    ("applyGrantMatchAction", gql("mutation", "applyGrantMatchAction(matchId: $m, action: SAVE) { id }")),
    ("markGrantMatchViewed", gql("mutation", "markGrantMatchViewed(companyId: $c, grantId: $g) { id }")),
    ("setGrantMatchSaved", gql("mutation", "setGrantMatchSaved(companyId: $c, grantId: $g) { id }")),
    ("setGrantMatchDismissed", gql("mutation", "setGrantMatchDismissed(companyId: $c, grantId: $g) { id }")),
]


@pytest.mark.parametrize("operation", [pytest.param(op, id=name) for name, op in COMPANY_AND_MATCH_FIELDS])
async def test_member_only_token_is_forbidden_company_and_match_fields(world, http, as_admin, operation):
    member = GraphQLClient(http, token_for("tenant-a", ("MEMBER",), member_id=str(uuid.uuid4())))
    variables = {"c": world.company_a, "m": world.match_ids_a[2], "g": world.match_grants_a[2]}
    before = await snapshot(as_admin, world.company_a)
    companies_before = (await as_admin.data("{ companies { totalCount } }"))["companies"]["totalCount"]
    body = await member.execute(operation, variables)
    assert errors_of(body)[0]["extensions"]["code"] == "FORBIDDEN", body
    assert body.get("data") is None or all(v is None for v in body["data"].values())
    assert await snapshot(as_admin, world.company_a) == before
    assert (await as_admin.data("{ companies { totalCount } }"))["companies"]["totalCount"] == companies_before


async def test_org_user_may_read_and_act_on_matches(world, http, as_admin):
    user = GraphQLClient(http, token_for("tenant-a", ("ORG_USER",)))
    match_id = world.match_ids_a[2]
    grant_id = world.match_grants_a[2]
    data = await user.data(
        """
        query($c: ID!, $m: ID!) {
          company(id: $c) { id grantMatches { totalCount } }
          grantMatches(companyId: $c) { totalCount }
          grantMatch(id: $m) { id isSaved }
          grantMatchStats(companyId: $c) { total }
          liveGrantMatches(companyId: $c) { totalCount }
        }
        """,
        {"c": world.company_a, "m": match_id},
    )
    assert data["company"]["grantMatches"]["totalCount"] == data["grantMatches"]["totalCount"] == 3
    assert data["grantMatch"] == {"id": match_id, "isSaved": False}
    assert data["grantMatchStats"]["total"] == 3
    assert data["liveGrantMatches"]["totalCount"] == 3

    saved = await user.data(
        "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: SAVE) { id isSaved isDismissed } }",
        {"m": match_id},
    )
    assert saved["applyGrantMatchAction"] == {"id": match_id, "isSaved": True, "isDismissed": False}
    viewed = await user.data(
        "mutation($c: ID!, $g: ID!) { markGrantMatchViewed(companyId: $c, grantId: $g) { id isViewed } }",
        {"c": world.company_a, "g": grant_id},
    )
    assert viewed["markGrantMatchViewed"] == {"id": match_id, "isViewed": True}
    dismissed = await user.data(
        "mutation($c: ID!, $g: ID!) { setGrantMatchDismissed(companyId: $c, grantId: $g) { isSaved isDismissed } }",
        {"c": world.company_a, "g": grant_id},
    )
    assert dismissed["setGrantMatchDismissed"] == {"isSaved": False, "isDismissed": True}
    # The admin of the same tenant sees what the user did.
    seen = await as_admin.data("query($m: ID!) { grantMatch(id: $m) { isViewed isDismissed } }", {"m": match_id})
    assert seen["grantMatch"] == {"isViewed": True, "isDismissed": True}


CATALOGUE_WRITES = [
    ("createGrant", gql("mutation", 'createGrant(input: {title: "Sneaky grant"}) { id }')),
    ("createGrants", gql("mutation", 'createGrants(inputs: [{title: "Sneaky 1"}, {title: "Sneaky 2"}]) { id }')),
    ("updateGrant", gql("mutation", 'updateGrant(id: $g, input: {title: "Renamed"}) { id title }')),
]


@pytest.mark.parametrize("operation", [pytest.param(op, id=name) for name, op in CATALOGUE_WRITES])
@pytest.mark.parametrize(
    ("principal", "code"),
    [
        ("ORG_ADMIN", "FORBIDDEN"),
        ("ORG_USER", "FORBIDDEN"),
        ("MEMBER", "FORBIDDEN"),
        ("anonymous", "UNAUTHENTICATED"),
    ],
)
async def test_only_platform_admins_edit_the_grant_catalogue(
    world, http, as_platform_admin, operation, principal, code
):
    token = None if principal == "anonymous" else token_for("tenant-a", (principal,))
    client = GraphQLClient(http, token)
    catalogue = "{ grants(first: 100, includeClosed: true) { totalCount edges { node { id title } } } }"
    before = await as_platform_admin.data(catalogue)
    body = await client.execute(operation, {"g": world.grant_ids[0]})
    assert errors_of(body)[0]["extensions"]["code"] == code, body
    assert body.get("data") is None or all(v is None for v in body["data"].values())
    assert await as_platform_admin.data(catalogue) == before


async def test_platform_admin_edits_the_grant_catalogue(world, as_platform_admin):
    data = await as_platform_admin.data(
        'mutation($id: ID!) { updateGrant(id: $id, input: {title: "Solar Boost II"}) { id title } }',
        {"id": world.grant_ids[0]},
    )
    assert data["updateGrant"] == {"id": world.grant_ids[0], "title": "Solar Boost II"}


CATALOGUE_READ = """
query($g: ID!) {
  grants(first: 100) { totalCount edges { node { id title } } }
  grant(id: $g) { id title }
  searchGrants(text: "solar energy funding", first: 3) { similarity grant { id } }
}
"""


@pytest.mark.parametrize(
    ("tenant", "roles"),
    [
        ("tenant-a", ("MEMBER",)),
        ("tenant-a", ("ORG_USER",)),
        ("tenant-a", ("ORG_ADMIN",)),
        ("tenant-b", ("ORG_ADMIN",)),
        ("platform", ("PLATFORM_ADMIN",)),
        ("tenant-c", ()),
    ],
    ids=["member", "org-user", "org-admin", "other-tenant", "platform-admin", "no-roles"],
)
async def test_grant_catalogue_is_readable_by_any_authenticated_principal(world, http, tenant, roles):
    client = GraphQLClient(http, token_for(tenant, roles))
    data = await client.data(CATALOGUE_READ, {"g": world.grant_ids[1]})
    assert data["grants"]["totalCount"] == 3
    assert {e["node"]["id"] for e in data["grants"]["edges"]} == set(world.grant_ids)
    assert data["grant"] == {"id": world.grant_ids[1], "title": "Efficient Buildings"}
    assert len(data["searchGrants"]) == 3
    assert data["searchGrants"][0]["grant"]["id"] == world.grant_ids[0]


# --- authentication ---------------------------------------------------------------------------------------------

DATA_FIELDS = [
    ("me", "{ me { subject } }"),
    ("companies", "{ companies { totalCount } }"),
    ("company", f'{{ company(id: "{uuid.uuid4()}") {{ id }} }}'),
    ("grants", "{ grants { totalCount } }"),
    ("grant", f'{{ grant(id: "{uuid.uuid4()}") {{ id }} }}'),
    ("searchGrants", '{ searchGrants(text: "solar") { similarity } }'),
    ("grantMatches", "{ grantMatches { totalCount } }"),
    ("grantMatchStats", "{ grantMatchStats { total } }"),
    ("computation", f'{{ computation(id: "{uuid.uuid4()}") {{ id }} }}'),
    ("createCompany", 'mutation { createCompany(input: {name: "X", country: "DE", employees: 3}) { id } }'),
]


@pytest.mark.parametrize("operation", [pytest.param(op, id=name) for name, op in DATA_FIELDS])
async def test_no_token_is_unauthenticated(anonymous, operation):
    body = await anonymous.execute(operation)
    assert errors_of(body)[0]["extensions"]["code"] == "UNAUTHENTICATED", body
    assert body.get("data") is None


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "mallory@tenant-a", "tenant_id": "tenant-a", "roles": ["ORG_ADMIN"], "iat": now, "exp": now + 600}
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _hs256(claims: dict[str, Any], secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


def _hs512(claims: dict[str, Any]) -> str:
    with warnings.catch_warnings():  # the right secret, an algorithm the server does not accept
        warnings.simplefilter("ignore", InsecureKeyLengthWarning)
        return jwt.encode(claims, JWT_SECRET, algorithm="HS512")


BAD_TOKENS = {
    "malformed": lambda: "not-a-jwt",
    "three-garbage-parts": lambda: "abc.def.ghi",
    "expired": lambda: _hs256(_claims(iat=int(time.time()) - 7200, exp=int(time.time()) - 3600)),
    "wrong-secret": lambda: _hs256(_claims(), secret="another-secret-" + "y" * 32),
    "alg-none": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
    "alg-none-with-signature": lambda: f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.c2lnbmF0dXJl",
    "alg-HS512": lambda: _hs512(_claims()),
    "missing-tenant_id": lambda: _hs256(_claims(tenant_id=None)),
    "missing-exp": lambda: _hs256(_claims(exp=None)),
    "missing-sub": lambda: _hs256(_claims(sub=None)),
    "tampered-payload": lambda: (
        lambda t: ".".join([t.split(".")[0], _b64(_claims(roles=["PLATFORM_ADMIN"])), t.split(".")[2]])
    )(_hs256(_claims())),
}


@pytest.mark.parametrize("make_token", BAD_TOKENS.values(), ids=BAD_TOKENS.keys())
@pytest.mark.parametrize(
    "operation",
    ["{ me { subject } }", "{ companies { totalCount } }", "{ grants { totalCount } }"],
    ids=["me", "companies", "grants"],
)
async def test_bad_tokens_are_unauthenticated(http, make_token, operation):
    body = await GraphQLClient(http, make_token()).execute(operation)
    error = errors_of(body)[0]
    assert error["extensions"]["code"] == "UNAUTHENTICATED", body
    assert body.get("data") is None
    assert JWT_SECRET not in json.dumps(body)


@pytest.mark.parametrize("header", ["Basic dXNlcjpwYXNz", "Bearer", "Bearer    ", "Token abc"])
async def test_malformed_authorization_header_is_unauthenticated(http, header):
    response = await http.post("/graphql", json={"query": "{ me { subject } }"}, headers={"Authorization": header})
    assert response.status_code == 200, response.text
    body = response.json()
    assert errors_of(body)[0]["extensions"]["code"] == "UNAUTHENTICATED", body


async def test_a_valid_hand_made_token_is_accepted(http):
    """Control for the bad-token cases: the same claims, correctly signed, authenticate."""
    body = await GraphQLClient(http, _hs256(_claims())).data("{ me { subject tenantId roles } }")
    assert body["me"] == {"subject": "mallory@tenant-a", "tenantId": "tenant-a", "roles": ["ORG_ADMIN"]}
