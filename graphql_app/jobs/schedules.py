"""Scheduled jobs (PgQueuer's cron scheduler): the deadline reminders and the webhook delivery log's retention.

Runs beside each computation worker (``matchgraph serve`` with its worker, ``matchgraph worker``). PgQueuer
records each schedule's next run in the database and hands a due run to one process only, so any number of
workers raise each round of reminders once; the reminders themselves are once per match (docs/alerts.md).
Finished webhook deliveries older than the retention are deleted on the same schedule (docs/webhooks.md).
"""

from __future__ import annotations

import logging

from croniter import croniter
from pgqueuer import Queries
from pgqueuer.db import AsyncpgDriver
from pgqueuer.models import Schedule
from pgqueuer.sm import SchedulerManager

from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.jobs.reconnecting import ReconnectingManager
from graphql_app.services.grant_alerts import raise_deadline_reminders
from graphql_app.services.webhooks import delete_finished_deliveries
from graphql_app.settings import Settings

logger = logging.getLogger(__name__)

DEADLINE_REMINDERS = "matchgraph.deadline_reminders"
WEBHOOK_DELIVERY_RETENTION = "matchgraph.webhook_delivery_retention"


class Scheduler(ReconnectingManager):
    """Raises deadline reminders and prunes the webhook delivery log on a cron ``expression`` until
    :meth:`stop`; reconnects when the database goes away."""

    connection_name = "matchgraph-scheduler"

    def __init__(
        self, db: Database, clock: Clock, *, days: int, expression: str, delivery_retention_days: int = 30
    ) -> None:
        """Raises ValueError for an ``expression`` that is not a cron expression or a negative number of days
        (a setting's mistake: the process does not start, rather than never reminding)."""
        if not croniter.is_valid(expression):
            raise ValueError(f"MATCHGRAPH_DEADLINE_REMINDER_SCHEDULE {expression!r} is not a cron expression.")
        if days < 0:
            raise ValueError(f"MATCHGRAPH_DEADLINE_REMINDER_DAYS must not be negative; got {days}.")
        if delivery_retention_days < 0:
            raise ValueError(
                f"MATCHGRAPH_WEBHOOK_DELIVERY_RETENTION_DAYS must not be negative; got {delivery_retention_days}."
            )
        super().__init__(db)
        self.clock = clock
        self.days = days
        self.expression = expression
        self.delivery_retention_days = delivery_retention_days
        self.rounds = 0

    async def remind(self, schedule: Schedule | None = None) -> int:
        """One round: raise the reminders due now; returns how many were raised."""
        raised = await raise_deadline_reminders(self.db, self.clock.now(), self.days)
        self.rounds += 1
        if raised:
            logger.info("raised %d deadline reminders", raised)
        return raised

    async def prune_deliveries(self, schedule: Schedule | None = None) -> int:
        """Delete the finished webhook deliveries past the retention (none when it is 0); returns how many."""
        if not self.delivery_retention_days:
            return 0
        pruned = await delete_finished_deliveries(self.db, self.clock.now(), self.delivery_retention_days)
        if pruned:
            logger.info("deleted %d webhook deliveries older than %d days", pruned, self.delivery_retention_days)
        return pruned

    def build(self, conn) -> SchedulerManager:
        manager = SchedulerManager(Queries(AsyncpgDriver(conn)))
        manager.schedule(DEADLINE_REMINDERS, self.expression)(self.remind)
        manager.schedule(WEBHOOK_DELIVERY_RETENTION, self.expression)(self.prune_deliveries)
        return manager

    async def run_manager(self, manager: SchedulerManager) -> None:
        await manager.run()


def scheduler(db: Database, clock: Clock, settings: Settings) -> Scheduler:
    return Scheduler(
        db,
        clock,
        days=settings.deadline_reminder_days,
        expression=settings.deadline_reminder_schedule,
        delivery_retention_days=settings.webhook_delivery_retention_days,
    )
