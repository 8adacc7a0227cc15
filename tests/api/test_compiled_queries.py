"""Compiled plans answer exactly like the resolvers (see docs/architecture.md), in one SQL statement.

Two apps share one database: one with compiled plans, one without. Every operation below is sent to both as
the same caller and the answers (data *and* errors) must be equal. The compiled app's counters prove which
path answered: operations it covers are served by a plan; errors, other roles and uncovered fields are handed
to the resolvers.
"""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from sqlalchemy import text

from graphql_app.compiled import CompiledQueries
from graphql_app.db.engine import count_statements
from graphql_app.services.grant_alerts import NewAlert, raise_alerts
from tests.api.factories import calculate, create_company, create_grants, deadline_in, grant_input
from tests.conftest import token_for

MATCH_FIELDS = """
  __typename id createdAt updatedAt score semanticScore ruleScore carbonScore collaborativeScore recencyScore
  matchReasons scoreBreakdown isViewed isSaved isDismissed
"""
GRANT_ALL = """
  __typename id title description funder countries naceCodes sizes carbonCategories certifications
  taxonomyObjectives isCarbonFocused deadline amountMin amountMax currency url createdAt updatedAt daysLeft isOpen
"""
COMPANY_ALL = """
  __typename id name country naceCodes size employees description carbonCategories certifications
  taxonomyObjectives createdAt updatedAt alertMinScore alertCarbonFocusedOnly alertMinAmount
"""

PAGE = f"""
query Page($c: ID, $first: Int!, $after: String, $status: GrantMatchStatus, $min: Float) {{
  grantMatches(companyId: $c, first: $first, after: $after, status: $status, minScore: $min) {{
    __typename totalCount
    pageInfo {{ __typename hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ __typename cursor node {{ {MATCH_FIELDS} grant {{ {GRANT_ALL} }} company {{ {COMPANY_ALL} }} }} }}
  }}
}}"""

SHAPES = """
fragment Scores on GrantMatchScores { score ruleScore }
fragment Stored on GrantMatch { ...Scores isSaved grant { title } }
query Shapes($c: ID!) {
  top: grantMatches(companyId: $c, first: 3) {
    edges { node { id ...Stored ... on Match { createdAt } } node { grant { id funder } } }
    count: totalCount
  }
  rest: grantMatches(companyId: $c, first: 2, status: ACTIVE, minScore: 0.0) { pageInfo { endCursor } }
  countOnly: grantMatches(companyId: $c, first: 1) { totalCount __typename }
  tenantCount: grantMatches(first: 5) { totalCount }
}"""

DEEP = """
query Deep($c: ID!) {
  company(id: $c) { name grantMatches(first: 3) { totalCount edges { node { score
    grant { title daysLeft }
    company { id grantMatches(first: 2, status: ACTIVE) { totalCount edges { cursor node { id } } } }
  } } } }
}"""

LISTS = f"""
query Lists($first: Int!, $after: String, $closed: Boolean!, $country: String, $companiesAfter: String) {{
  grants(first: $first, after: $after, includeClosed: $closed) {{
    __typename totalCount pageInfo {{ hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ __typename cursor node {{ {GRANT_ALL} }} }}
  }}
  companies(first: $first, after: $companiesAfter, country: $country) {{
    totalCount pageInfo {{ hasNextPage endCursor }}
    edges {{ cursor node {{ {COMPANY_ALL} grantMatches(first: 2) {{ totalCount edges {{ node {{ id grant {{ title }} }} }} }} }} }}
  }}
}}"""

SINGLE = """
query Single($g: ID!, $m: ID!) {
  grant(id: $g) { id deadline daysLeft isOpen amountMin amountMax url }
  grantMatch(id: $m) { id score grant { title } company { name } }
}"""


