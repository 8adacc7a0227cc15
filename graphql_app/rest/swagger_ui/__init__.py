"""The OpenAPI page (`/api/docs`): Swagger UI served by Matchgraph itself, no request leaves the machine.

swagger-ui-dist is pinned in package.json and package-lock.json next to this file; `scripts/vendor-swagger-ui`
copies its standalone bundle and CSS into static/vendor/ and writes static/vendor/manifest.json, the list this page
loads. static/matchgraph-swagger-ui.js is our bootstrap: it points Swagger UI at `/api/openapi.json`.
"""

from __future__ import annotations

import functools
import html
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount

from graphql_app.web import vendored_page

STATIC_DIR = Path(__file__).parent / "static"
#: Where the assets are mounted; the page refers to them under this path.
ASSETS_PATH = "/api/docs-assets"
MANIFEST = STATIC_DIR / "vendor" / "manifest.json"
BOOTSTRAP_SCRIPT = "matchgraph-swagger-ui.js"


@functools.cache
def _manifest() -> dict[str, Any]:
    return json.loads(MANIFEST.read_text())


def page(request: Request, openapi_path: str) -> HTMLResponse:
    """The Swagger UI page for the OpenAPI document at ``openapi_path``."""
    try:
        manifest = _manifest()
    except FileNotFoundError:
        return HTMLResponse(
            "<!doctype html><title>API docs</title><p>Swagger UI's assets are missing: run scripts/vendor-swagger-ui.",
            status_code=500,
        )
    root = request.scope.get("root_path", "").rstrip("/")
    assets = root + ASSETS_PATH
    config_json = json.dumps({"url": root + openapi_path}).replace("</", "<\\/")
    tags = vendored_page.asset_tags(assets, manifest["styles"], [*manifest["scripts"], BOOTSTRAP_SCRIPT])
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Matchgraph · REST API</title>
<link rel="icon" href="data:,">
<script type="application/json" id="matchgraph-swagger-ui-config">{config_json}</script>
{tags}
</head>
<body>
<div id="swagger-ui"></div>
<noscript>The API documentation needs JavaScript; the document itself is at {html.escape(openapi_path)}.</noscript>
</body>
</html>
"""
    return HTMLResponse(body, headers=vendored_page.security_headers())


def assets_mount() -> Mount:
    """The static route serving the vendored assets."""
    return vendored_page.assets_mount(ASSETS_PATH, STATIC_DIR, "swagger-ui-assets")
