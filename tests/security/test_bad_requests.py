"""Careless or hostile requests get a clear answer with a code — never an HTTP 500, never a masked
INTERNAL_SERVER_ERROR for a client's mistake — and write nothing. Run on both execution paths."""

from __future__ import annotations

import base64
import dataclasses
import json

import httpx
import pytest
import websockets
from sqlalchemy import text

from graphql_app.app import create_app
from tests.api.factories import create_company, create_grants, grant_input
from tests.api.talent_factories import create_member, create_organisation_and_job
from tests.conftest import token_for

AUTH = {"Authorization": f"Bearer {token_for('tenant-a', ('ORG_ADMIN',))}"}


def assert_json_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    errors = response.json()["errors"]
    assert errors and errors[0]["extensions"]["code"] == code, errors


@pytest.mark.parametrize(
    "body",
    [b'"hello"', b"42", b"null", b"true", b'"\xff\xfe"', b"[" * 100_000, b"{", b"", b'{"query": 5}', b"[1, 2]"],
    ids=[
        "string",
        "number",
        "null",
        "bool",
        "invalid-utf8",
        "deeply-nested",
        "truncated",
        "empty",
        "query-int",
        "batch-of-ints",
    ],
)
async def test_bodies_that_are_not_operations_are_400_with_a_code(http, body, execution_path):
    response = await http.post("/graphql", content=body, headers={"Content-Type": "application/json", **AUTH})
    assert_json_error(response, 400, "BAD_REQUEST")


@pytest.mark.parametrize(
    ("method", "kwargs", "status"),
    [
        ("PUT", {"json": {"query": "{ me { subject } }"}}, 405),
        ("DELETE", {}, 405),
        ("POST", {"content": b"query=x", "headers": {"Content-Type": "application/x-www-form-urlencoded"}}, 400),
        ("GET", {"params": {"query": "{ me { subject } }", "variables": "{not json"}}, 400),
        ("GET", {"params": {"query": "{ me { subject } }", "extensions": "[1"}}, 400),
    ],
)
async def test_methods_content_types_and_query_strings(http, method, kwargs, status, execution_path):
    headers = {**AUTH, **kwargs.pop("headers", {})}
    response = await http.request(method, "/graphql", headers=headers, **kwargs)
    assert response.status_code == status, response.text
    assert response.json()["errors"][0]["extensions"]["code"] in ("BAD_REQUEST", "METHOD_NOT_ALLOWED")


async def test_a_subscription_over_plain_http_is_a_bad_request(http, execution_path):
    response = await http.post("/graphql", json={"query": "subscription { computationCompleted { id } }"}, headers=AUTH)
    assert_json_error(response, 400, "BAD_REQUEST")


async def test_an_offset_cursor_past_int64_is_bad_user_input(as_admin, execution_path):
    for offset in (2**63, 10**30, -1):
        cursor = base64.urlsafe_b64encode(f"o1|{offset}".encode()).decode()
        for query in (
            "query($a: String) { grants(after: $a) { totalCount } }",
            "query($a: String) { companies(after: $a) { totalCount } }",
        ):
            assert await as_admin.error_code(query, {"a": cursor}) == "BAD_USER_INPUT"


async def test_a_literal_out_of_range_float_is_refused_on_both_paths(as_admin, execution_path):
    for literal in ("1e400", "-1e400", "1.5"):
        body = await as_admin.execute(f"{{ grantMatches(minScore: {literal}) {{ totalCount }} }}")
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body


async def grant_count(services) -> int:
    async with services.db.reader() as conn:
        return await conn.scalar(text("SELECT count(*) FROM grants"))


@pytest.mark.parametrize(
    "overrides",
    [
        {"deadline": "9999-12-31T23:59:59+00:00"},
        {"deadline": "0001-01-01T00:00:00+05:00"},
        {"deadline": "1800-01-01T00:00:00Z"},
        {"amountMax": 1e300},
        {"amountMin": 1e20},
        {"amountMax": -1},
    ],
)
async def test_grant_values_out_of_range_are_bad_user_input_and_nothing_is_stored(
    services, as_platform_admin, overrides, execution_path
):
    mutation = "mutation($g: [GrantInput!]!) { createGrants(inputs: $g) { id } }"
    good = grant_input("A call that would be fine")
    code = await as_platform_admin.error_code(mutation, {"g": [good, grant_input("Out of range", **overrides)]})
    assert code == "BAD_USER_INPUT"
    assert await grant_count(services) == 0


async def test_outcome_dates_far_away_are_refused_so_feedback_stays_possible(http, as_admin, execution_path):
    _org, job = await create_organisation_and_job(as_admin)
    await create_member(http, "Placed")
    await as_admin.data("mutation($j: ID!) { computeJobMatches(jobId: $j) { id } }", {"j": job["id"]})
    from tests.api.talent_factories import compute

    await compute(as_admin, job_id=job["id"])
    match_id = (
        await as_admin.data("query($j: ID!) { jobMatches(jobId: $j) { edges { node { id } } } }", {"j": job["id"]})
    )["jobMatches"]["edges"][0]["node"]["id"]
    record = "mutation($m: ID!, $i: OutcomeInput!) { recordPlacementOutcome(matchId: $m, input: $i) { id } }"
    for dates in (
        {"startDate": "9999-12-31"},
        {"startDate": "0001-01-01"},
        {"startDate": "2026-01-01", "endDate": "9999-12-31"},
    ):
        code = await as_admin.error_code(record, {"m": match_id, "i": {"outcome": "HIRED", **dates}})
        assert code == "BAD_USER_INPUT", dates
    feedback = await as_admin.execute("query($m: ID!) { matchFeedback(matchId: $m) { stage } }", {"m": match_id})
    assert not feedback.get("errors"), feedback


async def test_texts_over_their_field_limit_are_refused_and_nothing_is_stored(services, as_admin, execution_path):
    mutation = "mutation($i: CompanyInput!) { createCompany(input: $i) { id } }"
    from tests.api.factories import company_input

    for field, length in (("description", 20_001), ("name", 301)):
        fields = {"name": "Long", field: "x" * length}
        body = await as_admin.execute(mutation, {"i": company_input(**fields)})
        assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", body
        assert field in body["errors"][0]["message"]
    async with services.db.reader() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM companies")) == 0


async def test_with_introspection_off_validation_errors_suggest_no_field_names(services, execution_path):
    app = create_app(dataclasses.replace(services.settings, introspection=False), services=services)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        body = (await http.post("/graphql", json={"query": "{ companie { totalCount } }"}, headers=AUTH)).json()
    assert body["errors"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "Did you mean" not in body["errors"][0]["message"]


async def test_websocket_protocol_errors_carry_codes(live_server):
    async with live_server() as server:
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {}}))
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == 4400 and closed.value.rcvd.reason
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send("not json")
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await ws.recv()
        assert closed.value.rcvd.code == 4400
        async with websockets.connect(server.ws_url, subprotocols=["graphql-transport-ws"]) as ws:
            await ws.send(json.dumps({"type": "connection_init", "payload": AUTH}))
            await ws.recv()
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": "{ nope }"}}))
            error = json.loads(await ws.recv())
        assert error["type"] == "error" and error["payload"][0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"


async def test_a_company_and_grants_still_work_after_all_that(as_admin, as_platform_admin, execution_path):
    await create_grants(as_platform_admin, [grant_input("Fine call")])
    assert (await create_company(as_admin))["id"]
