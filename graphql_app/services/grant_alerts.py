"""Grant alerts: raising them (fan-out, deadline reminders), listing and reading them, following them live.

One record per (company, grant, reason). Raising an alert that exists does nothing for NEW_GRANT and
DEADLINE_APPROACHING (once per match) and re-raises GRANT_CHANGED: a new ``sequence`` (top of the list) and
unread again. Every write NOTIFYs the companies concerned in its own transaction, so subscribers in every API
process re-read on commit, and queues webhook deliveries in the same transaction (docs/alerts.md).
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import and_, func, literal, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import companies, grant_alerts, grant_matches, grants
from graphql_app.db.notifications import Notifications, notify_grant_alerts
from graphql_app.errors import BadUserInput, not_found
from graphql_app.matching.alerts import DEADLINE_APPROACHING, GRANT_CHANGED, AlertSettings
from graphql_app.services.computation_events import next_event
from graphql_app.services.webhooks import GRANT_ALERT, WebhookEvent, queue_webhook_events


@dataclass(frozen=True)
class NewAlert:
    """An alert to raise."""

    tenant_id: str
    company_id: uuid.UUID
    grant_id: uuid.UUID
    reason: str
    score: float


@dataclass(frozen=True)
class AlertWithGrant:
    """An alert row and the grant it is about (read together, so long-lived subscriptions never show a stale
    grant)."""

    alert: Row
    grant: Row


@dataclass(frozen=True)
class AlertPage:
    items: list[AlertWithGrant]
    cursors: list[str]
    total_count: int
    has_next_page: bool
    has_previous_page: bool


def settings_of(row: Any) -> AlertSettings:
    """A company row's alert settings."""
    return AlertSettings(row.alert_min_score, bool(row.alert_carbon_focused_only), row.alert_min_amount)


# --- raising -----------------------------------------------------------------------------------------------------

#: Alerts inserted in one statement whatever their number (a fan-out may alert thousands of companies at once):
#: the rows travel as one JSON document.
_INSERT_ALERTS = """
    INSERT INTO grant_alerts (tenant_id, company_id, grant_id, reason, score)
    SELECT r.tenant_id, r.company_id, r.grant_id, r.reason, r.score
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(tenant_id text, company_id uuid, grant_id uuid, reason text,
                                                       score float8)
    ON CONFLICT ON CONSTRAINT uq_grant_alerts_company_grant_reason
"""
_RETURNING = " RETURNING " + ", ".join(c.name for c in grant_alerts.c)
#: NEW_GRANT and DEADLINE_APPROACHING: once per company and grant.
_RAISE_ONCE = text(_INSERT_ALERTS + "DO NOTHING" + _RETURNING).columns(*grant_alerts.c)
#: GRANT_CHANGED: raised again, to the top of the list and unread.
_RAISE_AGAIN = text(
    _INSERT_ALERTS
    + """DO UPDATE SET score = EXCLUDED.score, read_at = NULL, updated_at = now(),
         sequence = nextval(pg_get_serial_sequence('grant_alerts', 'sequence'))"""
    + _RETURNING
).columns(*grant_alerts.c)


async def raise_alerts(conn: AsyncConnection, alerts: Sequence[NewAlert]) -> list[Row]:
    """Insert (or re-raise) alerts in the caller's transaction; returns the rows raised now, after telling
    subscribers (NOTIFY) and queueing webhook deliveries, all committed with the caller's transaction."""
    raised: list[Row] = []
    for changed in (False, True):
        rows = [
            {
                "tenant_id": a.tenant_id,
                "company_id": str(a.company_id),
                "grant_id": str(a.grant_id),
                "reason": a.reason,
                "score": a.score,
            }
            for a in alerts
            if (a.reason == GRANT_CHANGED) == changed
        ]
        if rows:
            statement = _RAISE_AGAIN if changed else _RAISE_ONCE
            raised.extend(await conn.execute(statement, {"rows": orjson.dumps(rows).decode()}))
    if raised:
        await notify_grant_alerts(conn, {row.company_id for row in raised})
        await queue_webhook_events(conn, await _webhook_events(conn, raised))
    return raised


