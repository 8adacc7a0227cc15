"""GraphiQL at GET /graphql in a real browser against a real server: it loads only from the server (no CDN), shows
the schema's docs, and runs queries over HTTP and subscriptions over the WebSocket with the token from its
Headers editor."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

import httpx
from playwright.async_api import BrowserContext, Page, WebSocket, expect

from graphql_app.web.graphiql import ASSETS_PATH
from tests.api.factories import company_input
from tests.conftest import token_for
from tests.processes import Server

# GraphiQL 3's DOM, as a user sees it.
CONTAINER = ".graphiql-container"
QUERY_EDITOR = "section.graphiql-query-editor .CodeMirror"
HEADERS_TAB = ".graphiql-editor-tools button[data-name='headers']"
HEADERS_EDITOR = "section.graphiql-editor-tool[aria-label='Headers'] .graphiql-editor:not(.hidden) .CodeMirror"
EXECUTE = ".graphiql-execute-button"
RESULT = "section.result-window"
DOCS_BUTTON = "[aria-label='Show Documentation Explorer']"
DOCS = "section.graphiql-doc-explorer"

CALCULATE = "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id status } }"

#: Records Content-Security-Policy violations (a blocked script or style would otherwise fail silently).
RECORD_CSP_VIOLATIONS = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) =>
  window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI} ${e.sample}`));
"""


class GraphiQL:
    """The GraphiQL page in a browser tab, driven as a user would; records everything the page asks for."""

    def __init__(self, page: Page, server: Server) -> None:
        self.page = page
        self.server = server
        self.requests: list[str] = []  # every URL the page requested, in order
        self.failed: list[str] = []  # requests that got no response or an error status
        self.errors: list[str] = []  # uncaught script errors
        self.websockets: list[WebSocket] = []
        self.frames_sent: list[dict] = []  # graphql-transport-ws messages the page sent
        self.page_headers: dict[str, str] = {}  # of the page's own response
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("requestfailed", lambda request: self.failed.append(f"{request.url}: {request.failure}"))
        page.on("response", lambda r: self.failed.append(f"{r.url}: {r.status}") if r.status >= 400 else None)
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("websocket", self._on_websocket)

    @classmethod
    async def open(cls, context: BrowserContext, server: Server) -> GraphiQL:
        await context.add_init_script(RECORD_CSP_VIOLATIONS)
        graphiql = cls(await context.new_page(), server)
        response = await graphiql.page.goto(f"{server.url}/graphql", wait_until="load")
        assert response is not None and response.status == 200
        graphiql.page_headers = response.headers
        await expect(graphiql.page.locator(CONTAINER)).to_be_visible()
        await expect(graphiql.page.locator(QUERY_EDITOR)).to_be_visible()
        return graphiql

    def _on_websocket(self, websocket: WebSocket) -> None:
        self.websockets.append(websocket)
        websocket.on("framesent", lambda payload: self.frames_sent.append(json.loads(payload)))

    async def frame_sent(self, predicate: Callable[[dict], bool], timeout: float = 20) -> dict:
        """The first WebSocket message the page sent that matches, waiting for it if need be."""
        async with asyncio.timeout(timeout):
            while True:
                for frame in self.frames_sent:
                    if predicate(frame):
                        return frame
                await asyncio.sleep(0.05)

    async def _type_into(self, editor: str, text: str) -> None:
        """Click into a CodeMirror editor, select all and type over it."""
        await self.page.locator(editor).click()
        await self.page.keyboard.press("ControlOrMeta+a")
        await self.page.keyboard.type(text)
        await self.page.keyboard.press("Escape")  # close an autocompletion list, if one opened
        typed = await self.page.locator(editor).evaluate("element => element.CodeMirror.getValue()")
        assert typed == text, "the editor's auto-closing brackets changed what was typed"

    async def set_headers(self, headers: dict[str, str]) -> None:
        await self.page.locator(HEADERS_TAB).click()
        await self._type_into(HEADERS_EDITOR, json.dumps(headers))

    async def set_query(self, query: str) -> None:
        await self._type_into(QUERY_EDITOR, query)

    async def run(self) -> None:
        await self.page.locator(EXECUTE).click()

    @property
    def result(self):
        return self.page.locator(RESULT)

    async def assert_stayed_on_the_server(self) -> None:
        """Nothing left the machine, nothing was blocked, nothing failed."""
        origin = self.server.url
        assert self.requests, "no request recorded"
        elsewhere = [url for url in self.requests if not url.startswith(origin + "/")]
        assert not elsewhere, f"requests to other hosts than {origin}: {elsewhere}"
        ws_elsewhere = [ws.url for ws in self.websockets if not ws.url.startswith(self.server.ws_url)]
        assert not ws_elsewhere, f"WebSockets elsewhere than {self.server.ws_url}: {ws_elsewhere}"
        assert not self.failed, f"failed requests: {self.failed}"
        assert not self.errors, f"script errors: {self.errors}"
        violations = await self.page.evaluate("window.__cspViolations")
        assert not violations, f"blocked by the Content-Security-Policy: {violations}"


