"""Operators' actions on computations: list them, retry a FAILED or CANCELLED one, cancel a QUEUED or RUNNING one.

Used by `matchgraph computations …`. Each action is one transaction with the computation's row locked, committed
with its NOTIFY, so subscribers see it like any other change.
"""

from __future__ import annotations

import uuid

from pgqueuer.adapters.persistence.qb import DBSettings
from sqlalchemy import func, select, text
from sqlalchemy.engine import Row

from graphql_app.db.engine import Database
from graphql_app.db.models import computations
from graphql_app.db.queue import COMPUTATION_ENTRYPOINT, enqueue_computation
from graphql_app.services.computation_records import set_computation_state

STATUSES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
RETRYABLE = ("FAILED", "CANCELLED")
CANCELLABLE = ("QUEUED", "RUNNING")

_DELETE_WAITING_JOB = text(
    f"DELETE FROM {DBSettings().queue_table} WHERE entrypoint = :entrypoint AND payload = :payload "
    "AND status = 'queued'"
)


class ComputationNotFound(LookupError):
    """No computation has this id."""


class WrongState(ValueError):
    """The computation is not in a state the action applies to."""

    def __init__(self, computation: Row, action: str, allowed: tuple[str, ...]) -> None:
        super().__init__(
            f"computation {computation.id} is {computation.status}; only {' or '.join(allowed)} ones can be {action}"
        )
        self.computation = computation


async def list_computations(
    db: Database, *, statuses: tuple[str, ...] = (), kinds: tuple[str, ...] = (), limit: int = 50
) -> list[Row]:
    """The newest computations first, optionally only those in ``statuses`` and of ``kinds``."""
    query = select(computations).order_by(computations.c.created_at.desc(), computations.c.id).limit(limit)
    if statuses:
        query = query.where(computations.c.status.in_(statuses))
    if kinds:
        query = query.where(computations.c.kind.in_(kinds))
    async with db.reader() as conn:
        return list(await conn.execute(query))


async def _locked(conn, computation_id: uuid.UUID) -> Row:
    row = (
        await conn.execute(select(computations).where(computations.c.id == computation_id).with_for_update())
    ).first()
    if row is None:
        raise ComputationNotFound(f"no computation with id {computation_id}")
    return row


async def retry_computation(db: Database, computation_id: uuid.UUID) -> Row:
    """Put a FAILED or CANCELLED computation back in the queue (QUEUED, progress and error cleared, a new job)."""
    async with db.transaction() as conn:
        row = await _locked(conn, computation_id)
        if row.status not in RETRYABLE:
            raise WrongState(row, "retried", RETRYABLE)
        row = await set_computation_state(
            conn,
            computation_id,
            status="QUEUED",
            progress=0.0,
            processed_count=0,
            result_count=None,
            error=None,
            started_at=None,
            finished_at=None,
        )
        # A cancelled run may still hold its job (picked) for a moment: the retry's job gets a key of its own.
        await enqueue_computation(conn, computation_id, dedupe_key=f"{computation_id}/retry/{uuid.uuid4().hex[:12]}")
        return row


async def cancel_computation(db: Database, computation_id: uuid.UUID) -> Row:
    """Mark a QUEUED or RUNNING computation CANCELLED and drop its waiting job. A run under way stops at its next
    progress report or at its end, and writes nothing more (graphql_app.services.runs)."""
    async with db.transaction() as conn:
        row = await _locked(conn, computation_id)
        if row.status not in CANCELLABLE:
            raise WrongState(row, "cancelled", CANCELLABLE)
        row = await set_computation_state(
            conn, computation_id, status="CANCELLED", error="Cancelled by an operator.", finished_at=func.now()
        )
        await conn.execute(
            _DELETE_WAITING_JOB, {"entrypoint": COMPUTATION_ENTRYPOINT, "payload": str(computation_id).encode()}
        )
        return row