async def _webhook_events(conn: AsyncConnection, raised: list[Row]) -> list[WebhookEvent]:
    about = {
        g.id: g
        for g in await conn.execute(
            select(grants.c.id, grants.c.title, grants.c.deadline).where(
                grants.c.id.in_({row.grant_id for row in raised})
            )
        )
    }
    return [
        WebhookEvent(
            row.tenant_id,
            GRANT_ALERT,
            {
                "alert": {
                    "id": str(row.id),
                    "reason": row.reason,
                    "companyId": str(row.company_id),
                    "grantId": str(row.grant_id),
                    "grantTitle": about[row.grant_id].title,
                    "deadline": _iso(about[row.grant_id].deadline),
                    "score": row.score,
                    "raisedAt": row.updated_at.isoformat(),
                }
            },
        )
        for row in raised
    ]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


async def raise_deadline_reminders(db: Database, now: datetime, days: int) -> int:
    """DEADLINE_APPROACHING alerts for saved (not dismissed) matches of open grants closing within ``days`` days,
    once per match, for companies with alerts on. Returns how many were raised."""
    m = grant_matches.c
    due = (
        select(m.tenant_id, m.company_id, m.grant_id, literal(DEADLINE_APPROACHING).label("reason"), m.score)
        .join(grants, grants.c.id == m.grant_id)
        .join(companies, companies.c.id == m.company_id)
        .where(
            m.is_saved,
            ~m.is_dismissed,
            companies.c.alert_min_score.is_not(None),
            access.open_grants(grants, now),
            grants.c.deadline <= now + timedelta(days=days),
        )
    )
    async with db.transaction() as conn:
        candidates = [
            NewAlert(r.tenant_id, r.company_id, r.grant_id, r.reason, r.score) for r in await conn.execute(due)
        ]
        return len(await raise_alerts(conn, candidates)) if candidates else 0


# --- reading and marking -----------------------------------------------------------------------------------------


def encode_alert_cursor(sequence: int) -> str:
    return base64.urlsafe_b64encode(f"ga1|{sequence}".encode()).decode().rstrip("=")


def decode_alert_cursor(value: str | None) -> int | None:
    if not value:
        return None
    try:
        tag, sequence = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode().split("|")
        if tag != "ga1" or int(sequence) < 0:
            raise ValueError(tag)
        return int(sequence)
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None


async def _visible_company(conn: AsyncConnection, viewer: Principal, company_id: uuid.UUID, *, lock: bool = False):
    query = select(companies).where(companies.c.id == company_id, access.tenant_rows(companies, viewer))
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Company", company_id)
    return row


async def _with_grants(conn: AsyncConnection, rows: Sequence[Row]) -> list[AlertWithGrant]:
    if not rows:
        return []
    found = {g.id: g for g in await conn.execute(select(grants).where(grants.c.id.in_({r.grant_id for r in rows})))}
    return [AlertWithGrant(r, found[r.grant_id]) for r in rows]


def _unread(company_id: uuid.UUID):
    return and_(*access.company_alerts(grant_alerts, company_id, unread_only=True))


async def unread_count(conn: AsyncConnection, company_id: uuid.UUID) -> int:
    return (await conn.execute(select(func.count()).where(_unread(company_id)))).scalar_one()


async def list_alerts(
    db: Database, viewer: Principal, company_id: uuid.UUID, *, unread_only: bool, first: int, after: str | None
) -> AlertPage:
    """A company's alerts, newest raised first (NOT_FOUND for a company the viewer may not see)."""
    before = decode_alert_cursor(after)
    condition = and_(*access.company_alerts(grant_alerts, company_id, unread_only=unread_only))
    async with db.reader() as conn:
        await _visible_company(conn, viewer, company_id)
        page = select(grant_alerts).where(condition)
        if before is not None:
            page = page.where(grant_alerts.c.sequence < before)
        rows = list(await conn.execute(page.order_by(*access.alerts_order(grant_alerts)).limit(first + 1)))
        total = (await conn.execute(select(func.count()).where(condition))).scalar_one()
        items = await _with_grants(conn, rows[:first])
    return AlertPage(
        items,
        [encode_alert_cursor(item.alert.sequence) for item in items],
        total,
        has_next_page=len(rows) > first,
        has_previous_page=before is not None,
    )


