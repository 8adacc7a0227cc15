"""Running computations: transient database errors are retried, lasting failures end FAILED with a reason,
and a finished computation is never run twice."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from graphql_app.auth import TokenVerifier
from graphql_app.services import catalogue
from graphql_app.services import computation_records as records
from graphql_app.services import computations as service
from tests.conftest import token_for

# No worker runs in these tests (no `http` fixture): each test runs the computation itself.


async def _company_with_a_grant(services):
    await catalogue.create_grants(services.db, services.embedder, [{"title": "Call", "carbon_categories": []}])
    rows = await catalogue.create_companies(
        services.db, services.embedder, "tenant-a", [{"name": "Solar GmbH", "country": "DE", "size": "SMALL"}]
    )
    return rows[0].id


async def _queued(services, company_id):
    principal = TokenVerifier(services.settings).verify(token_for("tenant-a"))
    return await records.start_computation(services.db, principal, "tenant-a", records.GRANT_MATCHES, company_id, {})


@pytest.fixture
def flaky_runner(monkeypatch):
    """Wrap the real grant-match runner so its first calls fail the way a dropped connection does."""
    real = service.RUNNERS[records.GRANT_MATCHES]
    calls = {"n": 0, "fail_first": 0}

    async def runner(run):
        calls["n"] += 1
        if calls["n"] <= calls["fail_first"]:
            raise OperationalError("SELECT 1", {}, ConnectionResetError("connection reset by peer"))
        return await real(run)

    monkeypatch.setitem(service.RUNNERS, records.GRANT_MATCHES, runner)
    return calls


async def test_transient_errors_are_retried(services, flaky_runner):
    record = await _queued(services, await _company_with_a_grant(services))
    flaky_runner["fail_first"] = 2
    assert await service.run_computation(services.db, record.id, services.clock) == "SUCCEEDED"
    assert flaky_runner["n"] == 3
    row = await records.load_computation(services.db, record.id)
    assert row.status == "SUCCEEDED" and row.result_count == 1 and row.error is None
    # Run again (a re-picked job): nothing happens, it stays finished once.
    assert await service.run_computation(services.db, record.id, services.clock) == "SUCCEEDED"
    assert flaky_runner["n"] == 3


async def test_lasting_failures_end_failed_with_the_reason(services, flaky_runner):
    record = await _queued(services, await _company_with_a_grant(services))
    flaky_runner["fail_first"] = 99
    assert await service.run_computation(services.db, record.id, services.clock) == "FAILED"
    row = await records.load_computation(services.db, record.id)
    assert row.status == "FAILED" and "connection reset" in row.error and row.finished_at is not None
    assert flaky_runner["n"] == service.TRANSIENT_RETRIES


async def test_a_deleted_company_fails_with_a_clear_reason(services):
    company_id = await _company_with_a_grant(services)
    record = await _queued(services, company_id)
    async with services.db.transaction() as conn:
        from sqlalchemy import text

        await conn.execute(text("DELETE FROM companies"))
    assert await service.run_computation(services.db, record.id, services.clock) == "FAILED"
    row = await records.load_computation(services.db, record.id)
    assert row.error == f"Company {company_id} no longer exists."
