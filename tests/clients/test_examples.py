"""The client examples in `examples/` run as documented against a live server.

Each runs as a real subprocess (`asyncio.create_subprocess_exec`, so the live server in this event loop keeps
serving it): the Node `graphql-ws` script and the Python `gql` script start a computation over HTTP and follow it
over WebSocket to the end. The Node examples need `npm ci --prefix examples` first.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.conftest import GraphQLClient, LiveServer, token_for

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@dataclass
class Finished:
    returncode: int
    stdout: str
    stderr: str

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


def example_command(script: str) -> list[str]:
    """How to run an example script; Node ones need the example's packages installed."""
    path = EXAMPLES / script
    if path.suffix == ".py":
        return [sys.executable, str(path)]
    node = shutil.which("node")
    if node is None:
        pytest.fail("Node.js is needed to run the examples in examples/node (Node 20 or later).")
    if not (EXAMPLES / "node_modules" / "graphql-ws").is_dir():
        pytest.fail("examples/node_modules is missing: run `npm ci --prefix examples` first.")
    return [node, str(path)]


async def run_example(
    script: str, *args: str, server: LiveServer, token: str, timeout: float = 60, env: dict[str, str] | None = None
) -> Finished:
    env = {**os.environ, "MATCHGRAPH_URL": server.graphql_url, "MATCHGRAPH_TOKEN": token, **(env or {})}
    process = await asyncio.create_subprocess_exec(
        *example_command(script),
        *args,
        cwd=EXAMPLES,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        stdout, stderr = await process.communicate()
        pytest.fail(f"{script} did not finish in {timeout} s:\n{stdout.decode()}\n{stderr.decode()}")
    return Finished(process.returncode, stdout.decode(), stderr.decode())


FOLLOW_SCRIPTS = ["node/follow-computation.mjs", "python/follow_computation.py"]


@pytest.mark.parametrize("script", FOLLOW_SCRIPTS)
async def test_example_follows_a_computation_to_the_end(server, admin_token, company_id, script):
    finished = await run_example(script, company_id, server=server, token=admin_token)
    assert finished.returncode == 0, finished.stderr

    states = finished.lines()
    assert states, "no state printed"
    assert {state["id"] for state in states} == {states[0]["id"]}, "states of more than one computation"
    assert all(state["status"] in ("QUEUED", "RUNNING", "SUCCEEDED") for state in states), states
    assert states[-1]["status"] == "SUCCEEDED" and states[-1]["resultCount"] == 5, states
    assert all(state["status"] != "SUCCEEDED" for state in states[:-1]), "states after the terminal one"

    # The computation the script followed is the one that stored the company's matches.
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
        data = await GraphQLClient(http, admin_token).data(
            "query($id: ID!, $c: ID!) { computation(id: $id) { status subjectId }"
            " grantMatches(companyId: $c) { totalCount } }",
            {"id": states[-1]["id"], "c": company_id},
        )
    assert data["computation"] == {"status": "SUCCEEDED", "subjectId": company_id}
    assert data["grantMatches"]["totalCount"] == 5


@pytest.mark.parametrize("script", FOLLOW_SCRIPTS)
async def test_example_exits_non_zero_with_the_error(server, company_id, script):
    finished = await run_example(script, company_id, server=server, token="not-a-token")
    assert finished.returncode == 1
    assert finished.stdout == ""
    assert "UNAUTHENTICATED" in finished.stderr or "malformed" in finished.stderr, finished.stderr


@pytest.mark.grant_fanout
async def test_the_alerts_example_imports_a_grant_and_hears_its_alert(server, admin_token, company_id):
    finished = await run_example(
        "python/grant_alerts.py",
        company_id,
        server=server,
        token=admin_token,
        env={"MATCHGRAPH_ADMIN_TOKEN": token_for("platform", ("PLATFORM_ADMIN",))},
    )
    assert finished.returncode == 0, finished.stderr
    first, imported, *_, alerted = finished.lines()
    assert first == {"unreadCount": 0, "alert": None}
    assert alerted["alert"]["grant"]["id"] == imported["imported"]["id"]
    assert alerted["alert"]["reason"] == "NEW_GRANT" and alerted["unreadCount"] >= 1