@pytest.fixture
async def matched(as_platform_admin, as_admin, as_other_tenant) -> dict:
    """Grants (open, closed, rolling; with and without amounts) and matched companies in two tenants."""
    await create_grants(
        as_platform_admin,
        [grant_input(f"Call {i:02d}", deadline=deadline_in(10 + i * 3.25)) for i in range(14)]
        + [
            grant_input("Rolling call", deadline=None, amountMin=None, amountMax=None, url=None),
            grant_input("Closed call", deadline=deadline_in(-2)),
            grant_input("Carbon call", isCarbonFocused=True, deadline=deadline_in(0.5)),
        ],
    )
    first = await create_company(as_admin, name="Solar Engineering GmbH")
    second = await create_company(as_admin, name="Wind Retrofit BV", country="NL", employees=None, size="SMALL")
    other = await create_company(as_other_tenant, name="Other Tenant AB", country="SE")
    computations = []
    for client, company in ((as_admin, first), (as_admin, second), (as_other_tenant, other)):
        computations.append(await calculate(client, company["id"]))
        assert computations[-1]["status"] == "SUCCEEDED"
    page = await as_admin.data(PAGE, {"c": first["id"], "first": 5})
    nodes = [edge["node"] for edge in page["grantMatches"]["edges"]]
    await as_admin.data(
        "mutation($a: ID!, $b: ID!) { s: applyGrantMatchAction(matchId: $a, action: SAVE) { id }"
        " d: applyGrantMatchAction(matchId: $b, action: DISMISS) { id } }",
        {"a": nodes[0]["id"], "b": nodes[1]["id"]},
    )
    return {
        "first": first,
        "second": second,
        "other": other,
        "match": nodes[2],
        "grant": nodes[2]["grant"],
        "computation": computations[0],
        "other_computation": computations[2],
    }


