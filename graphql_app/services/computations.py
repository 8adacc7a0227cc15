"""Computation records: start (record + queued job + event, one transaction), read, and run.

A computation moves QUEUED → RUNNING → SUCCEEDED | FAILED. Every change is committed together with a NOTIFY
(`graphql_app.jobs.events`), so subscribers hear of it exactly when it becomes visible.

Running is idempotent: a job picked again after a worker died (its heartbeat timed out) finds a finished
computation and does nothing, or recomputes an unfinished one whose results are upserts — so it completes
exactly once and never duplicates rows.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app.auth import Principal, Role
from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.db.models import computations
from graphql_app.errors import not_found
from graphql_app.jobs.events import TERMINAL_STATUSES, notify_computation_changed
from graphql_app.jobs.queue import enqueue_computation
from graphql_app.services import talent
from graphql_app.services.grant_matching import STORED_MATCHES_PER_COMPANY, lock_company, recompute_and_store_matches
from graphql_app.services.runs import ComputationFailed, RunContext

logger = logging.getLogger(__name__)

GRANT_MATCHES = "GRANT_MATCHES"
JOB_MATCHES = "JOB_MATCHES"
MATCH_EXPLANATION = "MATCH_EXPLANATION"
#: How often a transient database error is retried within one run before the computation fails.
TRANSIENT_RETRIES = 3


async def insert_computation(
    conn: AsyncConnection, requested_by: str, tenant_id: str, kind: str, subject_id: uuid.UUID, parameters: dict
) -> Row:
    """Create a QUEUED computation and its job in the caller's transaction; announce it on commit."""
    row = (
        await conn.execute(
            insert(computations)
            .values(
                tenant_id=tenant_id, kind=kind, subject_id=subject_id, parameters=parameters, requested_by=requested_by
            )
            .returning(*computations.c)
        )
    ).one()
    await enqueue_computation(conn, row.id)
    await notify_computation_changed(conn, row)
    return row


async def start_computation(
    db: Database, principal: Principal, tenant_id: str, kind: str, subject_id: uuid.UUID, parameters: dict
) -> Row:
    """Create a QUEUED computation and its job in one transaction; returns the record."""
    async with db.transaction() as conn:
        return await insert_computation(conn, principal.subject, tenant_id, kind, subject_id, parameters)


def computation_visibility(principal: Principal):
    """Who sees a computation, as SQL: platform admins all; otherwise only the viewer's own tenant's, and there
    organisation users all of them, anyone else (members) those they started."""
    if principal.is_platform_admin:
        return computations.c.id.is_not(None)
    own_tenant = computations.c.tenant_id == principal.tenant_id
    if principal.has_any_role({Role.ORG_USER, Role.ORG_ADMIN}):
        return own_tenant
    return and_(own_tenant, computations.c.requested_by == principal.subject)


def computation_visible(principal: Principal, row: Row) -> bool:
    """:func:`computation_visibility` for a row already loaded (event fan-out)."""
    if principal.is_platform_admin:
        return True
    if row.tenant_id != principal.tenant_id:
        return False
    return principal.has_any_role({Role.ORG_USER, Role.ORG_ADMIN}) or row.requested_by == principal.subject


async def get_computation(db: Database, principal: Principal, computation_id: uuid.UUID) -> Row:
    query = select(computations).where(computations.c.id == computation_id, computation_visibility(principal))
    async with db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Computation", computation_id)
    return row


async def load_computation(db: Database, computation_id: uuid.UUID) -> Row | None:
    """A computation, unscoped: for event fan-out, where the caller checks visibility itself."""
    async with db.reader() as conn:
        return (await conn.execute(select(computations).where(computations.c.id == computation_id))).first()


async def set_computation_state(conn: AsyncConnection, computation_id: uuid.UUID, **values: object) -> Row:
    """Update a computation and notify subscribers, in the caller's transaction."""
    row = (
        await conn.execute(
            update(computations)
            .where(computations.c.id == computation_id)
            .values(**values, updated_at=func.now())
            .returning(*computations.c)
        )
    ).one()
    await notify_computation_changed(conn, row)
    return row


def is_transient(exc: BaseException) -> bool:
    """Errors worth retrying: lost connections, serialization failures, deadlocks."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        exc = orig.__cause__ if orig is not None and orig.__cause__ is not None else (orig or exc)
    return isinstance(
        exc,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError
        | asyncpg.CannotConnectNowError,
    )


Runner = Callable[[RunContext], Awaitable[None]]


async def _run_grant_matches(run: RunContext) -> None:
    """Score the catalogue for the company and store its best matches, with the SUCCEEDED state, atomically."""
    async with run.db.transaction() as conn:
        company = await lock_company(conn, run.record.subject_id)
        if company is None:
            raise ComputationFailed(f"Company {run.record.subject_id} no longer exists.")
        stored, candidate_count = await recompute_and_store_matches(
            conn, company, run.clock.now(), STORED_MATCHES_PER_COMPANY
        )
        await run.succeed(conn, result_count=len(stored), total_count=candidate_count, processed_count=candidate_count)


RUNNERS: dict[str, Runner] = {
    GRANT_MATCHES: _run_grant_matches,
    JOB_MATCHES: talent.run_job_matches,
    MATCH_EXPLANATION: talent.run_explanation,
}


async def run_computation(db: Database, computation_id: uuid.UUID, clock: Clock) -> str:
    """Run one computation to a terminal state; returns that state. Safe to call again for the same id."""
    async with db.transaction() as conn:
        record = (
            await conn.execute(select(computations).where(computations.c.id == computation_id).with_for_update())
        ).first()
        if record is None:
            logger.warning("job for unknown computation %s dropped", computation_id)
            return "MISSING"
        if record.status in TERMINAL_STATUSES:
            return record.status  # finished before a crash lost the job's acknowledgement
        record = await set_computation_state(
            conn,
            computation_id,
            status="RUNNING",
            started_at=func.coalesce(computations.c.started_at, func.now()),
            attempts=computations.c.attempts + 1,
            error=None,
        )
    runner = RUNNERS.get(record.kind)
    failure: str | None = None if runner else f"Unknown computation kind {record.kind}."
    for attempt in range(1, TRANSIENT_RETRIES + 1):
        if runner is None:
            break
        try:
            await runner(RunContext(db, record, clock))
            return "SUCCEEDED"
        except ComputationFailed as exc:
            failure = str(exc)
            break
        except Exception as exc:
            if is_transient(exc) and attempt < TRANSIENT_RETRIES:
                logger.warning("computation %s: transient error %r, retry %d", computation_id, exc, attempt)
                await asyncio.sleep(0.2 * 2**attempt)
                continue
            logger.exception("computation %s failed", computation_id)
            failure = f"{type(exc).__name__}: {exc}" if is_transient(exc) else "Internal error while computing."
            break
    async with db.transaction() as conn:
        await set_computation_state(conn, computation_id, status="FAILED", error=failure, finished_at=func.now())
    return "FAILED"
