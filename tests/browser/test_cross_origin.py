"""A web frontend on its own origin, in a real browser: `fetch` with a bearer token (a CORS preflight) for the
frontend page query and a mutation, and a `WebSocket` following the computation to SUCCEEDED. A page on an origin
that is not allowed gets neither."""

from __future__ import annotations

import httpx
from playwright.async_api import BrowserContext
from starlette.applications import Starlette
from starlette.responses import HTMLResponse
from starlette.routing import Route

from tests.api.factories import create_company, create_grants, grant_input
from tests.conftest import GraphQLClient, LiveServer, token_for

FRONTEND_PAGE = """query CompanyMatches($companyId: ID!) {
  grantMatches(companyId: $companyId, status: ACTIVE, first: 20) {
    totalCount
    edges { node { score grant { title } company { name } } }
  }
}"""

#: What the frontend does, run inside the page: the page query, start a computation, follow it over WebSocket.
FRONTEND = """async ({api, ws, token, companyId, pageQuery}) => {
  const graphql = async (query, variables) => {
    const response = await fetch(api, {
      method: "POST",
      headers: {"Content-Type": "application/json", "Authorization": `Bearer ${token}`},
      body: JSON.stringify({query, variables}),
    });
    return response.json();
  };
  const before = await graphql(pageQuery, {companyId});
  const started = await graphql(
    "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id status } }", {c: companyId});
  const id = started.data.calculateGrantMatches.id;
  const states = await new Promise((resolve, reject) => {
    const socket = new WebSocket(ws, "graphql-transport-ws");
    const seen = [];
    socket.onopen = () => socket.send(JSON.stringify({type: "connection_init", payload: {Authorization: `Bearer ${token}`}}));
    socket.onerror = () => reject(new Error("websocket error"));
    socket.onmessage = (event) => {
      if (typeof event.data !== "string") return reject(new Error("binary frame"));
      const message = JSON.parse(event.data);
      if (message.type === "connection_ack") socket.send(JSON.stringify({id: "1", type: "subscribe",
        payload: {query: "subscription($id: ID!) { computation(id: $id) { status resultCount } }", variables: {id}}}));
      if (message.type === "next") seen.push(message.payload.data.computation);
      if (message.type === "complete") { socket.close(); resolve(seen); }
    };
  });
  const after = await graphql(pageQuery, {companyId});
  return {before, states, after};
}"""

#: The same from a page whose origin is not allowed: both must fail in the browser.
REFUSED = """async ({api, ws, token}) => {
  let fetched;
  try {
    await fetch(api, {method: "POST", headers: {"Content-Type": "application/json", "Authorization": `Bearer ${token}`},
                      body: JSON.stringify({query: "{ me { tenantId } }"})});
    fetched = "answered";
  } catch (error) { fetched = "blocked"; }
  const socket = await new Promise((resolve) => {
    const socket = new WebSocket(ws, "graphql-transport-ws");
    socket.onopen = () => resolve("open");
    socket.onclose = (event) => resolve(`closed ${event.code}`);
  });
  return {fetched, socket};
}"""


def page_server() -> LiveServer:
    """Another origin: a server of its own that serves the frontend's (empty) page."""
    page = HTMLResponse("<!doctype html><title>Frontend</title><p>A frontend on its own origin.</p>")
    return LiveServer(Starlette(routes=[Route("/", lambda request: page)]))


async def test_a_frontend_on_an_allowed_origin_fetches_and_follows_a_computation(
    live_server, browser_context: BrowserContext
):
    token = token_for("tenant-a", ("ORG_ADMIN",))
    async with page_server() as frontend, live_server(allowed_origins=frontend.url) as api:
        async with httpx.AsyncClient(base_url=api.url, timeout=30) as http:
            await create_grants(
                GraphQLClient(http, token_for("p", ("PLATFORM_ADMIN",))),
                [grant_input(f"Call {i}") for i in range(5)],
            )
            company_id = (await create_company(GraphQLClient(http, token)))["id"]
        page = await browser_context.new_page()
        await page.goto(frontend.url)
        args = {
            "api": api.graphql_url,
            "ws": api.ws_url,
            "token": token,
            "companyId": company_id,
            "pageQuery": FRONTEND_PAGE,
        }
        result = await page.evaluate(FRONTEND, args)
    # An Authorization header makes every fetch above preflighted: the browser let them through.
    assert result["before"] == {"data": {"grantMatches": {"totalCount": 0, "edges": []}}}
    assert result["states"][-1] == {"status": "SUCCEEDED", "resultCount": 5}
    matches = result["after"]["data"]["grantMatches"]
    assert matches["totalCount"] == 5
    assert all(edge["node"]["grant"]["title"].startswith("Call ") for edge in matches["edges"])


async def test_a_page_on_another_origin_gets_no_answer_and_no_socket(live_server, browser_context: BrowserContext):
    token = token_for("tenant-a", ("ORG_ADMIN",))
    async with page_server() as frontend, live_server(allowed_origins="https://app.example.com") as api:
        page = await browser_context.new_page()
        await page.goto(frontend.url)
        result = await page.evaluate(REFUSED, {"api": api.graphql_url, "ws": api.ws_url, "token": token})
    assert result == {"fetched": "blocked", "socket": "closed 1006"}
