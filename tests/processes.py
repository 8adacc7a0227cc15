"""Real Matchgraph processes for tests: `matchgraph serve` and `matchgraph worker` as subprocesses."""

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def process_env(**overrides: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MATCHGRAPH_")}
    # As in-process tests: no GRANT_FANOUT computation after grant imports unless a test asks for one (the
    # others count computations and jobs).
    defaults = {"MATCHGRAPH_LOG_LEVEL": "warning", "MATCHGRAPH_GRANT_FANOUT": "false"}
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", **{**defaults, **overrides})
    return env


def run_matchgraph(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "matchgraph"), *args], env=env, capture_output=True, text=True, timeout=120)


class Process:
    """A background `matchgraph …` process whose output is kept for failure messages."""

    def __init__(self, *args: str, env: dict[str, str]) -> None:
        self.args = args
        self.proc = subprocess.Popen(
            [str(BIN / "matchgraph"), *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )

    def stop(self) -> str:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            out, _ = self.proc.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        return out or ""

    def kill(self) -> None:
        """SIGKILL: no cleanup at all, as when a machine dies."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)


class Server(Process):
    """`matchgraph serve` on a free port, healthy before the constructor returns."""

    def __init__(self, env: dict[str, str], *extra: str) -> None:
        self.port = free_port()
        super().__init__("serve", "--port", str(self.port), *extra, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}/graphql"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.proc.stdout.read()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError(f"server not healthy in 90 s: {self.stop()}")

    def graphql(self, query: str, token: str, variables: dict | None = None) -> dict:
        response = httpx.post(
            f"{self.url}/graphql",
            json={"query": query, "variables": variables or {}},
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        return response.json()

    def data(self, query: str, token: str, variables: dict | None = None) -> dict:
        body = self.graphql(query, token, variables)
        assert not body.get("errors"), body
        return body["data"]
