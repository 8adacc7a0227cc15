"""The embedding model is loaded on first use: a process that only reads never holds it; the first write that
embeds loads it once (checked against the stored vectors); a different model than the stored vectors' refuses to
start."""

from __future__ import annotations

import asyncio
import dataclasses

import httpx
import pytest
from sqlalchemy import text

from graphql_app.app import create_app
from graphql_app.context import AppServices
from graphql_app.db.setup import DatabaseSetupError, check_embedding_model_id
from tests.api.factories import company_input
from tests.conftest import token_for

AUTH = {"Authorization": f"Bearer {token_for('tenant-a', ('ORG_ADMIN',))}"}


async def test_reads_do_not_load_the_model_and_the_first_embedding_write_does(services):
    lazy = dataclasses.replace(services, embedder=None)
    app = create_app(services=lazy)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        listed = await http.post(
            "/graphql", json={"query": "{ companies { totalCount } grants { totalCount } }"}, headers=AUTH
        )
        assert listed.json() == {"data": {"companies": {"totalCount": 0}, "grants": {"totalCount": 0}}}
        assert lazy.embedder is None
        create = "mutation($i: CompanyInput!) { createCompany(input: $i) { id } }"
        results = await asyncio.gather(
            *(
                http.post("/graphql", json={"query": create, "variables": {"i": company_input(f"C{i}")}}, headers=AUTH)
                for i in range(3)
            )
        )
    assert all("errors" not in r.json() for r in results)
    assert lazy.embedder is services.embedder  # loaded once (the process-wide model), for all three
    async with services.db.reader() as conn:
        assert await conn.scalar(text("SELECT model_id FROM embedding_models")) == services.settings.embedding_model


async def test_a_model_other_than_the_stored_vectors_is_refused_before_loading(services: AppServices):
    async with services.db.transaction() as conn:
        await conn.execute(text("INSERT INTO embedding_models (model_id, dimension) VALUES ('some/other-model', 768)"))
    async with services.db.reader() as conn:
        with pytest.raises(DatabaseSetupError, match="some/other-model"):
            await check_embedding_model_id(conn, services.settings.embedding_model)
