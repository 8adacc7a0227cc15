"""The computation worker: consumes the PgQueuer queue, runs computations and delivers webhook events.

Runs inside `matchgraph serve` by default, or alone as `matchgraph worker` on any number of machines pointed at
the same database. PgQueuer heartbeats each picked job; a job whose worker died (e.g. SIGKILL) is picked again
once its heartbeat is older than ``heartbeat_timeout``. The worker reconnects when the database goes away.
"""

from __future__ import annotations

import logging
import uuid
from datetime import timedelta

from pgqueuer import Queries, QueueManager, RetryRequested
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Job

from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.db.queue import COMPUTATION_ENTRYPOINT
from graphql_app.jobs.reconnecting import ReconnectingManager
from graphql_app.jobs.webhook_delivery import WebhookDeliverer
from graphql_app.services.computations import is_transient, run_computation
from graphql_app.services.webhooks import WEBHOOK_DELIVERY_ENTRYPOINT, WebhookPolicy

logger = logging.getLogger(__name__)

#: Times a job is put back after database failures before it is given up.
MAX_JOB_ATTEMPTS = 5


class ComputationWorker(ReconnectingManager):
    """Consumes computation and webhook delivery jobs until :meth:`stop`."""

    connection_name = "matchgraph-worker"

    def __init__(
        self,
        db: Database,
        clock: Clock,
        *,
        concurrency: int = 4,
        heartbeat_timeout: float = 30.0,
        dequeue_timeout: float = 5.0,
        trace_jobs: bool = False,
        webhooks: WebhookPolicy | None = None,
    ) -> None:
        """``trace_jobs``: a span per job (graphql_app.tracing), for processes with tracing on. ``webhooks``: how
        deliveries are made (the processes pass ``WebhookPolicy.from_settings``; default: the documented defaults)."""
        super().__init__(db)
        self.clock = clock
        self.concurrency = concurrency
        self.heartbeat_timeout = timedelta(seconds=heartbeat_timeout)
        self.dequeue_timeout = timedelta(seconds=dequeue_timeout)
        self.completed = 0
        self.trace_jobs = trace_jobs
        self.webhooks = WebhookDeliverer(db, webhooks or WebhookPolicy())

    async def handle(self, job: Job) -> None:
        if not self.trace_jobs:
            return await self._handle(job)
        from graphql_app import tracing

        with tracing.job_span((job.payload or b"").decode(), job.attempts):
            return await self._handle(job)

    async def _handle(self, job: Job) -> None:
        computation_id = uuid.UUID((job.payload or b"").decode())
        try:
            status = await run_computation(self.db, computation_id, self.clock)
        except Exception as exc:
            # Only reachable when the database failed before the computation could record its own outcome:
            # put the job back rather than lose it (the run is idempotent).
            if is_transient(exc) and job.attempts < MAX_JOB_ATTEMPTS:
                raise RetryRequested(delay=timedelta(seconds=2**job.attempts), reason=repr(exc)) from exc
            raise
        self.completed += 1
        logger.info("computation %s finished: %s", computation_id, status)

    async def handle_webhook_delivery(self, job: Job) -> None:
        delivery_id = uuid.UUID((job.payload or b"").decode())
        try:
            await self.webhooks.deliver(delivery_id)
        except Exception as exc:
            # A database failure before the attempt was recorded: put the job back (the endpoint may then get
            # the same delivery twice; receivers deduplicate by X-Matchgraph-Delivery).
            if is_transient(exc) and job.attempts < MAX_JOB_ATTEMPTS:
                raise RetryRequested(delay=timedelta(seconds=2**job.attempts), reason=repr(exc)) from exc
            raise

    def build(self, conn) -> QueueManager:
        manager = QueueManager(Queries(AsyncpgDriver(conn)))
        manager.entrypoint(COMPUTATION_ENTRYPOINT, concurrency_limit=0)(self.handle)
        manager.entrypoint(WEBHOOK_DELIVERY_ENTRYPOINT, concurrency_limit=0)(self.handle_webhook_delivery)
        return manager

    async def run_manager(self, manager: QueueManager) -> None:
        await manager.run(
            dequeue_timeout=self.dequeue_timeout,
            batch_size=max(1, self.concurrency // 2),
            max_concurrent_tasks=max(2, self.concurrency),
            heartbeat_timeout=self.heartbeat_timeout,
            shutdown_on_listener_failure=True,
        )
