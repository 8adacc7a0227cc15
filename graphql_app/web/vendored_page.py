"""What the two browser pages Matchgraph serves itself (GraphiQL, the REST API's Swagger UI) have in common: assets
vendored from the npm registry under versioned paths, the tags that load them, and a Content-Security-Policy that
lets a page load nothing from anywhere else."""

from __future__ import annotations

import html
from collections.abc import Iterable
from pathlib import Path

from starlette.responses import Response
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

#: Vendored files live in directories named <package>@<version>: a new version is a new URL, so they can be
#: cached for good. Our own files are revalidated (ETag) on every load.
VENDOR_CACHE_CONTROL = "public, max-age=31536000, immutable"
OWN_CACHE_CONTROL = "no-cache"


class VendoredAssets(StaticFiles):
    """StaticFiles with cache headers: vendored files (versioned paths) for a year, ours revalidated."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        response = await super().get_response(path, scope)
        if response.status_code in (200, 304):
            vendored = Path(path).parts[:1] == ("vendor",)
            response.headers["Cache-Control"] = VENDOR_CACHE_CONTROL if vendored else OWN_CACHE_CONTROL
        return response


def assets_mount(path: str, directory: Path, name: str) -> Mount:
    """The static route serving a page's assets from ``directory`` at ``path``."""
    return Mount(path, app=VendoredAssets(directory=directory, check_dir=False), name=name)


def asset_tags(assets_url: str, styles: Iterable[str], scripts: Iterable[str]) -> str:
    """``<link>`` tags for ``styles`` and deferred ``<script>`` tags for ``scripts`` (kept in order: ``defer``
    runs them in document order once it is parsed)."""
    links = [f'<link rel="stylesheet" href="{html.escape(f"{assets_url}/{path}")}">' for path in styles]
    tags = [f'<script src="{html.escape(f"{assets_url}/{path}")}" defer></script>' for path in scripts]
    return "\n".join([*links, *tags])


def security_headers(connect_src: str = "'self'") -> dict[str, str]:
    """Headers of a page that runs only this server's scripts and talks only to ``connect_src``."""
    policy = [
        "default-src 'none'",
        "script-src 'self'",
        # GraphiQL's dialogs inject a <style> element while open; Swagger UI sets style attributes.
        "style-src 'self' 'unsafe-inline'",
        # Both pages' CSS embed fonts and images as data: URLs; the favicon is data: too.
        "font-src 'self' data:",
        "img-src 'self' data:",
        f"connect-src {connect_src}",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
    return {
        "Content-Security-Policy": "; ".join(policy),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
    }
