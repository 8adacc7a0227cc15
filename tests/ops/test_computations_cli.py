"""`matchgraph computations list | retry | cancel`, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from sqlalchemy import text

from graphql_app.auth import TokenVerifier
from graphql_app.services import catalogue
from graphql_app.services import computation_records as records
from graphql_app.services import computations as service
from tests.conftest import database_url, token_for
from tests.processes import process_env, run_matchgraph

# No worker runs here: the tests run computations themselves, so every state change is theirs.


@pytest.fixture
def cli(pg_socket_dir: str, database_name: str):
    env = process_env(MATCHGRAPH_DATABASE_URL=database_url(pg_socket_dir, database_name))

    async def run(*args: str):
        result = await asyncio.to_thread(run_matchgraph, "computations", *args, env=env)
        assert "Traceback" not in result.stderr, result.stderr
        return result

    return run


async def _queued(services):
    await catalogue.create_grants(services.db, services.embedder, [{"title": "Call", "carbon_categories": []}])
    company = (
        await catalogue.create_companies(
            services.db, services.embedder, "tenant-a", [{"name": "Solar GmbH", "country": "DE", "size": "SMALL"}]
        )
    )[0]
    principal = TokenVerifier(services.settings).verify(token_for("tenant-a"))
    return await records.start_computation(services.db, principal, "tenant-a", records.GRANT_MATCHES, company.id, {})


async def _waiting_jobs(services, computation_id) -> int:
    async with services.db.reader() as conn:
        return await conn.scalar(
            text("SELECT count(*) FROM pgqueuer WHERE payload = :p AND status = 'queued'"),
            {"p": str(computation_id).encode()},
        )


async def _listed(cli, *args: str) -> list[dict]:
    result = await cli("list", "--json", *args)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


async def test_list_filters_and_prints(services, cli) -> None:
    record = await _queued(services)
    [listed] = await _listed(cli)
    assert listed["id"] == str(record.id) and listed["status"] == "QUEUED" and listed["kind"] == "GRANT_MATCHES"
    assert await _listed(cli, "--state", "failed") == []
    assert [r["id"] for r in await _listed(cli, "--state", "FAILED", "--state", "QUEUED")] == [str(record.id)]
    assert await _listed(cli, "--kind", "JOB_MATCHES") == []
    table = await cli("list", "--limit", "5")
    assert table.returncode == 0 and str(record.id) in table.stdout and "QUEUED" in table.stdout


async def test_cancel_a_queued_one_then_retry_it(services, cli) -> None:
    record = await _queued(services)
    assert await _waiting_jobs(services, record.id) == 1
    result = await cli("cancel", str(record.id))
    assert result.returncode == 0, result.stderr
    assert f"Computation {record.id} (GRANT_MATCHES) is CANCELLED." in result.stdout
    row = await records.load_computation(services.db, record.id)
    assert row.status == "CANCELLED" and row.finished_at is not None
    assert await _waiting_jobs(services, record.id) == 0  # its job is gone: no worker will pick it

    again = await cli("cancel", str(record.id))
    assert again.returncode == 4
    assert "is CANCELLED; only QUEUED or RUNNING ones can be cancelled" in again.stderr

    retried = await cli("retry", str(record.id))
    assert retried.returncode == 0, retried.stderr
    row = await records.load_computation(services.db, record.id)
    assert row.status == "QUEUED" and row.error is None and row.finished_at is None
    assert await _waiting_jobs(services, record.id) == 1
    assert await service.run_computation(services.db, record.id, services.clock) == "SUCCEEDED"

    done = await cli("retry", str(record.id))
    assert done.returncode == 4 and "only FAILED or CANCELLED ones can be retried" in done.stderr


async def test_retry_a_failed_one(services, cli, monkeypatch) -> None:
    record = await _queued(services)

    async def broken(run):
        raise service.ComputationFailed("The catalogue was unreadable.")

    monkeypatch.setitem(service.RUNNERS, records.GRANT_MATCHES, broken)
    assert await service.run_computation(services.db, record.id, services.clock) == "FAILED"
    assert [r["id"] for r in await _listed(cli, "--state", "FAILED")] == [str(record.id)]
    result = await cli("retry", str(record.id))
    assert result.returncode == 0 and "is QUEUED again" in result.stdout
    monkeypatch.undo()
    assert await service.run_computation(services.db, record.id, services.clock) == "SUCCEEDED"
    row = await records.load_computation(services.db, record.id)
    assert row.status == "SUCCEEDED" and row.attempts == 2 and row.result_count == 1


async def test_a_running_one_cancelled_is_not_overwritten_by_its_run(services, cli, monkeypatch) -> None:
    """The run is under way when the operator cancels: its results roll back and the state stays CANCELLED."""
    record = await _queued(services)
    real = service.RUNNERS[records.GRANT_MATCHES]
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(run):
        started.set()
        await cancelled.wait()
        await real(run)

    monkeypatch.setitem(service.RUNNERS, records.GRANT_MATCHES, slow)
    run = asyncio.create_task(service.run_computation(services.db, record.id, services.clock))
    await asyncio.wait_for(started.wait(), 10)
    assert (await records.load_computation(services.db, record.id)).status == "RUNNING"
    result = await cli("cancel", str(record.id))
    assert result.returncode == 0, result.stderr
    cancelled.set()
    assert await asyncio.wait_for(run, 20) == "SUPERSEDED"
    row = await records.load_computation(services.db, record.id)
    assert row.status == "CANCELLED" and row.error == "Cancelled by an operator."
    async with services.db.reader() as conn:
        assert await conn.scalar(text("SELECT count(*) FROM grant_matches")) == 0  # the run's writes rolled back


async def test_bad_ids_and_arguments(cli) -> None:
    missing = str(uuid.uuid4())
    for action in ("retry", "cancel"):
        result = await cli(action, missing)
        assert result.returncode == 3 and f"no computation with id {missing}" in result.stderr
    malformed = await cli("cancel", "42")
    assert malformed.returncode == 2 and "'42' is not a computation id" in malformed.stderr
    bad_state = await cli("list", "--state", "DONE")
    assert bad_state.returncode == 2 and "'DONE' is not one of QUEUED" in bad_state.stderr
    bad_limit = await cli("list", "--limit", "0")
    assert bad_limit.returncode == 2 and "must be at least 1" in bad_limit.stderr
