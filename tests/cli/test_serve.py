"""`matchgraph serve` on the embedded default, as an operator runs it: real processes, real HTTP."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx

from tests.processes import Server, free_port, process_env, run_matchgraph


def _env(data_dir: Path) -> dict[str, str]:
    return process_env(MATCHGRAPH_DATA_DIR=str(data_dir))


def _matchgraph(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return run_matchgraph(*args, env=env)


def test_serve_on_the_embedded_default_keeps_data_across_restarts(tmp_path: Path):
    data_dir = tmp_path / "data"
    server = Server(_env(data_dir))
    try:
        env = _env(data_dir)
        token = _matchgraph("token", "--tenant", "acme", "--role", "PLATFORM_ADMIN", env=env).stdout.strip()
        created = server.graphql('mutation { createGrant(input: {title: "Persistent call"}) { id } }', token)
        assert created.get("data"), created
        # A second process on the same data dir shares the running database.
        migrated = _matchgraph("migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
        assert "GraphQL at" in server.stop()
        server = Server(_env(data_dir))
        listed = server.graphql("{ grants { totalCount edges { node { title } } } }", token)
        assert listed["data"]["grants"]["totalCount"] == 1
        assert listed["data"]["grants"]["edges"][0]["node"]["title"] == "Persistent call"
        unauthenticated = httpx.post(f"{server.url}/graphql", json={"query": "{ grants { totalCount } }"}).json()
        assert unauthenticated["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        server.stop()


def test_external_database_without_a_reachable_server_fails_clearly(tmp_path: Path):
    env = _env(tmp_path)
    env["MATCHGRAPH_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{free_port()}/nothing"
    result = _matchgraph("migrate", env=env)
    assert result.returncode == 1
    assert "Cannot reach the database" in result.stderr
