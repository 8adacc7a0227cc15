"""`matchgraph reembed` with a second model the test builds (a small, randomly initialised BERT; no download):
staged resumably while the API answers, rows changed meanwhile embedded at the swap, swapped atomically."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import text

from graphql_app.auth import TokenVerifier
from graphql_app.db.setup import DatabaseSetupError, check_embedding_model_id
from graphql_app.matching.embeddings import load_embedder
from graphql_app.services import catalogue, talent
from graphql_app.services.reembed import SOURCES
from graphql_app.settings import DEFAULT_EMBEDDING_MODEL
from tests.conftest import GraphQLClient, database_url, token_for
from tests.processes import BIN, Server, process_env, run_matchgraph

SEARCH = 'query { searchGrants(text: "solar power for farms", first: 3) { similarity grant { id title } } }'


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory) -> Path:
    """A 384-d sentence-transformers model (the columns' dimension)."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model"), 384)


@pytest.fixture(scope="module")
def tiny_model_128(tmp_path_factory) -> Path:
    """A 128-d one: re-embedding into it changes the columns' dimension."""
    return build_tiny_model(tmp_path_factory.mktemp("tiny-model-128"), 128)


def build_tiny_model(root: Path, dimension: int) -> Path:
    """A sentence-transformers model: one BERT layer with random weights, a tiny vocabulary, mean pooling."""
    import torch
    from sentence_transformers import SentenceTransformer, models
    from transformers import BertConfig, BertModel, BertTokenizerFast

    bert = root / "bert"
    bert.mkdir()
    letters = "abcdefghijklmnopqrstuvwxyz0123456789"
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *letters, *(f"##{c}" for c in letters)]
    (bert / "vocab.txt").write_text("\n".join(vocab) + "\n")
    torch.manual_seed(0)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=dimension,
        num_hidden_layers=1,
        num_attention_heads=4,
        intermediate_size=64,
        max_position_embeddings=256,
    )
    BertModel(config).save_pretrained(bert)
    BertTokenizerFast(vocab_file=str(bert / "vocab.txt"), do_lower_case=True).save_pretrained(bert)
    model = SentenceTransformer(
        modules=[models.Transformer(str(bert), max_seq_length=256), models.Pooling(dimension, "mean")], device="cpu"
    )
    out = root / "st"
    model.save(str(out))
    return out


async def _seed(services) -> dict[str, list]:
    await catalogue.create_grants(
        services.db,
        services.embedder,
        [
            {"title": f"Solar call {i}", "description": "Panels on farm roofs", "carbon_categories": []}
            for i in range(5)
        ],
    )
    await catalogue.create_companies(
        services.db,
        services.embedder,
        "tenant-a",
        [{"name": f"Agri Solar {i}", "country": "DE", "size": "SMALL"} for i in range(3)],
    )
    admin = TokenVerifier(services.settings).verify(token_for("tenant-a", ("ORG_ADMIN",)))
    await talent.upsert_organisation(
        services.db, services.embedder, admin, {"name": "Acme", "culture_statement": "We ship calmly."}, create=True
    )
    platform = TokenVerifier(services.settings).verify(token_for("platform", ("PLATFORM_ADMIN",)))
    await talent.create_member(services.db, services.embedder, platform, {"display_name": "Ann", "bio": "Welder"})
    await talent.create_member(services.db, services.embedder, platform, {"display_name": "Bo", "bio": ""})
    async with services.db.transaction() as conn:  # as the first API process start records it
        await conn.execute(
            text("INSERT INTO embedding_models (model_id, dimension) VALUES (:m, 384)"), {"m": DEFAULT_EMBEDDING_MODEL}
        )


async def _stored(services) -> dict[str, dict]:
    """Each source's rows: id → (text, vector or None)."""
    out = {}
    async with services.db.reader() as conn:
        for source in SOURCES:
            rows = [dict(r._mapping) for r in await conn.execute(source.table.select())]
            out[source.name] = {r["id"]: (source.text_of(r), r[source.column]) for r in rows}
    return out


