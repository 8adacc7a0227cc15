# ruff: noqa: F811 - pytest fixtures imported from test_compiled_queries are redefined as arguments
"""Review of compiled plans against the resolvers (see docs/architecture.md): differences found, and probes that must hold.

Same approach as ``test_compiled_queries``: one app with plans and one without, on the same database, asked
the same thing as the same caller. The first group are the differences and holes a review found (explicit
null for a non-null argument, falsy ``extensions``, media-type matching, ``daysLeft`` rounding far out, plan size
under nested fragments, a handed-back plan run twice), fixed since; the rest are regression tests for behaviour
``test_compiled_queries`` does not cover.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from datetime import timedelta

import httpx
import pytest

from graphql_app.app import create_app
from graphql_app.compiled import CompiledQueries
from graphql_app.compiled.plan import SelectionPlan
from graphql_app.db.engine import count_statements
from graphql_app.limits import RequestLimits
from schema.root import build_schema
from tests.api.factories import create_company, create_grants, grant_input
from tests.api.test_compiled_queries import (  # noqa: F401 - matched is a fixture
    ADMIN_A,
    GRANT_ALL,
    PLATFORM,
    USER_A,
    answer,
    assert_same,
    matched,
)
from tests.conftest import TEST_NOW, GraphQLClient, token_for

MEMBER_A = token_for("tenant-a", ("MEMBER",), member_id=str(uuid.uuid4()))
ADMIN_C = token_for("tenant-c", ("ORG_ADMIN",))  # a tenant with no data at all


async def post_both(apps, body: object, headers: dict[str, str]) -> tuple[httpx.Response, httpx.Response, int]:
    """The raw responses of both apps to the same request body, and how many plans the compiled app served."""
    compiled_app, interpreted_app = apps
    served = compiled_app.plans.served
    content = json.dumps(body)
    got = await compiled_app.post("/graphql", content=content, headers=headers)
    expected = await interpreted_app.post("/graphql", content=content, headers=headers)
    return got, expected, compiled_app.plans.served - served


def json_headers(token: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", "Content-Type": "application/json", **extra}


def ordered(response: httpx.Response):
    """The JSON body with every object as a list of (key, value) pairs: key order is compared too."""
    return json.loads(response.text, object_pairs_hook=list)


# --- Differences and holes found in review (fixed) --------------------------------------------------------------


async def test_explicit_null_variable_for_a_non_null_argument_with_a_default(two_apps, matched):
    cases = [
        ("query($f: Int) { grantMatches(first: $f) { totalCount } }", {"f": None}),
        ("query($f: Int = 5) { grants(first: $f) { totalCount } }", {"f": None}),  # explicit null beats the default
        ("query($c: Boolean) { grants(includeClosed: $c) { totalCount } }", {"c": None}),
        (
            "query($id: ID!, $f: Int) { company(id: $id) { grantMatches(first: $f) { totalCount } } }",
            {"id": matched["first"]["id"], "f": None},
        ),
    ]
    for query, variables in cases:
        body = await assert_same(two_apps, ADMIN_A, query, variables, compiled=False)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_omitted_variables_and_null_for_nullable_arguments_still_compile(two_apps, matched):
    """The safe neighbours of the case above: omitted variables take the argument's default, variable defaults
    apply (enum defaults too), and explicit null is fine where the argument is nullable."""
    company = matched["first"]["id"]
    query = (
        "query($c: ID, $f: Int, $s: GrantMatchStatus = SAVED, $a: String, $m: Float) {"
        " grantMatches(companyId: $c, first: $f, status: $s, after: $a, minScore: $m) { totalCount edges { cursor } }"
        " all: grantMatches(companyId: $c) { totalCount } }"
    )
    for variables in ({}, {"c": company}, {"c": None, "s": None, "a": None, "m": None}, {"c": company, "s": "ACTIVE"}):
        await assert_same(two_apps, ADMIN_A, query, variables, compiled=True)
    await assert_same(
        two_apps, ADMIN_A, "query($n: String) { companies(country: $n) { totalCount } }", {"n": None}, compiled=True
    )


async def test_non_object_extensions_are_refused_as_strawberry_refuses_them(two_apps, matched):
    for extensions in ([], "", 0, False):
        got, expected, served = await post_both(
            two_apps, {"query": "{ grants { totalCount } }", "extensions": extensions}, json_headers(ADMIN_A)
        )
        assert expected.status_code == 400
        assert (got.status_code, got.text, served) == (expected.status_code, expected.text, 0)


async def test_accept_media_types_are_case_insensitive(two_apps, matched):
    got, expected, _ = await post_both(
        two_apps, {"query": "{ grants { totalCount } }"}, json_headers(ADMIN_A, Accept="Text/Event-Stream")
    )
    assert expected.headers["content-type"].startswith("text/event-stream")
    assert got.headers["content-type"] == expected.headers["content-type"]
    assert got.text == expected.text


async def test_content_type_is_matched_like_strawberry_matches_it(two_apps, matched):
    headers = json_headers(ADMIN_A, **{"Content-Type": "Application/JSON"})
    got, expected, _ = await post_both(two_apps, {"query": "{ grants { totalCount } }"}, headers)
    uncovered = await two_apps[0].post(
        "/graphql", content=json.dumps({"query": "{ me { tenantId } }"}), headers=headers
    )
    assert got.status_code == expected.status_code == uncovered.status_code, (got.text, expected.text, uncovered.text)


async def test_days_left_far_from_now_rounds_like_the_resolvers(two_apps, matched, as_platform_admin):
    deadlines = [
        TEST_NOW + timedelta(days=63_000, microseconds=-1),  # near the latest deadline accepted (2199)
        TEST_NOW - timedelta(days=20_000, microseconds=1),  # near the earliest (1970)
    ]
    created = await create_grants(
        as_platform_admin, [grant_input(f"Far {i}", deadline=d.isoformat()) for i, d in enumerate(deadlines)]
    )
    for grant in created:
        await assert_same(
            two_apps, ADMIN_A, "query($g: ID!) { grant(id: $g) { daysLeft } }", {"g": grant["id"]}, compiled=True
        )


def _fan_out_document(aliases: int, depth: int) -> str:
    """A small document whose fragments each select ``aliases`` nested lists, ``depth`` levels deep."""
    fragments = []
    for level in range(depth):
        inner = f"...F{level + 1}" if level + 1 < depth else "id"
        fields = " ".join(
            f"a{j}: grantMatches(first: {j + 1}) {{ edges {{ node {{ company {{ {inner} }} }} }} }}"
            for j in range(aliases)
        )
        fragments.append(f"fragment F{level} on Company {{ {fields} }}")
    return "query Fan($c: ID!) { company(id: $c) { ...F0 } }\n" + "\n".join(fragments)


def _plan_fields(selection: SelectionPlan) -> int:
    return sum(1 + (_plan_fields(f.selection) if f.selection else 0) for f in selection.fields)


async def test_plan_size_is_bounded_for_small_documents(two_apps, matched):
    document = _fan_out_document(aliases=4, depth=6)  # 1.8 kB, kept small so the test stays fast
    assert len(document) < 2_000
    # The request limits refuse it on both paths, whoever asks, before any plan is built…
    for token in (MEMBER_A, ADMIN_A):
        body = await assert_same(two_apps, token, document, {"c": str(uuid.uuid4())}, compiled=False)
        assert body["errors"][0]["extensions"]["code"] in ("QUERY_TOO_DEEP", "QUERY_TOO_COMPLEX")
    assert two_apps[0].plans.plan_for(document, None) is None
    # …and with the limits lifted, the plan and its SQL still stay bounded (the plans' own field budget).
    relaxed = RequestLimits(max_depth=1_000, max_aliases=10**9, max_cost=10**15, max_repeated_fields=10**9)
    plans = CompiledQueries(build_schema(limits=relaxed))
    plan = plans.plan_for(document, None)
    fields = 0 if plan is None else _plan_fields(plan.root)
    sql = max((len(text) for text, _ in plan.statements.values()), default=0) if plan is not None else 0
    assert fields <= 2_000 and sql <= 1_000_000, (fields, sql)


async def test_a_request_handed_to_the_resolvers_runs_its_plan_statement_once(two_apps, matched):
    plans = two_apps[0].plans
    fallbacks = plans.fallbacks
    with count_statements() as log:
        body = await answer(
            two_apps[0], ADMIN_A, "query($c: ID!) { company(id: $c) { name } }", {"c": matched["other"]["id"]}
        )
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    compiled_statements = [s for s in log.statements if s.startswith("SELECT json_build_object")]
    assert len(compiled_statements) == 1 and plans.fallbacks == fallbacks + 1, log.statements


# --- HTTP surface -------------------------------------------------------------------------------------------


async def test_operation_name_content_types_batches_and_get(two_apps, matched):
    document = """
    query Grants { grants(first: 2) { totalCount edges { node { title } } } }
    query Mine { companies { edges { node { name } } } }
    mutation Touch($m: ID!) { applyGrantMatchAction(matchId: $m, action: RESTORE) { id } }
    """
    # operationName picks one of several operations (a plan per operation), also next to a mutation.
    for name in ("Grants", "Mine"):
        got, expected, served = await post_both(
            two_apps, {"query": document, "operationName": name}, json_headers(ADMIN_A)
        )
        assert ordered(got) == ordered(expected) and served == 1 and "errors" not in got.json()
    # No name with several operations, an unknown name, an empty name, a non-string name: Strawberry answers.
    for extra in ({}, {"operationName": "Nope"}, {"operationName": ""}, {"operationName": 7}):
        got, expected, served = await post_both(two_apps, {"query": document, **extra}, json_headers(ADMIN_A))
        assert (got.status_code, got.text, served) == (expected.status_code, expected.text, 0)
    query = {"query": "{ grants(first: 3) { edges { cursor node { title } } } }"}
    # Content-type spellings the fast path accepts, and ones Strawberry refuses.
    for content_type in ("application/json; charset=utf-8", " application/json ;charset=UTF-8"):
        got, expected, served = await post_both(
            two_apps, query, json_headers(ADMIN_A, **{"Content-Type": content_type})
        )
        assert ordered(got) == ordered(expected) and served == 1
    for content_type in ("text/plain", "application/graphql"):
        got, expected, served = await post_both(
            two_apps, query, json_headers(ADMIN_A, **{"Content-Type": content_type})
        )
        assert (got.status_code, got.text, served) == (
            expected.status_code,
            expected.text,
            0,
        ) and got.status_code == 400
    # A batch (JSON list): batching is off, both refuse it the same way.
    got, expected, served = await post_both(two_apps, [query, query], json_headers(ADMIN_A))
    assert (got.status_code, got.text, served) == (400, expected.text, 0)
    # Extensions (Apollo Client sends `clientLibrary`): the plan serves them on both paths.
    got, expected, served = await post_both(two_apps, {**query, "extensions": {"x": 1}}, json_headers(ADMIN_A))
    assert ordered(got) == ordered(expected) and served == 1
    # GET: operationName, and a mutation (refused over GET, never executed by a plan).
    headers = {"Authorization": f"Bearer {ADMIN_A}"}
    for params in (
        {"query": document, "operationName": "Mine"},
        {"query": document, "operationName": "Touch", "variables": json.dumps({"m": matched["match"]["id"]})},
    ):
        served = two_apps[0].plans.served
        got = await two_apps[0].get("/graphql", params=params, headers=headers)
        expected = await two_apps[1].get("/graphql", params=params, headers=headers)
        assert (got.status_code, got.text) == (expected.status_code, expected.text)
        assert two_apps[0].plans.served == served + (1 if params["operationName"] == "Mine" else 0)


# --- Roles, tokens, tenants ---------------------------------------------------------------------------------


async def test_roles_and_tokens(two_apps, matched):
    company = matched["first"]["id"]
    catalogue = f"{{ grants(first: 3) {{ totalCount edges {{ node {{ {GRANT_ALL} }} }} }} }}"
    expired = token_for("tenant-a", ("ORG_ADMIN",), ttl_seconds=-60)
    no_roles = token_for("tenant-a", ())
    forged = token_for("tenant-a", ("PLATFORM_ADMIN",))[:-4] + "AAAA"  # bad signature
    # The catalogue is for every authenticated caller, MEMBER included: compiled.
    for token in (MEMBER_A, no_roles, USER_A, ADMIN_A, PLATFORM):
        await assert_same(two_apps, token, catalogue, {}, compiled=True)
    # Company data: MEMBER and role-less tokens are FORBIDDEN (resolvers answer), bad tokens UNAUTHENTICATED.
    page = "query($c: ID!) { grantMatches(companyId: $c, first: 3) { totalCount } company(id: $c) { name } }"
    for token, code in (
        (MEMBER_A, "FORBIDDEN"),
        (no_roles, "FORBIDDEN"),
        (expired, "UNAUTHENTICATED"),
        (forged, "UNAUTHENTICATED"),
    ):
        body = await assert_same(two_apps, token, page, {"c": company}, compiled=False)
        assert body["errors"][0]["extensions"]["code"] == code
        if code == "UNAUTHENTICATED":  # bad tokens get nothing, not even the catalogue
            body = await assert_same(two_apps, token, catalogue, {}, compiled=False)
            assert body["errors"][0]["extensions"]["code"] == code
    # ORG_USER and ORG_ADMIN read alike; a platform admin reads another tenant's company.
    assert (await assert_same(two_apps, USER_A, page, {"c": company}, compiled=True)) == (
        await assert_same(two_apps, ADMIN_A, page, {"c": company}, compiled=True)
    )
    await assert_same(two_apps, PLATFORM, page, {"c": matched["other"]["id"]}, compiled=True)
    # Another tenant's match by id, and the other tenant's admin on tenant-a's match.
    single = "query($m: ID!) { grantMatch(id: $m) { id company { name } } }"
    other_admin = token_for("tenant-b", ("ORG_ADMIN",))
    body = await assert_same(two_apps, other_admin, single, {"m": matched["match"]["id"]}, compiled=False)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


async def test_an_empty_tenant_and_a_company_without_matches(two_apps, matched):
    everything = """
    query($c: ID) {
      grantMatches(companyId: $c, first: 5) { totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
        edges { cursor node { id } } }
      companies(first: 5) { totalCount pageInfo { hasNextPage startCursor endCursor }
        edges { cursor node { name grantMatches(first: 3, status: SAVED) { totalCount pageInfo { endCursor }
          edges { node { id } } } } } }
    }"""
    body = await assert_same(two_apps, ADMIN_C, everything, {}, compiled=True)
    assert body["data"]["grantMatches"]["totalCount"] == 0 and body["data"]["companies"]["edges"] == []
    lonely = await create_company(GraphQLClient(two_apps[1], ADMIN_C), name="Lonely SA")
    body = await assert_same(two_apps, ADMIN_C, everything, {"c": lonely["id"]}, compiled=True)
    assert body["data"]["companies"]["edges"][0]["node"]["grantMatches"]["totalCount"] == 0
    # Tenant-a's company asked by tenant-c: NOT_FOUND (not an empty page).
    body = await assert_same(two_apps, ADMIN_C, everything, {"c": matched["first"]["id"]}, compiled=False)
    assert body["errors"][0]["extensions"]["code"] == "NOT_FOUND"


# --- Arguments and cursors ----------------------------------------------------------------------------------


async def test_cursor_kinds_bounds_and_past_the_end(two_apps, matched):
    company = matched["first"]["id"]
    grants_page = (
        "query($f: Int!, $a: String) { grants(first: $f, after: $a, includeClosed: true) {"
        " totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } }"
    )
    matches_page = (
        "query($c: ID!, $f: Int!, $a: String) { company(id: $c) { grantMatches(first: $f, after: $a) {"
        " totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { cursor } } } }"
    )
    grants_body = await assert_same(two_apps, ADMIN_A, grants_page, {"f": 2}, compiled=True)
    offset_cursor = grants_body["data"]["grants"]["edges"][0]["cursor"]
    matches_body = await assert_same(two_apps, ADMIN_A, matches_page, {"c": company, "f": 2}, compiled=True)
    match_cursor = matches_body["data"]["company"]["grantMatches"]["edges"][0]["cursor"]
    # Each list refuses the other list's cursors.
    for query, variables in (
        (grants_page, {"f": 2, "a": match_cursor}),
        (matches_page, {"c": company, "f": 2, "a": offset_cursor}),
    ):
        body = await assert_same(two_apps, ADMIN_A, query, variables, compiled=False)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # `first` at both bounds and just outside them, on every connection.
    for first in (1, 100):
        await assert_same(two_apps, ADMIN_A, grants_page, {"f": first}, compiled=True)
        await assert_same(two_apps, ADMIN_A, matches_page, {"c": company, "f": first}, compiled=True)
        await assert_same(
            two_apps,
            ADMIN_A,
            "query($f: Int!) { companies(first: $f) { totalCount edges { cursor } } }",
            {"f": first},
            compiled=True,
        )
    for first in (0, 101, -1):
        await assert_same(two_apps, ADMIN_A, grants_page, {"f": first}, compiled=False)
        await assert_same(two_apps, ADMIN_A, matches_page, {"c": company, "f": first}, compiled=False)
    # Offset cursors past the end (totalCount still the whole list), at the last item, and at the largest offset.
    from graphql_app.services.pages import encode_offset_cursor
    from graphql_app.validation import MAX_OFFSET

    for position in (16, 17, 1_000, MAX_OFFSET - 1):
        body = await assert_same(
            two_apps, ADMIN_A, grants_page, {"f": 3, "a": encode_offset_cursor(position)}, compiled=True
        )
        assert body["data"]["grants"]["totalCount"] == 17
    # Beyond it (up to bigint's edge and past it): both paths refuse the cursor as bad input.
    for position in (MAX_OFFSET + 1, 2**63 - 2, 2**63):
        cursor = encode_offset_cursor(position)
        body = await assert_same(two_apps, ADMIN_A, grants_page, {"f": 3, "a": cursor}, compiled=False)
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


# --- Values -------------------------------------------------------------------------------------------------


async def test_timestamps_amounts_and_text_render_like_the_resolvers(two_apps, matched, as_platform_admin, as_admin):
    deadlines = [
        "2026-07-01T10:00:00.120000+02:00",  # microseconds ending in zeros, a non-UTC offset
        "2026-07-01T10:00:00.000001Z",
        "2026-07-01T10:00:00.100000-09:30",
        "2026-07-01T10:00:00+14:00",
        "1970-01-01T00:00:00.5+00:00",  # the earliest deadline accepted, a half second
        "2031-02-28T23:59:59.999999Z",
    ]
    grants = await create_grants(
        as_platform_admin,
        [
            grant_input(
                f'Timed {i} "quoted" \\ back\nslash ✓ 😀 \u2028',
                deadline=d,
                amountMin=a,
                amountMax=b,
                url=None if i % 2 else "https://example.eu/?a=1&b='2'",
            )
            for i, (d, (a, b)) in enumerate(
                zip(
                    deadlines,
                    [(0.1, 0.3), (1e11, 5e11), (None, 5), (7, None), (0.01, 999999999999.99), (None, None)],
                    strict=True,
                )
            )
        ],
    )
    for grant in grants:
        await assert_same(
            two_apps, USER_A, f"query($g: ID!) {{ grant(id: $g) {{ {GRANT_ALL} }} }}", {"g": grant["id"]}, compiled=True
        )
    await assert_same(
        two_apps,
        ADMIN_A,
        f"{{ grants(first: 100, includeClosed: true) {{ edges {{ node {{ {GRANT_ALL} }} }} }} }}",
        {},
        compiled=True,
    )
    company = await create_company(as_admin, name="Ωmega \"Q\" 'S' \\ \t ✓ ; DROP TABLE companies; --", employees=0)
    await assert_same(
        two_apps,
        ADMIN_A,
        "query($c: ID!) { company(id: $c) { name employees createdAt } }",
        {"c": company["id"]},
        compiled=True,
    )


async def test_a_sentinel_in_user_data_only_costs_a_fallback(two_apps, matched, as_admin):
    """The plan marks missing rows with the JSON string '<mg:missing>' (executor.py:119 looks for it anywhere in
    the result): data containing it sends the request to the resolvers, which answer it correctly."""
    company = await create_company(as_admin, name="<mg:missing>")
    body = await assert_same(
        two_apps, ADMIN_A, "query($c: ID!) { company(id: $c) { name } }", {"c": company["id"]}, compiled=False
    )
    assert body["data"]["company"]["name"] == "<mg:missing>"


# --- Shapes -------------------------------------------------------------------------------------------------


async def test_keys_order_aliases_fragments_and_object_width(two_apps, matched):
    company = matched["first"]["id"]
    headers = json_headers(ADMIN_A)
    queries = [
        # Aliases that look like SQL or like the statement's own aliases and columns.
        "{ select: grants(first: 2) { mg_rn: totalCount t1: edges { p1: cursor mg_n: node { g1: id"
        " json_build_object: title _: __typename } } from: pageInfo { where: endCursor } } }",
        # Interface fragments, a fragment spread twice under merged fields with different sub-selections, keys
        # first seen inside a fragment.
        f"""query {{ c: company(id: "{company}") {{ ...C grantMatches(first: 2) {{ edges {{ node {{ ...M }} }} }}
              grantMatches(first: 2) {{ edges {{ node {{ ...M grant {{ funder }} ... on Match {{ updatedAt }} }} }} }} }} }}
            fragment C on Company {{ grantMatches(first: 2) {{ totalCount edges {{ node {{ grant {{ title }} }} }} }} name }}
            fragment M on GrantMatch {{ ... on GrantMatchScores {{ score }} id ... on Match {{ id __typename }} }}""",
        # Connections asked for nothing but __typename / pageInfo.__typename, with a cursor and filters given.
        '{ grants { __typename } companies(after: "bzF8MA") { __typename pageInfo { __typename } } }',
        f'{{ grantMatches(companyId: "{company}", minScore: 0.1, status: DISMISSED, after: '
        '"Z20yfDNmZjAwMDAwMDAwMDAwMDB8MDAwMDAwMDAtMDAwMC0wMDAwLTAwMDAtMDAwMDAwMDAwMDAw") { totalCount } }',
        # 50 keys in one object: the widest json_build_object.
        "{ " + " ".join(f"k{i}: __typename" for i in range(50)) + " }",
    ]
    for query in queries:
        got, expected, served = await post_both(two_apps, {"query": query}, headers)
        assert ordered(got) == ordered(expected) and served == 1, (got.text, expected.text)
        assert "errors" not in got.json()
    # 51 keys: not compiled (json_build_object takes at most 100 arguments), same answer.
    wide = "{ " + " ".join(f"k{i}: __typename" for i in range(51)) + " }"
    got, expected, served = await post_both(two_apps, {"query": wide}, headers)
    assert ordered(got) == ordered(expected) and served == 0


# --- Freshness, concurrency, the response cache -------------------------------------------------------------


async def test_mutations_are_seen_by_the_next_read_without_the_cache(two_apps, matched):
    match = matched["match"]["id"]
    read = "query($m: ID!) { grantMatch(id: $m) { isSaved isDismissed updatedAt } }"
    before = await assert_same(two_apps, ADMIN_A, read, {"m": match}, compiled=True)
    for action, saved in (("SAVE", True), ("DISMISS", False), ("RESTORE", False)):
        await answer(
            two_apps[0],
            ADMIN_A,
            "mutation($m: ID!, $a: GrantMatchAction!) { applyGrantMatchAction(matchId: $m, action: $a) { id } }",
            {"m": match, "a": action},
        )
        after = await assert_same(two_apps, ADMIN_A, read, {"m": match}, compiled=True)
        assert after["data"]["grantMatch"]["isSaved"] is saved
    assert after != before


async def test_concurrent_requests_of_different_callers_get_their_own_answers(two_apps, matched):
    queries = [
        ("{ grantMatches(first: 100) { totalCount edges { node { company { name } } } } }", {}),
        ("{ companies(first: 100) { totalCount edges { node { name } } } }", {}),
        ("query($c: ID!) { company(id: $c) { name } }", {"c": matched["first"]["id"]}),
    ]
    callers = [ADMIN_A, USER_A, PLATFORM, token_for("tenant-b", ("ORG_ADMIN",)), ADMIN_C, MEMBER_A]
    expected = {
        (ci, qi): await answer(two_apps[1], token, query, variables)
        for ci, token in enumerate(callers)
        for qi, (query, variables) in enumerate(queries)
    }
    jobs = [(ci, qi) for _ in range(4) for ci in range(len(callers)) for qi in range(len(queries))]
    got = await asyncio.gather(*(answer(two_apps[0], callers[ci], queries[qi][0], queries[qi][1]) for ci, qi in jobs))
    for (ci, qi), body in zip(jobs, got, strict=True):
        assert body == expected[(ci, qi)], (ci, qi)


@pytest.fixture
async def cached_compiled(services, worker):
    """The app with plans and the response cache on (without touching the shared settings)."""
    app = create_app(
        dataclasses.replace(services.settings, compiled_queries=True, response_cache=True), services=services
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cc.test") as client:
        client.cache = app.state.response_cache  # type: ignore[attr-defined]
        client.plans = app.state.compiled_queries  # type: ignore[attr-defined]
        yield client


async def test_cached_compiled_answers_never_cross_callers(cached_compiled, two_apps, matched):
    http = cached_compiled
    query = "{ companies(first: 100) { edges { node { name } } } grantMatches(first: 100) { totalCount } }"
    alice_a = token_for("tenant-a", ("ORG_ADMIN",), subject="alice")
    alice_b = token_for("tenant-b", ("ORG_ADMIN",), subject="alice")  # same subject, other tenant
    alice_member = token_for("tenant-a", ("MEMBER",), subject="alice")  # same subject and tenant, other role
    alice_expired = token_for("tenant-a", ("ORG_ADMIN",), subject="alice", ttl_seconds=-60)
    served = http.plans.served
    first = await answer(http, alice_a, query, {})
    assert http.plans.served == served + 1
    with count_statements() as log:
        again = await answer(http, alice_a, query, {})
    assert again == first and log.count == 0  # a cache hit, as bytes
    for token in (alice_b, alice_member, alice_expired):
        assert await answer(http, token, query, {}) == await answer(two_apps[1], token, query, {})
    names = {e["node"]["name"] for e in (await answer(http, alice_b, query, {}))["data"]["companies"]["edges"]}
    assert names == {"Other Tenant AB"}
    # A mutation through the cached app invalidates: the next compiled read sees it.
    single = "query($m: ID!) { grantMatch(id: $m) { isSaved } }"
    assert (await answer(http, alice_a, single, {"m": matched["match"]["id"]}))["data"]["grantMatch"][
        "isSaved"
    ] is False
    await answer(
        http,
        alice_a,
        "mutation($m: ID!) { applyGrantMatchAction(matchId: $m, action: SAVE) { id } }",
        {"m": matched["match"]["id"]},
    )
    assert (await answer(http, alice_a, single, {"m": matched["match"]["id"]}))["data"]["grantMatch"]["isSaved"] is True
