"""Browser tests: Debian's Chromium, headless, driven by Playwright against real `matchgraph serve` processes.

Playwright's own browser download is not used (`playwright install` needs the internet): the tests run the system
Chromium, with the flags that keep it from calling Google (updates, sync, QUIC probes, …).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, async_playwright

from tests.conftest import JWT_SECRET, database_url
from tests.processes import Process, Server, process_env

#: Debian's Chromium (`apt-get install chromium`); MATCHGRAPH_TEST_CHROMIUM overrides it.
CHROMIUM = Path(os.environ.get("MATCHGRAPH_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for the session."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        pytest.fail(
            f"Chromium not found at {CHROMIUM}"
            + (f" (there is one at {found}: set MATCHGRAPH_TEST_CHROMIUM={found})" if found else "")
            + ". Install Debian's package: `sudo apt-get install chromium` (not `playwright install`).",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield browser
        await browser.close()


@pytest.fixture
async def browser_context(browser: Browser) -> AsyncIterator[BrowserContext]:
    """A fresh profile per test (GraphiQL keeps headers and tabs in localStorage)."""
    context = await browser.new_context(viewport={"width": 1400, "height": 900})
    context.set_default_timeout(20_000)
    yield context
    await context.close()


@pytest.fixture
def live_env(pg_socket_dir: str, database_name: str) -> dict[str, str]:
    """Environment for server processes on the per-test database (as in tests/ws/conftest.py)."""
    return process_env(
        MATCHGRAPH_DATABASE_URL=database_url(pg_socket_dir, database_name),
        MATCHGRAPH_JWT_SECRET=JWT_SECRET,
        MATCHGRAPH_WORKER_HEARTBEAT_SECONDS="2",
    )


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; all stopped afterwards."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def server(live_env: dict[str, str], processes: list[Process]) -> Server:
    """`matchgraph serve` (with its worker) on a free port."""
    server = Server(live_env)
    processes.append(server)
    return server