async def test_reembed_stages_resumably_swaps_atomically_and_the_api_keeps_answering(
    services, live_server, tiny_model, pg_socket_dir, database_name
) -> None:
    await _seed(services)
    before = await _stored(services)
    env = process_env(
        MATCHGRAPH_DATABASE_URL=database_url(pg_socket_dir, database_name),
        MATCHGRAPH_EMBEDDING_MODEL=str(tiny_model),
    )

    # Stage only, in batches of 2: the new vectors wait in embedding_staging; the old ones still serve.
    staged = await asyncio.to_thread(run_matchgraph, "reembed", "--stage-only", "--batch-size", "2", env=env)
    assert staged.returncode == 0, staged.stderr
    assert "Staged: companies 3, grants 5, members 2, organisations 1 newly embedded." in staged.stdout
    assert "companies: 100%" in staged.stderr  # the progress bars
    assert await _stored(services) == before
    async with services.db.reader() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM embedding_staging")) == 11

    # After staging, a company is renamed (its staged vector is stale: embedded again at the swap) and a grant is
    # added (staged by the next run, which resumes: the rows staged already are not embedded again).
    company_id = next(iter(before["companies"]))
    async with services.db.transaction() as conn:
        await conn.execute(text("UPDATE companies SET name = 'Renamed Solar' WHERE id = :i"), {"i": company_id})
    await catalogue.create_grants(services.db, services.embedder, [{"title": "Late call", "carbon_categories": []}])

    async with live_server(rate_limit="") as server, httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        client = GraphQLClient(http, token_for("tenant-a", ("ORG_ADMIN",)))
        process = await asyncio.create_subprocess_exec(
            str(BIN / "matchgraph"), "reembed", "--batch-size", "2", env=env, stdout=-1, stderr=-1
        )
        answered = 0
        while process.returncode is None:
            assert len((await client.data(SEARCH))["searchGrants"]) == 3
            answered += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(process.wait(), 0.05)
        out, err = (s.decode() for s in await process.communicate())
        assert process.returncode == 0, err
        assert answered > 3  # the API answered all along
        assert "Staged: companies 0, grants 1, members 0, organisations 0 newly embedded." in out
        assert (
            "embedded at the swap (changed or added meanwhile): companies 1, grants 0, members 0, organisations 0"
            in out
        )
        assert len((await client.data(SEARCH))["searchGrants"]) == 3

    tiny = load_embedder(str(tiny_model))
    after = await _stored(services)
    for source, rows in after.items():
        for row_id, (value, vector) in rows.items():
            if not value.strip():
                assert vector is None, (source, row_id)
                continue
            expected = tiny.encode([value])[0]
            assert np.allclose(np.asarray(vector), expected, atol=1e-5), (source, row_id)
            if row_id in before[source] and before[source][row_id][1] is not None:
                assert not np.allclose(np.asarray(vector), np.asarray(before[source][row_id][1]), atol=1e-3)
    async with services.db.reader() as conn:
        assert (await conn.execute(text("SELECT model_id, dimension FROM embedding_models"))).all() == [
            (str(tiny_model), 384)
        ]
        assert await conn.scalar(text("SELECT count(*) FROM embedding_staging")) == 0
        with pytest.raises(DatabaseSetupError, match="re-embed"):  # an API process with the old model is refused
            await check_embedding_model_id(conn, DEFAULT_EMBEDDING_MODEL)

    again = await asyncio.to_thread(run_matchgraph, "reembed", env=env)
    assert again.returncode == 0 and "nothing to do" in again.stdout


def test_a_model_that_cannot_be_loaded_is_a_clear_error(pg_socket_dir, database_name, tmp_path) -> None:
    env = process_env(
        MATCHGRAPH_DATABASE_URL=database_url(pg_socket_dir, database_name),
        MATCHGRAPH_EMBEDDING_MODEL=str(tmp_path / "no-such-model"),
    )
    result = run_matchgraph("reembed", env=env)
    assert result.returncode == 1
    assert "cannot load the embedding model" in result.stderr and "Traceback" not in result.stderr


async def test_reembed_into_another_dimension(services, tiny_model_128, live_env, processes) -> None:
    """The columns become 128-d (twins filled and indexed beforehand, swapped in one transaction), and a server
    on the new model searches, embeds new rows and computes matches."""
    await _seed(services)
    env = {**live_env, "MATCHGRAPH_EMBEDDING_MODEL": str(tiny_model_128)}
    result = await asyncio.to_thread(run_matchgraph, "reembed", "--batch-size", "4", env=env)
    assert result.returncode == 0, result.stderr
    assert "Prepared 128-d twins of the vector columns and their indexes." in result.stdout

    async with services.db.reader() as conn:
        columns = (
            await conn.execute(
                text(
                    "SELECT attrelid::regclass::text, attname, atttypmod FROM pg_attribute WHERE NOT attisdropped "
                    "AND attname LIKE '%embedding%' AND attrelid::regclass::text IN "
                    "('companies', 'grants', 'members', 'organisations') ORDER BY 1"
                )
            )
        ).all()
        indexes = (
            await conn.execute(
                text(
                    "SELECT c.relname, pg_get_indexdef(i.indexrelid), i.indisvalid FROM pg_index i "
                    "JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname LIKE '%embedding_hnsw%' ORDER BY 1"
                )
            )
        ).all()
    assert [tuple(c) for c in columns] == [
        ("companies", "embedding", 128),
        ("grants", "embedding", 128),
        ("members", "bio_embedding", 128),
        ("organisations", "culture_embedding", 128),
    ]
    assert [(name, valid) for name, _, valid in indexes] == [
        ("ix_companies_embedding_hnsw", True),
        ("ix_grants_embedding_hnsw", True),
    ]
    assert all("hnsw (embedding vector_cosine_ops)" in definition for _, definition, _ in indexes)
    tiny = load_embedder(str(tiny_model_128))
    for source, rows in (await _stored(services)).items():
        for row_id, (value, vector) in rows.items():
            if value.strip():
                assert np.allclose(np.asarray(vector), tiny.encode([value])[0], atol=1e-5), (source, row_id)

    server = await asyncio.to_thread(Server, env)
    processes.append(server)
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    found = server.data('query { searchGrants(text: "farm roofs", first: 2) { similarity grant { id } } }', admin)
    assert len(found["searchGrants"]) == 2
    created = server.data(
        'mutation { createCompany(input: {name: "New Solar", country: "DE", size: SMALL}) { id } }', admin
    )["createCompany"]
    started = server.data(
        "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id } }", admin, {"c": created["id"]}
    )["calculateGrantMatches"]
    for _ in range(200):
        state = server.data(
            "query($id: ID!) { computation(id: $id) { status resultCount } }", admin, {"id": started["id"]}
        )
        if state["computation"]["status"] in ("SUCCEEDED", "FAILED"):
            break
        await asyncio.sleep(0.1)
    assert state["computation"] == {"status": "SUCCEEDED", "resultCount": 5}
