"""Limits before execution: the attacks of the "safe in front of real clients" review, reproduced and refused
with a documented code before any SQL runs — over POST, GET, SSE and WebSocket, on both execution paths —
while the frontend's 100-match page passes comfortably."""

from __future__ import annotations

import dataclasses
import json

import httpx
import pytest
import websockets

from graphql_app.app import create_app
from graphql_app.db.engine import count_statements
from tests.conftest import token_for

AUTH = {"Authorization": f"Bearer {token_for('tenant-a', ('ORG_USER',))}"}

NESTED_ATTACK = (
    "{ companies(first: 40) { edges { node { grantMatches(first: 40) { edges { node { company {"
    " grantMatches(first: 40) { edges { node { company { name } } } } } } } } } } } }"
)
FRONTEND_PAGE_100 = """query Page($companyId: ID) {
  grantMatches(companyId: $companyId, status: ACTIVE, minScore: 0.5, first: 100) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id score semanticScore ruleScore carbonScore collaborativeScore recencyScore
      matchReasons isViewed isSaved isDismissed
      grant { id title funder deadline daysLeft isCarbonFocused amountMax currency url }
      company { id name country size } } }
  }
}"""

ATTACKS = {
    "nested lists": (NESTED_ATTACK, "QUERY_TOO_COMPLEX"),
    "1,000 repeated fields": ("{" + " me { subject }" * 1000 + " }", "QUERY_TOO_COMPLEX"),
    "10,000 aliases": ("{" + "".join(f" a{i}: __typename" for i in range(10_000)) + " }", "DOCUMENT_TOO_LARGE"),
    "100 aliases": ("{" + "".join(f" a{i}: __typename" for i in range(100)) + " }", "TOO_MANY_ALIASES"),
    "40 live scorings": (
        "{" + "".join(f' l{i}: liveGrantMatches(companyId: "x") {{ totalCount }}' for i in range(40)) + " }",
        "QUERY_TOO_COMPLEX",
    ),
    "deep nesting": (
        "{ companies { edges { node { grantMatches { edges { node { company { grantMatches { edges { node {"
        " company { grantMatches { edges { node { score } } } } } } } } } } } } } } }",
        "QUERY_TOO_DEEP",
    ),
    "fragment bomb": (
        "{ ...F0 }"
        + "".join(f" fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
        + " fragment F30 on Query { me { subject } }",
        "QUERY_TOO_COMPLEX",
    ),
}


def client_for(services, **overrides) -> httpx.AsyncClient:
    app = create_app(dataclasses.replace(services.settings, **overrides), services=services)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://matchgraph.test")


@pytest.mark.parametrize("attack", list(ATTACKS))
@pytest.mark.parametrize("anonymous", [False, True], ids=["token", "anonymous"])
async def test_attacks_are_refused_before_any_sql(http, attack, anonymous, execution_path):
    document, code = ATTACKS[attack]
    with count_statements() as log:
        response = await http.post("/graphql", json={"query": document}, headers={} if anonymous else AUTH)
    body = response.json()
    assert body["errors"][0]["extensions"]["code"] == code, body["errors"][0]
    assert body.get("data") is None
    assert log.count == 0, log.statements


async def test_a_variable_page_size_counts_like_a_literal(http, execution_path):
    document = (
        "query($n: Int) { companies(first: $n) { edges { node { grantMatches(first: $n) { edges { node {"
        " company { grantMatches(first: $n) { totalCount } } } } } } } } }"
    )
    small = (await http.post("/graphql", json={"query": document, "variables": {"n": 5}}, headers=AUTH)).json()
    assert not small.get("errors"), small
    big = (await http.post("/graphql", json={"query": document, "variables": {"n": 60}}, headers=AUTH)).json()
    assert big["errors"][0]["extensions"]["code"] == "QUERY_TOO_COMPLEX"


async def test_the_frontend_100_match_page_fits(http, execution_path):
    body = (await http.post("/graphql", json={"query": FRONTEND_PAGE_100}, headers=AUTH)).json()
    assert body == {
        "data": {"grantMatches": {"totalCount": 0, "pageInfo": {"hasNextPage": False, "endCursor": None}, "edges": []}}
    }


async def test_the_same_refusals_over_get_and_sse(http, execution_path):
    document, code = ATTACKS["nested lists"]
    got = (await http.get("/graphql", params={"query": document}, headers=AUTH)).json()
    assert got["errors"][0]["extensions"]["code"] == code
    subscription = "subscription {" + "".join(f" a{i}: computationCompleted {{ id }}" for i in range(60)) + " }"
    async with http.stream(
        "POST", "/graphql", json={"query": subscription}, headers={"Accept": "text/event-stream", **AUTH}
    ) as response:
        text = "".join([chunk async for chunk in response.aiter_text()])
    assert "TOO_MANY_ALIASES" in text


async def test_the_same_refusals_over_websockets(live_server):
    aliased = "subscription {" + "".join(f" a{i}: computationCompleted {{ id }}" for i in range(60)) + " }"
    cases = {
        "graphql-transport-ws": [(ATTACKS["nested lists"][0], "QUERY_TOO_COMPLEX"), (aliased, "TOO_MANY_ALIASES")],
        # The legacy protocol runs subscriptions only; a query is refused as such, with a code.
        "graphql-ws": [(aliased, "TOO_MANY_ALIASES"), (ATTACKS["nested lists"][0], "BAD_REQUEST")],
    }
    async with live_server() as server:
        for protocol, documents in cases.items():
            start = "subscribe" if protocol == "graphql-transport-ws" else "start"
            async with websockets.connect(server.ws_url, subprotocols=[protocol]) as ws:
                await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
                assert json.loads(await ws.recv())["type"] == "connection_ack"
                for document, code in documents:
                    await ws.send(json.dumps({"id": code, "type": start, "payload": {"query": document}}))
                    while (message := json.loads(await ws.recv()))["type"] == "ka":
                        pass
                    errors = message["payload"] if isinstance(message["payload"], list) else [message["payload"]]
                    assert errors[0]["extensions"]["code"] == code, (protocol, message)


async def test_limits_are_settings(services):
    async with client_for(services, max_depth=3, max_aliases=1, max_cost=10, max_tokens=20) as http:
        for document, code in (
            ("{ companies { edges { node { name } } } }", "QUERY_TOO_DEEP"),
            ("{ a: me { subject } b: me { subject } }", "TOO_MANY_ALIASES"),
            ("{ grants(first: 20) { totalCount } }", "QUERY_TOO_COMPLEX"),
            (
                "{ me { subject tenantId roles } me2: me { subject tenantId roles } me3: me { roles } }",
                "DOCUMENT_TOO_LARGE",
            ),
        ):
            body = (await http.post("/graphql", json={"query": document}, headers=AUTH)).json()
            assert body["errors"][0]["extensions"]["code"] == code, (document, body)


async def test_introspection_as_graphiql_and_codegen_send_it_is_within_the_limits(http, execution_path):
    from graphql import get_introspection_query

    for descriptions in (True, False):
        query = get_introspection_query(descriptions=descriptions, specified_by_url=True, input_value_deprecation=True)
        body = (await http.post("/graphql", json={"query": query}, headers=AUTH)).json()
        assert "errors" not in body and body["data"]["__schema"]["queryType"]["name"] == "Query"
