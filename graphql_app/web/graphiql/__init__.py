"""GraphiQL served by Matchgraph itself: pinned assets from the npm registry, no request leaves the machine.

The browser assets (React, GraphiQL 3, the graphql-ws client, the explorer plugin) are pinned in package.json and
package-lock.json next to this file; `scripts/vendor-graphiql` copies their UMD builds into static/vendor/ and
writes static/vendor/manifest.json, the list this page loads. static/matchgraph-graphiql.js is our bootstrap: it
sends queries and mutations with `fetch` and subscriptions over graphql-transport-ws to the page's own path.

The page has no inline script (its settings are a JSON block), so its Content-Security-Policy only allows scripts
from this server.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount

from graphql_app.web import vendored_page

STATIC_DIR = Path(__file__).parent / "static"
#: Where the assets are mounted; the page refers to them under this path.
ASSETS_PATH = "/graphiql-assets"

MANIFEST = STATIC_DIR / "vendor" / "manifest.json"
BOOTSTRAP_SCRIPT = "matchgraph-graphiql.js"
BOOTSTRAP_STYLE = "matchgraph-graphiql.css"

DEFAULT_QUERY = """\
# Put {"Authorization": "Bearer <token>"}
# in the Headers tab below; get a token with:
#   matchgraph token --tenant acme-ventures --role ORG_ADMIN
{ me { subject tenantId roles } }
"""

_HOST = re.compile(r"[A-Za-z0-9.\-\[\]:]+")


@functools.cache
def _manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text())


def page(request: Request) -> HTMLResponse:
    """The GraphiQL page for the endpoint that was requested (HTTP and WebSocket on the same path)."""
    try:
        manifest = _manifest()
    except FileNotFoundError:
        return HTMLResponse(
            "<!doctype html><title>GraphiQL</title><p>GraphiQL's assets are missing: run scripts/vendor-graphiql.",
            status_code=500,
        )
    assets = request.scope.get("root_path", "").rstrip("/") + ASSETS_PATH
    tags = vendored_page.asset_tags(
        assets, [*manifest["styles"], BOOTSTRAP_STYLE], [*manifest["scripts"], BOOTSTRAP_SCRIPT]
    )
    config = {"endpoint": request.url.path, "defaultQuery": DEFAULT_QUERY}
    # Inside <script> only "</" could end the block early; JSON allows it escaped.
    config_json = json.dumps(config).replace("</", "<\\/")
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Matchgraph · GraphiQL</title>
<link rel="icon" href="data:,">
<script type="application/json" id="matchgraph-graphiql-config">{config_json}</script>
{tags}
</head>
<body>
<div id="graphiql"><p class="matchgraph-loading">Loading GraphiQL…</p></div>
<noscript>GraphiQL needs JavaScript.</noscript>
</body>
</html>
"""
    return HTMLResponse(body, headers=_security_headers(request))


def _security_headers(request: Request) -> dict[str, str]:
    # 'self' covers ws:/wss: to this host in current browsers (CSP Level 3); older ones need them spelled out.
    connect = "'self'"
    host = request.url.netloc
    if _HOST.fullmatch(host):
        connect += f" ws://{host} wss://{host}"
    return vendored_page.security_headers(connect)


def assets_mount() -> Mount:
    """The static route serving the vendored assets."""
    return vendored_page.assets_mount(ASSETS_PATH, STATIC_DIR, "graphiql-assets")
