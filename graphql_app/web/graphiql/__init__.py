"""GraphiQL served by Matchgraph itself: pinned assets from the npm registry, no request leaves the machine."""

from __future__ import annotations

from pathlib import Path

from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"
#: Where the assets are mounted; the page refers to them under this path.
ASSETS_PATH = "/graphiql-assets"


def page(request: Request) -> HTMLResponse:
    """The GraphiQL page for the endpoint that was requested (HTTP and WebSocket on the same path)."""
    return HTMLResponse("<!doctype html><title>GraphiQL</title><p>GraphiQL assets not vendored yet.</p>")


def assets_mount() -> Mount:
    """The static route serving the vendored assets."""
    return Mount(ASSETS_PATH, app=StaticFiles(directory=STATIC_DIR, check_dir=False), name="graphiql-assets")
