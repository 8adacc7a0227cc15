"""Apollo Client 4 under Node (`examples/node/apollo-frontend-page.mjs`): the README's frontend page query with
automatic persisted queries, as a web or mobile client sends it.

Run 1 (nothing stored): GET with the hash only → PERSISTED_QUERY_NOT_FOUND → POST with text and hash → data, and
the document is stored in PostgreSQL. Run 2, a fresh process: the GET with the hash alone answers the data. Run 3,
against another app whose memory has never seen the document: the same, from the database.
"""

from __future__ import annotations

import hashlib
import json

import httpx
from sqlalchemy import text

from tests.api.factories import wait_for_computation
from tests.clients.conftest import start_computation
from tests.clients.test_examples import run_example
from tests.conftest import GraphQLClient

SCRIPT = "node/apollo-frontend-page.mjs"


def requests_of(stderr: str) -> list[dict]:
    """The HTTP requests the script logged (one JSON object a line on stderr; anything else is ignored)."""
    logged = []
    for line in stderr.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and "method" in entry:
            logged.append(entry)
    return logged


def assert_frontend_page(stdout: str, company_id: str) -> None:
    page = json.loads(stdout)["grantMatches"]
    assert page["totalCount"] == 5
    assert page["pageInfo"]["hasNextPage"] is False
    assert len(page["edges"]) == 5
    for edge in page["edges"]:
        match = edge["node"]
        assert match["grant"]["title"].startswith("Clean energy call"), match
        assert (match["company"]["id"], match["company"]["name"]) == (company_id, "Solar Engineering GmbH")
        assert 0.5 <= match["score"] <= 1
    scores = [edge["node"]["score"] for edge in page["edges"]]
    assert scores == sorted(scores, reverse=True)


async def test_apollo_client_runs_the_frontend_page_through_persisted_queries(
    live_server, server, services, admin_token, company_id
):
    computation_id = await start_computation(server, admin_token, company_id)
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        finished = await wait_for_computation(GraphQLClient(http, admin_token), computation_id)
    assert finished["status"] == "SUCCEEDED" and finished["resultCount"] == 5

    first = await run_example(SCRIPT, company_id, server=server, token=admin_token)
    assert first.returncode == 0, first.stderr
    assert_frontend_page(first.stdout, company_id)
    not_found, registered = requests_of(first.stderr)
    sha256 = not_found["sentHash"]
    assert not_found == {
        "method": "GET",
        "sentQuery": False,
        "sentHash": sha256,
        "status": 200,
        "data": False,
        "errors": ["PERSISTED_QUERY_NOT_FOUND"],
    }
    assert registered == {**not_found, "method": "POST", "sentQuery": True, "data": True, "errors": []}

    async with services.db.reader() as conn:
        rows = (await conn.execute(text("SELECT sha256, body, trusted, source FROM persisted_documents"))).all()
    assert len(rows) == 1
    stored = rows[0]
    assert stored.sha256 == sha256 == hashlib.sha256(stored.body.encode()).hexdigest()
    assert "query CompanyMatches" in stored.body and (stored.trusted, stored.source) == (False, "apq")

    second = await run_example(SCRIPT, company_id, server=server, token=admin_token)
    assert second.returncode == 0, second.stderr
    assert_frontend_page(second.stdout, company_id)
    assert requests_of(second.stderr) == [{**not_found, "data": True, "errors": []}]

    # Another API process (a fresh app: nothing in its memory) finds the document in PostgreSQL.
    async with live_server() as other:
        third = await run_example(SCRIPT, company_id, server=other, token=admin_token)
    assert third.returncode == 0, third.stderr
    assert json.loads(third.stdout) == json.loads(second.stdout)
    assert requests_of(third.stderr) == [{**not_found, "data": True, "errors": []}]
