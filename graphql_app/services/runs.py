"""What a computation runner gets: its record, the database, the clock, and ways to report progress and finish."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.services.computation_records import set_computation_state


class ComputationFailed(Exception):
    """A computation cannot succeed; its message is shown to the client as `error`."""


@dataclass
class RunContext:
    db: Database
    record: Row
    clock: Clock

    async def progress(self, processed: int, total: int) -> None:
        """Commit (and announce) progress in its own short transaction (RunSuperseded: stop, it was cancelled)."""
        async with self.db.transaction() as conn:
            await set_computation_state(
                conn,
                self.record.id,
                run_attempt=self.record.attempts,
                processed_count=processed,
                total_count=total,
                progress=(processed / total) if total else 0.0,
            )

    async def succeed(
        self, conn: AsyncConnection, *, result_count: int, total_count: int, processed_count: int
    ) -> None:
        """Mark SUCCEEDED in the caller's transaction, so results and state commit together.

        Raises RunSuperseded (rolling the results back) if the computation was cancelled or retried meanwhile."""
        await set_computation_state(
            conn,
            self.record.id,
            run_attempt=self.record.attempts,
            status="SUCCEEDED",
            progress=1.0,
            result_count=result_count,
            total_count=total_count,
            processed_count=processed_count,
            finished_at=func.now(),
        )
