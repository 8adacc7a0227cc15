"""Running computations: the runner of each kind, transient-error retries, the terminal state.

A run writes its state only while its computation is RUNNING that attempt: once an operator cancels it (or
retries it and another run starts), the run's further writes roll back (RunSuperseded) and it stops.

Running is idempotent: a job picked again after a worker died (its heartbeat timed out) finds a finished
computation and does nothing, or recomputes an unfinished one whose results are upserts — so it completes
exactly once and never duplicates rows.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Awaitable, Callable

import asyncpg
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from graphql_app import metrics
from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.db.models import computations
from graphql_app.db.notifications import TERMINAL_STATUSES
from graphql_app.services import job_match_scoring
from graphql_app.services.computation_records import (
    GRANT_FANOUT,
    GRANT_MATCHES,
    JOB_MATCHES,
    MATCH_EXPLANATION,
    RunSuperseded,
    set_computation_state,
)
from graphql_app.services.grant_fanout import run_grant_fanout
from graphql_app.services.grant_matching import STORED_MATCHES_PER_COMPANY, lock_company, recompute_and_store_matches
from graphql_app.services.runs import ComputationFailed, RunContext

logger = logging.getLogger(__name__)

#: How often a transient database error is retried within one run before the computation fails.
TRANSIENT_RETRIES = 3


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
    GRANT_FANOUT: run_grant_fanout,
    JOB_MATCHES: job_match_scoring.run_job_matches,
    MATCH_EXPLANATION: job_match_scoring.run_explanation,
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
    started = time.perf_counter()
    for attempt in range(1, TRANSIENT_RETRIES + 1):
        if runner is None:
            break
        try:
            await runner(RunContext(db, record, clock))
            metrics.record_computation(record.kind, "SUCCEEDED", time.perf_counter() - started)
            return "SUCCEEDED"
        except RunSuperseded:
            logger.info(
                "computation %s was cancelled or retried while it ran; this run's results are dropped", record.id
            )
            return "SUPERSEDED"
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
    try:
        async with db.transaction() as conn:
            await set_computation_state(
                conn,
                computation_id,
                run_attempt=record.attempts,
                status="FAILED",
                error=failure,
                finished_at=func.now(),
            )
    except RunSuperseded:
        return "SUPERSEDED"
    metrics.record_computation(record.kind if runner else "UNKNOWN", "FAILED", time.perf_counter() - started)
    return "FAILED"
