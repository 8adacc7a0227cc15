"""Fixtures of the API tests."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator

import httpx
import pytest

from graphql_app.app import create_app
from graphql_app.context import AppServices


@pytest.fixture
async def two_apps(services: AppServices, worker) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:
    """Two apps on one database: one with compiled plans (``.plans`` on its client), one without."""
    compiled_app = create_app(dataclasses.replace(services.settings, compiled_queries=True), services=services)
    interpreted_app = create_app(dataclasses.replace(services.settings, compiled_queries=False), services=services)
    assert interpreted_app.state.compiled_queries is None
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=compiled_app), base_url="http://c.test") as compiled,
        httpx.AsyncClient(transport=httpx.ASGITransport(app=interpreted_app), base_url="http://i.test") as interpreted,
    ):
        compiled.plans = compiled_app.state.compiled_queries  # type: ignore[attr-defined]
        yield compiled, interpreted
