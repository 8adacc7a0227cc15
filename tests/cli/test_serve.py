"""`matchgraph serve` on the embedded default, as an operator runs it: real processes, real HTTP."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGRAPH_")}
    env.update(MATCHGRAPH_DATA_DIR=str(data_dir), HF_HUB_OFFLINE="1", MATCHGRAPH_LOG_LEVEL="warning")
    return env


def _matchgraph(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "matchgraph"), *args], env=env, capture_output=True, text=True, timeout=120)


class Server:
    def __init__(self, data_dir: Path) -> None:
        self.port = _free_port()
        self.env = _env(data_dir)
        self.proc = subprocess.Popen(
            [str(BIN / "matchgraph"), "serve", "--port", str(self.port)],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        self.stop()
        raise AssertionError("server did not become healthy in 90 s")

    def graphql(self, query: str, token: str) -> dict:
        response = httpx.post(
            f"{self.url}/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        return response.json()

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out


def test_serve_on_the_embedded_default_keeps_data_across_restarts(tmp_path: Path):
    data_dir = tmp_path / "data"
    server = Server(data_dir)
    try:
        env = server.env
        token = _matchgraph("token", "--tenant", "acme", "--role", "PLATFORM_ADMIN", env=env).stdout.strip()
        created = server.graphql('mutation { createGrant(input: {title: "Persistent call"}) { id } }', token)
        assert created.get("data"), created
        # A second process on the same data dir shares the running database.
        migrated = _matchgraph("migrate", env=env)
        assert migrated.returncode == 0, migrated.stderr
        assert "GraphQL at" in server.stop()
        server = Server(data_dir)
        listed = server.graphql("{ grants { totalCount edges { node { title } } } }", token)
        assert listed["data"]["grants"]["totalCount"] == 1
        assert listed["data"]["grants"]["edges"][0]["node"]["title"] == "Persistent call"
        unauthenticated = httpx.post(f"{server.url}/graphql", json={"query": "{ grants { totalCount } }"}).json()
        assert unauthenticated["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    finally:
        server.stop()


def test_external_database_without_a_reachable_server_fails_clearly(tmp_path: Path):
    env = _env(tmp_path)
    env["MATCHGRAPH_DATABASE_URL"] = f"postgresql://postgres@127.0.0.1:{_free_port()}/nothing"
    result = _matchgraph("migrate", env=env)
    assert result.returncode == 1
    assert "Cannot reach the database" in result.stderr