async def test_graphiql_loads_everything_from_the_server_itself(server: Server, browser_context: BrowserContext):
    graphiql = await GraphiQL.open(browser_context, server)
    # The editor shows the default query, which says how to authenticate.
    await expect(graphiql.page.locator(QUERY_EDITOR)).to_contain_text("Authorization")
    await expect(graphiql.page.locator(QUERY_EDITOR)).to_contain_text("matchgraph token")
    await expect(graphiql.page.locator(HEADERS_EDITOR)).to_be_visible()
    # The schema was introspected (the docs button is there) before the request list is judged.
    await expect(graphiql.page.locator(DOCS_BUTTON)).to_be_visible()
    await graphiql.page.wait_for_load_state("networkidle")

    await graphiql.assert_stayed_on_the_server()
    assets = [url for url in graphiql.requests if url.startswith(f"{server.url}{ASSETS_PATH}/")]
    assert any(url.endswith("/graphiql.min.js") for url in assets), graphiql.requests
    assert any(url.endswith("/react-dom.production.min.js") for url in assets), graphiql.requests
    assert any(url.endswith("/matchgraph-graphiql.js") for url in assets), graphiql.requests
    policy = graphiql.page_headers["content-security-policy"]
    assert "script-src 'self'" in policy and "default-src 'none'" in policy
    # Vendored files have the version in their path and are cached for good; our bootstrap is revalidated.
    vendored = next(url for url in assets if url.endswith("/graphiql.min.js"))
    assert "/vendor/graphiql@" in vendored
    assert "immutable" in httpx.get(vendored).headers["cache-control"]
    assert httpx.get(f"{server.url}{ASSETS_PATH}/matchgraph-graphiql.js").headers["cache-control"] == "no-cache"


async def test_docs_explorer_lists_the_query_fields_with_their_descriptions(
    server: Server, browser_context: BrowserContext
):
    graphiql = await GraphiQL.open(browser_context, server)
    page = graphiql.page
    await page.locator(DOCS_BUTTON).click()
    docs = page.locator(DOCS)
    await docs.locator("a.graphiql-doc-explorer-type-name", has_text="Query").first.click()
    for field, description in [
        ("me", "Who the bearer token says you are."),
        ("companies", "Your companies, by name."),
        ("grantMatches", None),
    ]:
        # The field's entry: its name (exactly: `company` is not `companies`), type and description.
        item = docs.locator(".graphiql-doc-explorer-item").filter(has=page.get_by_role("link", name=field, exact=True))
        await expect(item).to_have_count(1)
        text = item.locator(".graphiql-markdown-description")
        if description:
            await expect(text).to_have_text(description)
        else:
            await expect(text).not_to_be_empty()
    await graphiql.assert_stayed_on_the_server()


async def test_query_with_the_token_from_the_headers_editor(server: Server, browser_context: BrowserContext):
    token = token_for("tenant-a", ("ORG_ADMIN",))
    graphiql = await GraphiQL.open(browser_context, server)
    sent: list[dict[str, str]] = []
    graphiql.page.on("request", lambda request: sent.append(request.headers) if request.method == "POST" else None)
    await graphiql.set_headers({"Authorization": f"Bearer {token}"})
    await graphiql.set_query("{ me { tenantId roles } }")
    await graphiql.run()
    await expect(graphiql.result).to_contain_text('"tenantId": "tenant-a"')
    await expect(graphiql.result).to_contain_text("ORG_ADMIN")
    assert {"authorization": f"Bearer {token}"}.items() <= sent[-1].items()
    await graphiql.assert_stayed_on_the_server()


async def test_subscription_over_the_websocket_with_the_token_from_the_headers_editor(
    server: Server, browser_context: BrowserContext
):
    token = token_for("tenant-a", ("ORG_ADMIN",))
    company = server.data(
        "mutation($i: CompanyInput!) { createCompany(input: $i) { id } }", token, {"i": company_input("Solar GmbH")}
    )["createCompany"]["id"]
    graphiql = await GraphiQL.open(browser_context, server)
    await graphiql.set_query("subscription { computationCompleted { id status } }")

    # Without a token the server refuses the socket (4403), and GraphiQL says so at once.
    await graphiql.run()
    await expect(graphiql.result).to_contain_text("4403")

    await graphiql.set_headers({"Authorization": f"Bearer {token}"})
    await graphiql.run()
    init = await graphiql.frame_sent(lambda frame: frame["type"] == "connection_init" and frame.get("payload"))
    assert init["payload"] == {"Authorization": f"Bearer {token}"}
    await graphiql.frame_sent(lambda frame: frame["type"] == "subscribe")
    # The subscription is on the server before the computation (which takes far longer) can finish.
    computation = server.data(CALCULATE, token, {"c": company})["calculateGrantMatches"]["id"]
    await expect(graphiql.result).to_contain_text("SUCCEEDED", timeout=60_000)
    await expect(graphiql.result).to_contain_text(computation)

    # The stop button ends the subscription on the server.
    await graphiql.run()
    await graphiql.frame_sent(lambda frame: frame["type"] == "complete")
    await graphiql.assert_stayed_on_the_server()
