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
from starlette.responses import HTMLResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

STATIC_DIR = Path(__file__).parent / "static"
#: Where the assets are mounted; the page refers to them under this path.
ASSETS_PATH = "/api/docs-assets"
MANIFEST = STATIC_DIR / "vendor" / "manifest.json"
BOOTSTRAP_SCRIPT = "matchgraph-swagger-ui.js"
#: Vendored files live in directories named <package>@<version>, so they can be cached for good.
VENDOR_CACHE_CONTROL = "public, max-age=31536000, immutable"
OWN_CACHE_CONTROL = "no-cache"


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
    styles = manifest["styles"]
    links = "\n".join(f'<link rel="stylesheet" href="{html.escape(f"{assets}/{path}")}">' for path in styles)
    scripts = [*manifest["scripts"], BOOTSTRAP_SCRIPT]
    tags = "\n".join(f'<script src="{html.escape(f"{assets}/{path}")}" defer></script>' for path in scripts)
    body = f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>Matchgraph · REST API</title>
<link rel="icon" href="data:,">
{links}
<script type="application/json" id="matchgraph-swagger-ui-config">{config_json}</script>
{tags}
</head>
<body>
<div id="swagger-ui"></div>
<noscript>The API documentation needs JavaScript; the document itself is at {html.escape(openapi_path)}.</noscript>
</body>
</html>
"""
    policy = [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",  # Swagger UI sets style attributes
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    headers = {
        "Content-Security-Policy": "; ".join(policy),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
    return HTMLResponse(body, headers=headers)


class _Assets(StaticFiles):
    """StaticFiles with cache headers: vendored files (versioned paths) for a year, ours revalidated."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            vendored = Path(path).parts[:1] == ("vendor",)
            response.headers["Cache-Control"] = VENDOR_CACHE_CONTROL if vendored else OWN_CACHE_CONTROL
        return response


def assets_mount() -> Mount:
    """The static route serving the vendored assets."""
    return Mount(ASSETS_PATH, app=_Assets(directory=STATIC_DIR, check_dir=False), name="swagger-ui-assets")
