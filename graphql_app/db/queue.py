"""Enqueueing computations on the PgQueuer queue, in the caller's transaction."""

from __future__ import annotations

import uuid

from pgqueuer import Queries
from pgqueuer.db import AsyncpgDriver
from sqlalchemy.ext.asyncio import AsyncConnection

#: The one PgQueuer entrypoint: its payload is a computation id; the computation's kind says what to run.
COMPUTATION_ENTRYPOINT = "matchgraph.computation"


async def enqueue_computation(
    conn: AsyncConnection, computation_id: uuid.UUID, *, dedupe_key: str | None = None
) -> None:
    """Add a job for ``computation_id`` on the same connection and transaction as the caller.

    The computation record and its job commit (or roll back) together: there is never a QUEUED computation
    without a job, nor a job for a computation that does not exist. ``dedupe_key`` (default: the id) keeps a
    computation from being queued twice.
    """
    raw = await conn.get_raw_connection()
    queries = Queries(AsyncpgDriver(raw.driver_connection))
    key = dedupe_key or str(computation_id)
    await queries.enqueue(COMPUTATION_ENTRYPOINT, str(computation_id).encode(), dedupe_key=key)
