"""Scaled out on one PostgreSQL: two `matchgraph serve --no-worker` and two `matchgraph worker` processes.

A subscriber on API process 1 hears of a computation started through process 2, run once by one worker; a
response cached by process 1 is dropped when process 2 changes the data; a worker killed (SIGKILL) in the middle
of a job is replaced by the other one, and the job still completes exactly once.
"""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from tests.conftest import database_url
from tests.processes import Process, Server
from tests.ws.conftest import TransportWsClient
from tests.ws.test_subscriptions import CALCULATE, COMPLETED, seed

STATUS = "query($id: ID!) { computation(id: $id) { status attempts resultCount } }"
COMPANY = "query($id: ID!) { company(id: $id) { id name } }"
RENAME = "mutation($id: ID!, $name: String!) { updateCompany(id: $id, input: {name: $name}) { id name } }"


async def _wait_for(predicate, timeout: float, interval: float = 0.1):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(interval)


async def test_two_api_processes_two_workers_one_database(
    live_env, processes, admin_token, platform_token, pg_socket_dir, database_name
):
    api_env = {**live_env, "MATCHGRAPH_RESPONSE_CACHE": "true"}
    api_1, api_2 = await asyncio.gather(
        asyncio.to_thread(Server, api_env, "--no-worker"), asyncio.to_thread(Server, api_env, "--no-worker")
    )
    processes += [api_1, api_2]
    # Each worker names its connections (a libpq parameter in its URL): the test can tell which one holds a job.
    base = database_url(pg_socket_dir, database_name)
    workers = {
        name: Process(
            "worker",
            "--concurrency",
            "2",
            env={**live_env, "MATCHGRAPH_DATABASE_URL": f"{base}&application_name={name}"},
        )
        for name in ("worker-1", "worker-2")
    }
    processes += workers.values()
    db = await asyncpg.connect(user="postgres", host=pg_socket_dir, database=database_name)
    try:
        company_id = seed(api_2, platform_token, admin_token, grants=6)

        # 1. Started through process 2, heard on process 1, run once.
        async with TransportWsClient(api_1.ws_url, admin_token) as subscriber:
            await subscriber.subscribe("done", COMPLETED)
            await asyncio.sleep(0.3)  # listening before the computation starts
            started = api_2.data(CALCULATE, admin_token, {"c": company_id})["calculateGrantMatches"]
            heard = (await subscriber.next_for("done", timeout=30))["payload"]["data"]["computationCompleted"]
            assert heard["id"] == started["id"] and heard["status"] == "SUCCEEDED" and heard["resultCount"] == 6
        state = api_1.data(STATUS, admin_token, {"id": started["id"]})["computation"]
        assert state == {"status": "SUCCEEDED", "attempts": 1, "resultCount": 6}
        runs = await db.fetchval("SELECT count(*) FROM pgqueuer_log WHERE status::text = 'successful'")
        assert runs == 1, "one worker ran it, once"

        # 2. Cached by process 1, invalidated by a write through process 2.
        first = api_1.data(COMPANY, admin_token, {"id": company_id})["company"]
        assert api_1.data(COMPANY, admin_token, {"id": company_id})["company"] == first  # now cached
        api_2.data(RENAME, admin_token, {"id": company_id, "name": "Renamed GmbH"})

        async def renamed():
            return api_1.data(COMPANY, admin_token, {"id": company_id})["company"]["name"] == "Renamed GmbH"

        assert await _wait_for(renamed, 5), "process 1 still answers from its cache"

        # 3. The worker holding a job is killed; the other one finishes it, exactly once.
        async with db.transaction():
            await db.execute("SELECT 1 FROM companies WHERE id = $1 FOR UPDATE", uuid.UUID(company_id))
            again = api_2.data(CALCULATE, admin_token, {"c": company_id})["calculateGrantMatches"]

            async def blocked_worker():  # the worker whose run waits for the row lock held here
                await db.execute("SELECT pg_stat_clear_snapshot()")  # else the transaction sees its first snapshot
                return await db.fetchval(
                    "SELECT application_name FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND application_name LIKE 'worker-%'"
                )

            holder = await _wait_for(blocked_worker, 20)
            assert holder in workers, holder
            workers[holder].kill()
        survivor = next(name for name in workers if name != holder)

        async def finished():
            state = api_1.data(STATUS, admin_token, {"id": again["id"]})["computation"]
            return state if state["status"] in ("SUCCEEDED", "FAILED") else None

        state = await _wait_for(finished, 30)
        assert state == {"status": "SUCCEEDED", "attempts": 2, "resultCount": 6}, state
        assert workers[survivor].proc.poll() is None
        assert await db.fetchval("SELECT count(*) FROM grant_matches") == 6
        assert await db.fetchval("SELECT count(DISTINCT (company_id, grant_id)) FROM grant_matches") == 6

        async def queue_empty():
            return await db.fetchval("SELECT count(*) FROM pgqueuer") == 0

        assert await _wait_for(queue_empty, 10), "the job is done and gone from the queue"
        assert await db.fetchval("SELECT count(*) FROM pgqueuer_log WHERE status::text = 'successful'") == 2
    finally:
        await db.close()