async def mark_read(
    db: Database, viewer: Principal, company_id: uuid.UUID, alert_ids: Sequence[uuid.UUID] | None
) -> tuple[int, int]:
    """Mark a company's alerts read: those named (every one must be the company's, else NOT_FOUND and nothing
    changes) or all. Returns (newly marked, unread left)."""
    a = grant_alerts.c
    async with db.transaction() as conn:
        await _visible_company(conn, viewer, company_id, lock=True)
        if alert_ids is not None:
            wanted = set(alert_ids)
            found = set(
                (await conn.execute(select(a.id).where(a.company_id == company_id, a.id.in_(wanted)))).scalars()
            )
            if missing := wanted - found:
                raise not_found("GrantAlert", sorted(missing, key=str)[0])
        statement = update(grant_alerts).where(_unread(company_id)).values(read_at=func.now())
        if alert_ids is not None:
            statement = statement.where(a.id.in_(set(alert_ids)))
        marked = (await conn.execute(statement)).rowcount
        if marked:
            await notify_grant_alerts(conn, [company_id])
        return marked, await unread_count(conn, company_id)


async def update_alert_settings(db: Database, viewer: Principal, company_id: uuid.UUID, changes: dict[str, Any]) -> Row:
    """Change a company's alert settings (validated ``alert_*`` columns); returns the company row."""
    async with db.transaction() as conn:
        await _visible_company(conn, viewer, company_id, lock=True)
        return (
            await conn.execute(
                update(companies)
                .where(companies.c.id == company_id)
                .values(**changes, updated_at=func.now())
                .returning(*companies.c)
            )
        ).one()


# --- following -----------------------------------------------------------------------------------------------


#: Alerts a subscriber reads at a time after a notice (it reads again while reads come back full).
ALERTS_PER_READ = 100


@dataclass(frozen=True)
class AlertUpdate:
    """What a subscriber is sent: the unread count, and the alert just raised (None for a count change)."""

    unread_count: int
    alert: AlertWithGrant | None


async def _alerts_after(db: Database, company_id: uuid.UUID, sequence: int) -> tuple[list[AlertWithGrant], int]:
    async with db.reader() as conn:
        rows = list(
            await conn.execute(
                select(grant_alerts)
                .where(grant_alerts.c.company_id == company_id, grant_alerts.c.sequence > sequence)
                .order_by(grant_alerts.c.sequence)
                .limit(ALERTS_PER_READ)
            )
        )
        return await _with_grants(conn, rows), await unread_count(conn, company_id)


async def follow_alerts(
    db: Database, hub: Notifications, viewer: Principal, company_id: uuid.UUID
) -> AsyncIterator[AlertUpdate]:
    """The company's unread count first, then each alert as it is raised (with the new count) and each change
    of the count (alerts read elsewhere), until the viewer's token expires. NOT_FOUND for a company the viewer
    may not see."""
    async with hub.subscribe_alerts() as notices:  # before reading, so nothing committed in between is missed
        async with db.reader() as conn:
            await _visible_company(conn, viewer, company_id)
            count = await unread_count(conn, company_id)
            last = (
                await conn.execute(
                    select(func.coalesce(func.max(grant_alerts.c.sequence), 0)).where(
                        grant_alerts.c.company_id == company_id
                    )
                )
            ).scalar_one()
        yield AlertUpdate(count, None)
        while True:
            notice = await next_event(notices, viewer)
            if notice is None:
                return
            if not notice.resync and company_id not in notice.company_ids:
                continue
            sent = False
            while True:  # more than one read's worth of alerts may have been raised at once
                items, new_count = await _alerts_after(db, company_id, last)
                for item in items:
                    last = item.alert.sequence
                    sent = True
                    yield AlertUpdate(new_count, item)
                if len(items) < ALERTS_PER_READ:
                    break
            if not sent and new_count != count:
                yield AlertUpdate(new_count, None)
            count = new_count
