"""Computation records: start one (record + queued job + event, one transaction), read, update.

A computation moves QUEUED → RUNNING → SUCCEEDED | FAILED; an operator may cancel a QUEUED or RUNNING one
(CANCELLED) and retry a FAILED or CANCELLED one (QUEUED again): :mod:`graphql_app.services.computation_admin`.
Every change is committed together with a NOTIFY (`graphql_app.db.notifications`), so subscribers hear of it exactly
when it becomes visible. Running them is :mod:`graphql_app.services.computations`.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import computations
from graphql_app.db.notifications import TERMINAL_STATUSES, notify_computation_changed
from graphql_app.db.queue import enqueue_computation
from graphql_app.errors import not_found
from graphql_app.services.webhooks import computation_completed_event, queue_webhook_events

GRANT_MATCHES = "GRANT_MATCHES"
GRANT_FANOUT = "GRANT_FANOUT"
JOB_MATCHES = "JOB_MATCHES"
MATCH_EXPLANATION = "MATCH_EXPLANATION"


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


async def get_computation(db: Database, principal: Principal, computation_id: uuid.UUID) -> Row:
    query = select(computations).where(
        computations.c.id == computation_id, access.visible_computations(computations, principal)
    )
    async with db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Computation", computation_id)
    return row


async def load_computation(db: Database, computation_id: uuid.UUID) -> Row | None:
    """A computation, unscoped: for event fan-out, where the caller checks visibility itself."""
    async with db.reader() as conn:
        return (await conn.execute(select(computations).where(computations.c.id == computation_id))).first()


class RunSuperseded(Exception):
    """The run's computation was cancelled or retried meanwhile: this run must not write its state."""


async def set_computation_state(
    conn: AsyncConnection, computation_id: uuid.UUID, *, run_attempt: int | None = None, **values: object
) -> Row:
    """Update a computation and notify subscribers, in the caller's transaction.

    With ``run_attempt`` (a worker's run), only while the computation is still RUNNING that attempt: otherwise
    (cancelled, or retried and run again) raise :class:`RunSuperseded`, so the caller's transaction rolls back.
    A change to SUCCEEDED, FAILED or CANCELLED also queues the tenant's COMPUTATION_COMPLETED webhooks.
    """
    query = update(computations).where(computations.c.id == computation_id)
    if run_attempt is not None:
        query = query.where(computations.c.status == "RUNNING", computations.c.attempts == run_attempt)
    row = (await conn.execute(query.values(**values, updated_at=func.now()).returning(*computations.c))).first()
    if row is None:
        if run_attempt is not None:
            raise RunSuperseded(computation_id)
        raise LookupError(f"computation {computation_id} does not exist")
    await notify_computation_changed(conn, row)
    if "status" in values and row.status in TERMINAL_STATUSES:
        await queue_webhook_events(conn, [computation_completed_event(row)])
    return row