async def answer(client: httpx.AsyncClient, token: str | None, query: str, variables: dict) -> dict:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = await client.post("/graphql", json={"query": query, "variables": variables}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def in_path_order(body: dict) -> dict:
    """The response with its errors ordered by path: fields that fail concurrently report in either order (the
    GraphQL spec leaves the order of errors open)."""
    if not body.get("errors"):
        return body
    return {**body, "errors": sorted(body["errors"], key=lambda error: repr(error.get("path")))}


async def assert_same(apps, token: str | None, query: str, variables: dict, *, compiled: bool) -> dict:
    """Both apps answer alike; ``compiled`` says whether a plan (rather than the resolvers) must have answered."""
    compiled_app, interpreted_app = apps
    plans: CompiledQueries = compiled_app.plans
    served, merged = plans.served, plans.merged
    with count_statements() as log:
        expected = await answer(interpreted_app, token, query, variables)
    interpreted_statements = log.count
    with count_statements() as log:
        got = await answer(compiled_app, token, query, variables)
    assert in_path_order(got) == in_path_order(expected)
    assert plans.served == served + (1 if compiled else 0), (plans.served, served, got)
    if compiled and plans.merged == merged:  # the plan answered everything: one statement
        assert log.count == 1 <= max(interpreted_statements, 1), log.statements  # `me` alone needs no table
    elif compiled:  # the plan's statement, then the resolvers' part
        assert log.statements[0].startswith("SELECT json_build_object"), log.statements
        assert log.count <= interpreted_statements, log.statements
    return got


ADMIN_A = token_for("tenant-a", ("ORG_ADMIN",))
USER_A = token_for("tenant-a", ("ORG_USER",))
PLATFORM = token_for("platform", ("PLATFORM_ADMIN",))


async def test_frontend_page_and_every_filter_match_the_resolvers(two_apps, matched):
    company = matched["first"]["id"]
    for token in (ADMIN_A, USER_A, PLATFORM):
        for variables in (
            {"c": company, "first": 20},
            {"c": company, "first": 1},
            {"c": company, "first": 100, "status": "ACTIVE"},
            {"c": company, "first": 4, "status": "SAVED"},
            {"c": company, "first": 4, "status": "DISMISSED"},
            {"c": company, "first": 3, "min": 0.2},
            {"c": matched["second"]["id"], "first": 4, "status": "DISMISSED"},  # an empty page
            {"c": None, "first": 7},
            {"first": 7},
        ):
            body = await assert_same(two_apps, token, PAGE, variables, compiled=True)
            assert not body.get("errors")
    # One statement per shape (scoping, which optional arguments, which status), not per request.
    statements = two_apps[0].plans.plan_for(PAGE, None, {"first": 1}).statements
    # {tenant-scoped, platform admin} × {plain, ACTIVE, SAVED, DISMISSED, minScore, no company}: 10 variable
    # sets per caller, 6 shapes.
    assert len(statements) == 2 * 6, list(statements)
    tenant_wide = await assert_same(two_apps, PLATFORM, PAGE, {"first": 100}, compiled=True)
    tenants = {edge["node"]["company"]["name"] for edge in tenant_wide["data"]["grantMatches"]["edges"]}
    assert "Other Tenant AB" in tenants and "Solar Engineering GmbH" in tenants  # platform admins see all
    own = await assert_same(two_apps, ADMIN_A, PAGE, {"first": 100}, compiled=True)
    assert "Other Tenant AB" not in {e["node"]["company"]["name"] for e in own["data"]["grantMatches"]["edges"]}
    titles = {e["node"]["grant"]["title"] for e in own["data"]["grantMatches"]["edges"]}
    assert "Closed call" not in titles and "Rolling call" in titles


async def test_get_requests_and_the_strawberry_path_use_plans_too(two_apps, matched):
    """GET (and, with the response cache on, POST) run plans inside Strawberry's execute_single."""
    compiled_app, interpreted_app = two_apps
    params = {"query": PAGE, "variables": json.dumps({"c": matched["first"]["id"], "first": 3})}
    headers = {"Authorization": f"Bearer {ADMIN_A}"}
    served = compiled_app.plans.served
    got = (await compiled_app.get("/graphql", params=params, headers=headers)).json()
    expected = (await interpreted_app.get("/graphql", params=params, headers=headers)).json()
    assert got == expected and len(got["data"]["grantMatches"]["edges"]) == 3
    assert compiled_app.plans.served == served + 1


async def test_cursor_pages_walk_the_same_list(two_apps, matched):
    variables = {"c": matched["first"]["id"], "first": 4}
    seen = []
    while True:
        body = await assert_same(two_apps, ADMIN_A, PAGE, variables, compiled=True)
        connection = body["data"]["grantMatches"]
        seen += [edge["node"]["id"] for edge in connection["edges"]]
        if not connection["pageInfo"]["hasNextPage"]:
            break
        variables["after"] = connection["pageInfo"]["endCursor"]
    assert len(seen) == len(set(seen)) == connection["totalCount"] > 4
    last = {**variables, "first": 2, "after": connection["pageInfo"]["endCursor"]}
    past_the_end = await assert_same(two_apps, ADMIN_A, PAGE, last, compiled=True)
    assert past_the_end["data"]["grantMatches"]["edges"] == []
    assert past_the_end["data"]["grantMatches"]["totalCount"] == len(seen)


async def test_fragments_aliases_merged_fields_nested_lists_and_single_rows(two_apps, matched):
    company = matched["first"]["id"]
    await assert_same(two_apps, ADMIN_A, SHAPES, {"c": company}, compiled=True)
    deep = await assert_same(two_apps, ADMIN_A, DEEP, {"c": company}, compiled=True)
    assert deep["data"]["company"]["grantMatches"]["edges"][0]["node"]["company"]["grantMatches"]["totalCount"] > 0
    single = {"g": matched["grant"]["id"], "m": matched["match"]["id"]}
    await assert_same(two_apps, USER_A, SINGLE, single, compiled=True)
    await assert_same(two_apps, PLATFORM, SINGLE, single, compiled=True)
    literal = f'{{ grantMatches(first: 2, companyId: "{company}", status: SAVED) {{ totalCount edges {{ cursor }} }} }}'
    await assert_same(two_apps, ADMIN_A, literal, {}, compiled=True)


async def test_catalogue_and_company_lists_page_alike(two_apps, matched):
    for token in (ADMIN_A, PLATFORM):
        variables = {"first": 4, "closed": False}
        pages = 0
        while True:
            body = await assert_same(two_apps, token, LISTS, variables, compiled=True)
            pages += 1
            grants_page, companies_page = body["data"]["grants"], body["data"]["companies"]
            if not grants_page["pageInfo"]["hasNextPage"]:
                break
            variables["after"] = grants_page["pageInfo"]["endCursor"]
            variables["companiesAfter"] = companies_page["pageInfo"]["endCursor"]
        assert pages == 4 and grants_page["totalCount"] == 16  # 17 grants, one closed
        assert grants_page["edges"][-1]["node"]["deadline"] is None  # rolling calls last
    for variables in (
        {"first": 100, "closed": True},
        {"first": 3, "closed": True, "country": "nl"},
        {"first": 3, "closed": False, "after": "", "companiesAfter": None},
    ):
        await assert_same(two_apps, PLATFORM, LISTS, variables, compiled=True)
    own = await assert_same(two_apps, ADMIN_A, LISTS, {"first": 100, "closed": True}, compiled=True)
    assert {e["node"]["name"] for e in own["data"]["companies"]["edges"]} == {
        "Solar Engineering GmbH",
        "Wind Retrofit BV",
    }
    for bad in ({"first": 3, "closed": True, "country": "XX"}, {"first": 3, "closed": True, "after": "nope"}):
        body = await assert_same(two_apps, ADMIN_A, LISTS, bad, compiled=False)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_errors_roles_and_other_tenants_are_answered_by_the_resolvers(two_apps, matched):
    company, other = matched["first"]["id"], matched["other"]["id"]
    member = token_for("tenant-a", ("MEMBER",), member_id=str(uuid.uuid4()))
    cases = [
        (None, PAGE, {"c": company, "first": 5}),  # UNAUTHENTICATED
        ("not-a-token", PAGE, {"c": company, "first": 5}),
        (member, PAGE, {"c": company, "first": 5}),  # FORBIDDEN
        (ADMIN_A, PAGE, {"c": other, "first": 5}),  # another tenant's company: NOT_FOUND
        (ADMIN_A, PAGE, {"c": str(uuid.uuid4()), "first": 5}),
        (ADMIN_A, PAGE, {"c": "not-a-uuid", "first": 5}),
        (ADMIN_A, PAGE, {"c": company, "first": 0}),
        (ADMIN_A, PAGE, {"c": company, "first": 101}),
        (ADMIN_A, PAGE, {"c": company, "first": 5, "after": "garbage"}),
        (ADMIN_A, PAGE, {"c": company, "first": 5, "min": 1.5}),
        (ADMIN_A, PAGE, {"c": company, "first": "five"}),  # variable coercion
        (ADMIN_A, DEEP, {"c": other}),
        (ADMIN_A, SINGLE, {"g": str(uuid.uuid4()), "m": matched["match"]["id"]}),
        (ADMIN_A, SINGLE, {"g": matched["grant"]["id"], "m": str(uuid.uuid4())}),
        (ADMIN_A, "{ grantMatches(first: 2) { nope } }", {}),  # validation
        (ADMIN_A, "{ grantMatches(first: 2 { totalCount } }", {}),  # syntax
    ]
    for token, query, variables in cases:
        body = await assert_same(two_apps, token, query, variables, compiled=False)
        assert body["errors"] and all(error["extensions"]["code"] for error in body["errors"])


async def test_what_plans_do_not_cover_runs_through_the_resolvers(two_apps, matched):
    uncovered = [
        ("query($c: ID!) { liveGrantMatches(companyId: $c) { totalCount } }", {"c": matched["first"]["id"]}),
        ("{ __schema { queryType { name } } }", {}),
    ]
    for query, variables in uncovered:
        body = await assert_same(two_apps, ADMIN_A, query, variables, compiled=False)
        assert not body.get("errors"), body


async def test_directives_are_applied_when_the_plan_is_bound(two_apps, matched):
    company = matched["first"]["id"]
    query = """
    query($c: ID!, $s: Boolean!, $lean: Boolean = false) {
      company(id: $c) {
        name @include(if: $s)
        country @skip(if: $s)
        ... @skip(if: $lean) { grantMatches(first: 2) { totalCount edges @include(if: $s) { node { score } } } }
        size @skip(if: true)
      }
    }"""
    for variables in ({"s": True}, {"s": False}, {"s": True, "lean": True}, {"s": False, "lean": True}):
        body = await assert_same(two_apps, ADMIN_A, query, {"c": company, **variables}, compiled=True)
        assert not body.get("errors") and ("name" in body["data"]["company"]) == variables["s"]
    # One plan per combination of the conditions' variables, each with its own statement.
    assert two_apps[0].plans.plan_for(query, None, {"c": company, "s": True}).statements
    lean = two_apps[0].plans.plan_for(query, None, {"c": company, "s": False, "lean": True})
    assert [f.key for f in lean.root.fields[0].selection.fields] == ["country"]


async def test_mixed_root_fields_run_the_plan_and_the_resolvers_into_one_response(two_apps, matched):
    company, other = matched["first"]["id"], matched["other"]["id"]
    plans: CompiledQueries = two_apps[0].plans
    merged = plans.merged
    cases = [
        (
            "query($c: ID!) { company(id: $c) { name } live: liveGrantMatches(companyId: $c) { totalCount } }",
            {"c": company},
        ),
        # The resolvers' part in the middle, aliased, through fragments, with variables of its own.
        (
            """fragment Live on LiveGrantMatch { score grant { title } }
            query Both($c: ID!, $n: Int!, $live: Int!) {
              top: grantMatches(companyId: $c, first: $n) { edges { node { score } } }
              ... on Query { live: liveGrantMatches(companyId: $c, first: $live) { edges { node { ...Live } } } }
              grants(first: 1) { totalCount }
            }""",
            {"c": company, "n": 2, "live": 3},
        ),
        # An error in the resolvers' part: the same data, errors, paths and locations as the resolvers alone.
        (
            'query($c: ID!) {\n  company(id: $c) { name }\n  live: liveGrantMatches(companyId: "nope") { totalCount }\n}',
            {"c": company},
        ),
        (  # another tenant's company in the resolvers' part
            "query($c: ID!, $o: ID!) { company(id: $c) { name } live: liveGrantMatches(companyId: $o) { totalCount } }",
            {"c": company, "o": other},
        ),
    ]
    for query, variables in cases:
        await assert_same(two_apps, ADMIN_A, query, variables, compiled=True)
    assert plans.merged == merged + len(cases)
    # A plan that cannot answer its part (another tenant's company) hands the whole request to the resolvers.
    body = await assert_same(
        two_apps,
        ADMIN_A,
        "query($c: ID!) { company(id: $c) { name } live: liveGrantMatches(companyId: $c) { totalCount } }",
        {"c": other},
        compiled=False,
    )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


VIEWER_ALL = "__typename subject tenantId roles memberId"
COMPUTATION_ALL = """
  __typename id kind status progress totalCount processedCount resultCount subjectId parameters error attempts
  requestedBy createdAt startedAt finishedAt updatedAt
"""
STATS_ALL = "__typename total saved dismissed viewed averageScore topScore histogram { __typename lower upper count }"
CALLER = f"""
query($k: ID!, $c: ID) {{
  me {{ {VIEWER_ALL} }}
  computation(id: $k) {{ {COMPUTATION_ALL} }}
  stats: grantMatchStats(companyId: $c) {{ {STATS_ALL} }}
  all: grantMatchStats {{ total averageScore }}
}}"""


async def test_the_caller_its_computations_and_match_statistics_match_the_resolvers(two_apps, matched):
    computation, company = matched["computation"]["id"], matched["first"]["id"]
    member = token_for("tenant-a", ("MEMBER",), member_id=str(uuid.uuid4()))
    for token, variables in (
        (ADMIN_A, {"k": computation, "c": company}),
        (ADMIN_A, {"k": computation, "c": matched["second"]["id"]}),
        (USER_A, {"k": computation, "c": None}),
        (PLATFORM, {"k": matched["other_computation"]["id"], "c": matched["other"]["id"]}),
    ):
        body = await assert_same(two_apps, token, CALLER, variables, compiled=True)
        assert not body.get("errors") and body["data"]["stats"]["histogram"][9]["upper"] == 1
    body = await assert_same(two_apps, member, "{ me { " + VIEWER_ALL + " } }", {}, compiled=True)
    assert body["data"]["me"]["memberId"] and body["data"]["me"]["roles"] == ["MEMBER"]
    # Another tenant's computation or company, a malformed id: the resolvers answer (NOT_FOUND, BAD_USER_INPUT).
    for variables in (
        {"k": matched["other_computation"]["id"], "c": company},
        {"k": computation, "c": matched["other"]["id"]},
        {"k": "nope", "c": None},
    ):
        body = await assert_same(two_apps, ADMIN_A, CALLER, variables, compiled=False)
        assert body["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "BAD_USER_INPUT")
    # A member may not read match statistics: the permission refuses it on both paths.
    body = await assert_same(two_apps, member, CALLER, {"k": computation, "c": None}, compiled=False)
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN"


ALERTS = f"""
query Alerts($c: ID!, $unread: Boolean!, $first: Int!, $after: String) {{
  grantAlerts(companyId: $c, unreadOnly: $unread, first: $first, after: $after) {{
    __typename totalCount pageInfo {{ __typename hasNextPage hasPreviousPage startCursor endCursor }}
    edges {{ __typename cursor node {{ __typename id reason score companyId raisedAt readAt isRead
      grant {{ {GRANT_ALL} }} company {{ id name }} }} }}
  }}
}}"""


async def test_grant_alerts_pages_and_refusals_match_the_resolvers(two_apps, matched, services):
    company = matched["first"]
    async with services.db.reader() as conn:
        grants = (await conn.execute(text("SELECT id FROM grants ORDER BY title LIMIT 4"))).scalars().all()
    reasons = ["NEW_GRANT", "GRANT_CHANGED", "DEADLINE_APPROACHING", "NEW_GRANT"]
    async with services.db.transaction() as conn:
        await raise_alerts(
            conn,
            [
                NewAlert("tenant-a", uuid.UUID(company["id"]), grant, reason, 0.5 + n / 10)
                for n, (grant, reason) in enumerate(zip(grants, reasons, strict=True))
            ],
        )
    first_page = await assert_same(
        two_apps, ADMIN_A, ALERTS, {"c": company["id"], "unread": False, "first": 3}, compiled=True
    )
    alerts = first_page["data"]["grantAlerts"]
    assert alerts["totalCount"] == 4 and alerts["pageInfo"]["hasNextPage"] is True
    await as_admin_marks_read(two_apps, company["id"], alerts["edges"][0]["node"]["id"])
    after = {"c": company["id"], "unread": False, "first": 3, "after": alerts["pageInfo"]["endCursor"]}
    rest = await assert_same(two_apps, ADMIN_A, ALERTS, after, compiled=True)
    assert len(rest["data"]["grantAlerts"]["edges"]) == 1
    unread = await assert_same(
        two_apps, USER_A, ALERTS, {"c": company["id"], "unread": True, "first": 20}, compiled=True
    )
    assert unread["data"]["grantAlerts"]["totalCount"] == 3
    await assert_same(two_apps, PLATFORM, ALERTS, {"c": company["id"], "unread": False, "first": 2}, compiled=True)
    # Another tenant's company, a bad cursor, a bad page size: the resolvers answer, alike.
    for token, variables in (
        (token_for("tenant-b", ("ORG_ADMIN",)), {"c": company["id"], "unread": False, "first": 2}),
        (ADMIN_A, {"c": company["id"], "unread": False, "first": 2, "after": "bogus"}),
        (ADMIN_A, {"c": company["id"], "unread": False, "first": 0}),
        (ADMIN_A, {"c": "nope", "unread": False, "first": 2}),
    ):
        body = await assert_same(two_apps, token, ALERTS, variables, compiled=False)
        assert body["errors"][0]["extensions"]["code"] in ("NOT_FOUND", "BAD_USER_INPUT")


async def as_admin_marks_read(apps, company_id: str, alert_id: str) -> None:
    marked = await answer(
        apps[1],
        ADMIN_A,
        "mutation($c: ID!, $a: [ID!]) { markGrantAlertsRead(companyId: $c, alertIds: $a) { markedCount } }",
        {"c": company_id, "a": [alert_id]},
    )
    assert marked["data"]["markGrantAlertsRead"]["markedCount"] == 1


def test_every_mapped_field_is_compared_here():
    """A field added to the mappings must be added to the queries above (so both paths are compared on it)."""
    from graphql_app.compiled import alert_fields, viewer_fields
    from graphql_app.compiled.grant_fields import COMPANY_FIELDS, GRANT_FIELDS, GRANT_MATCH_FIELDS, QUERY_FIELDS

    asked = set(
        (PAGE + SHAPES + DEEP + SINGLE + LISTS + GRANT_ALL + COMPANY_ALL + MATCH_FIELDS + CALLER + ALERTS)
        .replace("{", " ")
        .split()
    )
    for mapping in (
        GRANT_FIELDS,
        COMPANY_FIELDS,
        GRANT_MATCH_FIELDS,
        QUERY_FIELDS,
        viewer_fields.QUERY_FIELDS,
        viewer_fields.VIEWER_FIELDS,
        viewer_fields.COMPUTATION_FIELDS,
        alert_fields.GRANT_ALERT_FIELDS,
        alert_fields.QUERY_FIELDS,
    ):
        assert set(mapping) <= {word.split("(")[0] for word in asked}, set(mapping) - asked
