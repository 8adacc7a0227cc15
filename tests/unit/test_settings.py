"""Settings read from the environment."""

from __future__ import annotations

import dataclasses

from graphql_app.app import create_app
from graphql_app.settings import load_settings


def test_response_cache_and_compiled_plan_settings(monkeypatch, tmp_path):
    monkeypatch.setenv("MATCHGRAPH_RESPONSE_CACHE", "true")
    monkeypatch.setenv("MATCHGRAPH_RESPONSE_CACHE_TTL", "5")
    monkeypatch.setenv("MATCHGRAPH_RESPONSE_CACHE_ENTRIES", "3")
    monkeypatch.setenv("MATCHGRAPH_COMPILED_QUERIES", "false")
    monkeypatch.setenv("MATCHGRAPH_DATABASE_URL", "postgresql://unused/db")
    monkeypatch.setenv("MATCHGRAPH_JWT_SECRET", "s" * 40)
    settings = load_settings()
    assert (settings.response_cache, settings.response_cache_ttl, settings.response_cache_entries) == (True, 5.0, 3)
    assert settings.compiled_queries is False
    app = create_app(settings)  # no database is touched before the lifespan starts
    assert app.state.compiled_queries is None
    cache = app.state.response_cache
    assert (cache.ttl, cache.max_entries) == (5.0, 3)
    for i in range(5):
        cache.put(str(i), cache.version, i)
    assert cache.get("0") is None and cache.get("4") == 4  # least recently used go first


def test_defaults(monkeypatch):
    for name in ("MATCHGRAPH_RESPONSE_CACHE", "MATCHGRAPH_COMPILED_QUERIES", "MATCHGRAPH_RESPONSE_CACHE_ENTRIES"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.compiled_queries is True and settings.response_cache is False
    assert settings.response_cache_entries == 10_000


def test_the_embedding_model_preloads_where_the_worker_runs_unless_told(monkeypatch):
    """`serve` (worker inside) loads the model at start; `serve --no-worker` only on first use (memory), and
    MATCHGRAPH_PRELOAD_EMBEDDING_MODEL decides for both when set."""
    monkeypatch.setenv("MATCHGRAPH_DATABASE_URL", "postgresql://unused/db")
    monkeypatch.setenv("MATCHGRAPH_JWT_SECRET", "s" * 40)
    monkeypatch.delenv("MATCHGRAPH_PRELOAD_EMBEDDING_MODEL", raising=False)
    settings = load_settings()
    assert settings.preloads_embedding_model is True
    assert dataclasses.replace(settings, run_worker=False).preloads_embedding_model is False
    for value, expected in (("false", False), ("true", True)):
        monkeypatch.setenv("MATCHGRAPH_PRELOAD_EMBEDDING_MODEL", value)
        for run_worker in (True, False):
            assert dataclasses.replace(load_settings(), run_worker=run_worker).preloads_embedding_model is expected
