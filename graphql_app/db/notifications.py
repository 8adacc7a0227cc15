"""What travels on the PostgreSQL NOTIFY channels: the channels, the payloads and how they are parsed.

Writers call the ``notify_*`` functions inside the transaction that makes the change, so the notice is
delivered exactly when the change commits (and never for a rolled-back change). Payloads hold ids (and a status)
only — NOTIFY payloads must stay under 8,000 bytes; listeners read the state itself. Each process listens through
one hub (graphql_app.jobs.events.ComputationEventHub).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol, TypeVar

from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

logger = logging.getLogger(__name__)

T = TypeVar("T")

CHANNEL = "matchgraph_computations"
#: Sent (empty payload) after a mutation commits, so other processes drop cached responses.
CHANGES_CHANNEL = "matchgraph_changes"
#: Grant alerts raised or read, by company (graphql_app.services.grant_alerts).
ALERTS_CHANNEL = "matchgraph_grant_alerts"
TERMINAL_STATUSES = frozenset({"SUCCEEDED", "FAILED", "CANCELLED"})
#: Company ids per NOTIFY of the alerts channel (36 characters each: well under the 8,000-byte payload limit).
ALERT_NOTICE_COMPANIES = 150


@dataclass(frozen=True)
class ComputationEvent:
    """A computation changed (or, with ``resync``, events may have been missed)."""

    computation_id: uuid.UUID | None
    tenant_id: str | None
    status: str | None
    resync: bool = False
    sequence: int = 0  # set by the hub: identifies one delivery, so subscribers can share one read of it
    received_at: float = 0.0  # time.perf_counter() when the NOTIFY reached this process (fan-out latency)

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL_STATUSES


RESYNC = ComputationEvent(None, None, None, resync=True)


@dataclass(frozen=True)
class GrantAlertNotice:
    """Alerts of these companies were raised or read (or, with ``resync``, notices may have been missed)."""

    company_ids: frozenset[uuid.UUID]
    resync: bool = False


ALERTS_RESYNC = GrantAlertNotice(frozenset(), resync=True)


async def notify_grant_alerts(conn: AsyncConnection, company_ids: set[uuid.UUID] | list[uuid.UUID]) -> None:
    """Queue NOTIFYs naming ``company_ids`` in the caller's transaction (delivered on commit)."""
    ordered = sorted({str(c) for c in company_ids})
    for start in range(0, len(ordered), ALERT_NOTICE_COMPANIES):
        payload = json.dumps({"companyIds": ordered[start : start + ALERT_NOTICE_COMPANIES]})
        await conn.execute(
            text("SELECT pg_notify(:channel, :payload)"), {"channel": ALERTS_CHANNEL, "payload": payload}
        )


def parse_alert_notice(payload: str) -> GrantAlertNotice | None:
    try:
        return GrantAlertNotice(frozenset(uuid.UUID(c) for c in json.loads(payload)["companyIds"]))
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring malformed grant alert notice %r", payload)
        return None


async def notify_computation_changed(conn: AsyncConnection, row: Row) -> None:
    """Queue a NOTIFY in the caller's transaction; PostgreSQL delivers it on commit."""
    payload = json.dumps({"id": str(row.id), "tenantId": row.tenant_id, "status": row.status})
    await conn.execute(text("SELECT pg_notify(:channel, :payload)"), {"channel": CHANNEL, "payload": payload})


def parse_event(payload: str) -> ComputationEvent | None:
    try:
        data = json.loads(payload)
        return ComputationEvent(uuid.UUID(data["id"]), str(data["tenantId"]), str(data["status"]))
    except (ValueError, KeyError, TypeError):
        logger.warning("ignoring malformed computation event %r", payload)
        return None


class Notifications(Protocol):
    """What services need of a process's listener (graphql_app.jobs.events.ComputationEventHub implements it)."""

    def subscribe(self) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[ComputationEvent]]:
        """Every computation event from now on, until the block exits."""
        ...

    def subscribe_alerts(self) -> contextlib.AbstractAsyncContextManager[asyncio.Queue[GrantAlertNotice]]:
        """Every grant alert notice from now on, until the block exits."""
        ...

    async def state_for(self, event: ComputationEvent, load: Callable[[], Awaitable[T]]) -> T:
        """The state an event refers to, read once per event however many subscribers ask."""
        ...
