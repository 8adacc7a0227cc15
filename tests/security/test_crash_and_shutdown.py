"""The embedded PostgreSQL as an operator's laptop meets it: killed with `kill -9`, it is started again and the
server serves again without a restart, a queued computation still finishes once; SIGTERM and SIGINT stop the
database when the last Matchgraph process on the data dir exits, whatever died before; a normal start logs no
traceback. Real processes throughout."""

from __future__ import annotations

import json
import os
import signal
import time
from pathlib import Path

import httpx
import psutil

from tests.api.factories import company_input
from tests.processes import Process, Server, process_env, run_matchgraph

GRANT = 'mutation { createGrant(input: {title: "Solar retrofit call", description: "Solar panels for SMEs."}) { id } }'


def postmaster_pid(data_dir: Path) -> int | None:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    if not pid_file.exists():
        return None
    pid = int(pid_file.read_text().splitlines()[0])
    return pid if psutil.pid_exists(pid) else None


def wait_until(condition, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"not within {timeout} s: {what}")


def healthy(server: Server) -> bool:
    try:
        return httpx.get(f"{server.url}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_after_kill_9_of_the_database_the_server_serves_again_and_queued_work_finishes_once(tmp_path):
    data_dir = tmp_path / "data"
    env = process_env(MATCHGRAPH_DATA_DIR=str(data_dir), MATCHGRAPH_WORKER_HEARTBEAT_SECONDS="2")
    server = Server(env, "--no-worker")
    worker = None
    try:
        admin = run_matchgraph("token", "--tenant", "acme", "--role", "ORG_ADMIN", env=env).stdout.strip()
        platform = run_matchgraph("token", "--tenant", "acme", "--role", "PLATFORM_ADMIN", env=env).stdout.strip()
        server.data(GRANT, platform)
        company = server.data(
            "mutation($i: CompanyInput!) { createCompany(input: $i) { id } }", admin, {"i": company_input("Solar GmbH")}
        )["createCompany"]["id"]
        queued = server.data(
            "mutation($c: ID!) { calculateGrantMatches(companyId: $c) { id status } }", admin, {"c": company}
        )
        assert queued["calculateGrantMatches"]["status"] == "QUEUED"

        os.kill(postmaster_pid(data_dir), signal.SIGKILL)
        wait_until(lambda: not healthy(server) or postmaster_pid(data_dir) is not None, 10, "the kill to be noticed")
        # Started again by the server itself, and serving: no restart of Matchgraph.
        wait_until(lambda: postmaster_pid(data_dir) is not None and healthy(server), 30, "the database to be back")
        wait_until(
            lambda: (
                "data" in server.graphql("{ companies { totalCount } }", admin)
                and server.graphql("{ companies { totalCount } }", admin).get("data") is not None
            ),
            15,
            "queries to succeed again",
        )
        assert server.data("{ companies { totalCount } }", admin)["companies"]["totalCount"] == 1

        # The computation queued before the crash is still there, and a worker finishes it, once.
        worker = Process("worker", "--concurrency", "2", env=env)
        computation = queued["calculateGrantMatches"]["id"]
        state = {}

        def finished() -> bool:
            state.update(
                server.data("query($id: ID!) { computation(id: $id) { status attempts } }", admin, {"id": computation})[
                    "computation"
                ]
            )
            return state["status"] in ("SUCCEEDED", "FAILED")

        wait_until(finished, 60, "the queued computation to finish")
        assert state == {"status": "SUCCEEDED", "attempts": 1}
    finally:
        if worker is not None:
            worker.stop()
        output = server.stop()
    wait_until(lambda: postmaster_pid(data_dir) is None, 15, "the database to stop with the last process")
    assert "Traceback" not in output.split("not running; starting it again")[0], output


def test_sigterm_and_sigint_stop_the_database_with_the_last_process(tmp_path):
    data_dir = tmp_path / "data"
    env = process_env(MATCHGRAPH_DATA_DIR=str(data_dir))
    # A process that died without cleaning up (kill -9) left its pid in pgserver's handle list.
    migrated = run_matchgraph("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    handles = data_dir / "pgdata" / ".handle_pids.json"
    dead = psutil.Popen(["true"])
    dead.wait()
    handles.write_text(json.dumps([dead.pid]))

    server = Server(env)
    worker = Process("worker", env=env)
    try:
        wait_until(lambda: "consuming" in _peek(worker), 60, "the worker to start")
        database = postmaster_pid(data_dir)
        assert database is not None
        server.proc.send_signal(signal.SIGTERM)
        server.proc.wait(30)
        time.sleep(1)
        assert postmaster_pid(data_dir) == database, "stopped while the worker still uses it"
        worker.proc.send_signal(signal.SIGINT)
        worker.proc.wait(30)
        wait_until(lambda: postmaster_pid(data_dir) is None, 15, "the database to stop after the last process")
    finally:
        server.stop()
        worker.stop()
    out = server.proc.stdout.read() if server.proc.stdout and not server.proc.stdout.closed else ""
    assert "Traceback" not in out


def _peek(process: Process) -> str:
    """What a running process printed so far (without waiting for it to exit)."""
    import select

    chunks = []
    while select.select([process.proc.stdout], [], [], 0)[0]:
        line = process.proc.stdout.readline()
        if not line:
            break
        chunks.append(line)
    process.printed = getattr(process, "printed", "") + "".join(chunks)
    return process.printed


def test_against_an_external_database_the_pools_recover_after_it_restarts(tmp_path):
    """An external PostgreSQL (here a separate server started by the test) restarts under a running API process:
    after at most a failed request or two, every path answers again, without restarting Matchgraph."""
    import pgserver
    from pgserver._commands import pg_ctl

    external = pgserver.get_server(tmp_path / "external", cleanup_mode="stop")
    socket_dir = external.get_postmaster_info().socket_dir
    external.psql("CREATE DATABASE matchgraph;")
    url = f"postgresql://postgres@/matchgraph?host={socket_dir}"
    env = process_env(MATCHGRAPH_DATABASE_URL=url, MATCHGRAPH_JWT_SECRET="external-" + "x" * 40)
    assert run_matchgraph("migrate", env=env).returncode == 0
    server = Server(env, "--no-worker")
    try:
        admin = run_matchgraph("token", "--tenant", "acme", "--role", "ORG_ADMIN", env=env).stdout.strip()
        page = "{ companies { totalCount } grants { totalCount } }"
        assert server.data(page, admin) == {"companies": {"totalCount": 0}, "grants": {"totalCount": 0}}
        pg_ctl(["-w", "restart", "-m", "fast"], pgdata=external.pgdata, user=external.system_user)

        def answers() -> bool:
            body = server.graphql(page, admin)
            return body.get("data") == {"companies": {"totalCount": 0}, "grants": {"totalCount": 0}}

        stats = "{ grantMatchStats { total } }"  # the resolvers' pool (the page above runs on a compiled plan)

        def everything_answers() -> bool:
            return answers() and healthy(server) and server.graphql(stats, admin).get("data") is not None

        wait_until(everything_answers, 20, "every path to answer after the restart")
        # Several in a row: no dead connection is left in the pools.
        assert all(everything_answers() for _ in range(10))
    finally:
        server.stop()
        external.cleanup()
