"""Webhooks: an organisation's endpoints for events, their delivery log, and the rules for their URLs.

Events are queued with :func:`queue_webhook_events` in the transaction of the change they report: one delivery
row per (event, subscribed webhook) and one PgQueuer job per delivery commit (or roll back) with it. The job
(:mod:`graphql_app.jobs.webhook_delivery`) sends the stored body; :func:`begin_delivery_attempt` and
:func:`record_delivery_attempt` are its reads and writes. URLs are checked when a webhook is created and again
before every attempt (:func:`resolve_webhook_url`), because what a host name resolves to can change.
See docs/webhooks.md.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import json
import secrets
import socket
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from pgqueuer import Queries
from pgqueuer.db import AsyncpgDriver
from sqlalchemy import Interval, and_, delete, func, insert, literal, or_, select, text, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import webhook_deliveries, webhooks
from graphql_app.errors import BadUserInput, not_found

#: The PgQueuer entrypoint of delivery jobs; the payload is a delivery id.
WEBHOOK_DELIVERY_ENTRYPOINT = "matchgraph.webhook_delivery"

GRANT_ALERT = "GRANT_ALERT"
COMPUTATION_COMPLETED = "COMPUTATION_COMPLETED"
EVENT_TYPES = (GRANT_ALERT, COMPUTATION_COMPLETED)

#: Webhooks one tenant may register.
MAX_WEBHOOKS_PER_TENANT = 10
MAX_URL_LENGTH = 2048
#: Seconds a host name lookup may take.
RESOLVE_TIMEOUT_SECONDS = 5.0

PENDING, DELIVERED, FAILED = "PENDING", "DELIVERED", "FAILED"


@dataclass(frozen=True)
class WebhookPolicy:
    """How deliveries are made: loopback targets allowed or not, attempts, and the back-off base."""

    allow_loopback: bool = False
    max_attempts: int = 6
    retry_base_seconds: float = 30.0

    @classmethod
    def from_settings(cls, settings) -> WebhookPolicy:
        """From :class:`graphql_app.settings.Settings` (its ``webhook_*`` fields)."""
        return cls(
            allow_loopback=settings.webhook_allow_loopback,
            max_attempts=max(1, settings.webhook_max_attempts),
            retry_base_seconds=max(0.0, settings.webhook_retry_base_seconds),
        )

    def retry_delay(self, attempts_made: int) -> timedelta:
        """Wait after the ``attempts_made``-th failed attempt: base·4^(n-1) (30 s, 2 min, 8 min, … by default)."""
        return timedelta(seconds=self.retry_base_seconds * 4 ** (attempts_made - 1))


# --- URL rules -------------------------------------------------------------------------------------------------


class WebhookUrlRefused(BadUserInput):
    """The URL may never be contacted (wrong scheme, credentials, a non-public address)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


class WebhookHostUnresolved(BadUserInput):
    """The URL's host name did not resolve (possibly for now only)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, field="url")


@dataclass(frozen=True)
class WebhookTarget:
    """A URL taken apart: ``host`` is an ASCII host name or an IP address (no brackets)."""

    scheme: str
    host: str
    port: int
    path: str  # path and query, at least "/"

    @property
    def address_literal(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.host)
        except ValueError:
            return None

    @property
    def host_header(self) -> str:
        """The ``Host`` header: the host (bracketed if IPv6), with the port unless it is the scheme's default."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"


@dataclass(frozen=True)
class ResolvedTarget:
    """A URL and the checked address to connect to (so a later lookup cannot redirect the connection)."""

    target: WebhookTarget
    address: ipaddress.IPv4Address | ipaddress.IPv6Address

    @property
    def pinned_url(self) -> str:
        """The URL with the checked address in place of the host name."""
        host = f"[{self.address}]" if self.address.version == 6 else str(self.address)
        return f"{self.target.scheme}://{host}:{self.target.port}{self.target.path}"

    @property
    def sni_hostname(self) -> str | None:
        """The name TLS must present and verify (None for a URL naming an address)."""
        return None if self.target.address_literal is not None else self.target.host


def parse_webhook_url(url: str) -> WebhookTarget:
    """Take a URL apart and apply the rules that need no lookup: http(s), a host, no user info, ≤ 2048 chars."""
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlRefused(f"url is longer than {MAX_URL_LENGTH} characters ({len(url)}).")
    if not url or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise WebhookUrlRefused("url must be an absolute https:// URL without spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise WebhookUrlRefused(f"url is not a valid URL ({exc}).") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http"):
        raise WebhookUrlRefused("url must start with https://.")
    if "@" in parts.netloc:
        raise WebhookUrlRefused("url must not contain credentials (user:password@).")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise WebhookUrlRefused("url must name a host.")
    try:
        address = ipaddress.ip_address(host)
        host = str(address)
    except ValueError:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise WebhookUrlRefused(f"url host {parts.hostname!r} is not a valid host name.") from None
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return WebhookTarget(scheme=scheme, host=host, port=port or (443 if scheme == "https" else 80), path=path)


def _embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (IPv4-mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in ipaddress.ip_network("64:ff9b::/96"):
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def forbidden_address_reason(
    address: ipaddress.IPv4Address | ipaddress.IPv6Address, *, allow_loopback: bool = False
) -> str | None:
    """Why an address may not be contacted (None: a public address, or loopback when allowed)."""
    if address.version == 6:
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return forbidden_address_reason(embedded, allow_loopback=allow_loopback)
    if address.is_loopback:
        return None if allow_loopback else "a loopback address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_private:
        return "a private address"
    if address.is_reserved:
        return "a reserved address"
    if not address.is_global:
        return "a non-public address"
    return None


HTTPS_ONLY = "url must start with https:// (http:// only to a loopback host, where the server allows it)."

Resolver = Callable[[str, int], Awaitable[list[str]]]


async def resolve_host(host: str, port: int) -> list[str]:
    """The addresses a host name resolves to (raises OSError when it does not)."""
    loop = asyncio.get_running_loop()
    infos = await asyncio.wait_for(
        loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), timeout=RESOLVE_TIMEOUT_SECONDS
    )
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve_webhook_url(url: str, *, allow_loopback: bool, resolve: Resolver = resolve_host) -> ResolvedTarget:
    """Check a URL against every rule, looking its host up: https only (http only to loopback, when allowed),
    and every address the host resolves to public. Returns the first address, to connect to exactly it.

    Raises :class:`WebhookUrlRefused` or :class:`WebhookHostUnresolved`."""
    target = parse_webhook_url(url)
    literal_address = target.address_literal
    if target.scheme == "http":
        loopback_host = target.host == "localhost" or (literal_address is not None and literal_address.is_loopback)
        if not (allow_loopback and loopback_host):
            raise WebhookUrlRefused(HTTPS_ONLY)
    if literal_address is not None:
        addresses = [literal_address]
    else:
        try:
            found = await resolve(target.host, target.port)
        except (OSError, TimeoutError, UnicodeError):
            found = []
        if not found:
            raise WebhookHostUnresolved(f"url host {target.host!r} could not be resolved.")
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
    for address in addresses:
        reason = forbidden_address_reason(address, allow_loopback=allow_loopback)
        if reason is not None:
            where = f"is {reason}" if literal_address is not None else f"resolves to {reason} ({address})"
            raise WebhookUrlRefused(f"url host {target.host!r} {where}; it is not allowed.")
        if target.scheme == "http" and not address.is_loopback:
            raise WebhookUrlRefused(HTTPS_ONLY)
    return ResolvedTarget(target, addresses[0])


# --- webhooks ---------------------------------------------------------------------------------------------------


def _event_types(events: Sequence[str]) -> list[str]:
    chosen = list(dict.fromkeys(events))
    if not chosen:
        raise BadUserInput("events must name at least one event.", field="events")
    unknown = [e for e in chosen if e not in EVENT_TYPES]
    if unknown:
        raise BadUserInput(f"Unknown webhook events: {', '.join(unknown)}.", field="events")
    return chosen


async def create_webhook(
    db: Database, viewer: Principal, url: str, events: Sequence[str], policy: WebhookPolicy
) -> tuple[Row, str]:
    """Register a webhook of the viewer's tenant; returns its row and its secret (shown this once)."""
    event_types = _event_types(events)
    await resolve_webhook_url(url, allow_loopback=policy.allow_loopback)
    secret = secrets.token_urlsafe(32)
    async with db.transaction() as conn:
        # One creation at a time per tenant, so two concurrent ones cannot both pass the limit.
        await conn.execute(
            text("SELECT pg_advisory_xact_lock(hashtext('webhooks:' || :tenant))"), {"tenant": viewer.tenant_id}
        )
        count = await conn.scalar(
            select(func.count()).select_from(webhooks).where(access.tenant_webhooks(webhooks, viewer))
        )
        if count >= MAX_WEBHOOKS_PER_TENANT:
            raise BadUserInput(
                f"An organisation may register at most {MAX_WEBHOOKS_PER_TENANT} webhooks; delete one first.",
                field="url",
            )
        row = (
            await conn.execute(
                insert(webhooks)
                .values(
                    tenant_id=viewer.tenant_id,
                    url=url,
                    events=event_types,
                    secret=secret,
                    created_by=viewer.subject,
                )
                .returning(*webhooks.c)
            )
        ).one()
    return row, secret


async def list_webhooks(db: Database, viewer: Principal) -> list[Row]:
    """The webhooks of the viewer's tenant, oldest first."""
    query = (
        select(webhooks).where(access.tenant_webhooks(webhooks, viewer)).order_by(webhooks.c.created_at, webhooks.c.id)
    )
    async with db.reader() as conn:
        return list(await conn.execute(query))


async def delete_webhook(db: Database, viewer: Principal, webhook_id: uuid.UUID) -> uuid.UUID:
    """Delete a webhook of the viewer's tenant with its delivery log; waiting deliveries are then dropped."""
    async with db.transaction() as conn:
        deleted = await conn.scalar(
            delete(webhooks)
            .where(webhooks.c.id == webhook_id, access.tenant_webhooks(webhooks, viewer))
            .returning(webhooks.c.id)
        )
    if deleted is None:
        raise not_found("Webhook", webhook_id)
    return deleted


# --- the delivery log -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryCursor:
    """Names the last delivery seen: its creation time and id (URL-safe base64 of ``wd1|<iso time>|<uuid>``)."""

    created_at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"wd1|{self.created_at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> DeliveryCursor:
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            tag, created_at, ident = raw.split("|")
            if tag != "wd1":
                raise ValueError(tag)
            moment = datetime.fromisoformat(created_at)
            if moment.tzinfo is None:
                raise ValueError(created_at)
            return cls(moment, uuid.UUID(ident))
        except (ValueError, UnicodeDecodeError):
            raise BadUserInput(f"`after` cursor {value!r} is not valid for this list.", field="after") from None


@dataclass
class DeliveryPage:
    rows: list[Row] = field(default_factory=list)
    cursors: list[str] = field(default_factory=list)
    total_count: int = 0
    has_next_page: bool = False
    has_previous_page: bool = False


async def list_webhook_deliveries(
    db: Database, viewer: Principal, webhook_id: uuid.UUID, *, first: int, after: str | None
) -> DeliveryPage:
    """A page of one webhook's deliveries, newest first (NOT_FOUND for a webhook not of the viewer's tenant)."""
    cursor = DeliveryCursor.decode(after) if after else None
    found = select(webhooks.c.id).where(webhooks.c.id == webhook_id, access.tenant_webhooks(webhooks, viewer))
    counted = (
        select(webhook_deliveries, func.count().over().label("total_count"))
        .where(webhook_deliveries.c.webhook_id == webhook_id)
        .subquery("counted")
    )
    query = select(counted).order_by(counted.c.created_at.desc(), counted.c.id).limit(first + 1)
    if cursor is not None:
        query = query.where(
            or_(
                counted.c.created_at < cursor.created_at,
                and_(counted.c.created_at == cursor.created_at, counted.c.id > cursor.id),
            )
        )
    async with db.reader() as conn:
        if await conn.scalar(found) is None:
            raise not_found("Webhook", webhook_id)
        rows = list(await conn.execute(query))
        total = rows[0].total_count if rows else 0
        if not rows and cursor is not None:
            total = await conn.scalar(
                select(func.count())
                .select_from(webhook_deliveries)
                .where(webhook_deliveries.c.webhook_id == webhook_id)
            )
    page = rows[:first]
    return DeliveryPage(
        rows=page,
        cursors=[DeliveryCursor(row.created_at, row.id).encode() for row in page],
        total_count=int(total or 0),
        has_next_page=len(rows) > first,
        has_previous_page=cursor is not None,
    )


# --- queueing events --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class WebhookEvent:
    """Something to tell a tenant's webhooks about."""

    tenant_id: str
    event: str  # "GRANT_ALERT" | "COMPUTATION_COMPLETED"
    data: dict


def delivery_body(delivery_id: uuid.UUID, event: str, created_at: datetime, data: dict) -> str:
    """The JSON sent (and signed) for one delivery, serialised once."""
    envelope = {"id": str(delivery_id), "event": event, "createdAt": created_at.isoformat(), "data": data}
    return json.dumps(envelope, separators=(",", ":"), default=str)


async def _enqueue_deliveries(
    conn: AsyncConnection, delivery_ids: Sequence[uuid.UUID], delay: timedelta | None
) -> None:
    raw = await conn.get_raw_connection()
    queries = Queries(AsyncpgDriver(raw.driver_connection))
    count = len(delivery_ids)
    await queries.enqueue(
        [WEBHOOK_DELIVERY_ENTRYPOINT] * count,
        [str(delivery_id).encode() for delivery_id in delivery_ids],
        [0] * count,
        [delay] * count,
    )


async def queue_webhook_events(conn: AsyncConnection, events: Sequence[WebhookEvent]) -> int:
    """Queue a delivery (row and job) of each event to each webhook of its tenant subscribed to it, in the
    caller's transaction. One SELECT when no webhook is subscribed. Returns the number of deliveries queued."""
    if not events:
        return 0
    for event in events:
        if event.event not in EVENT_TYPES:
            raise ValueError(f"unknown webhook event {event.event!r}")
    tenant_ids = sorted({event.tenant_id for event in events})
    event_types = sorted({event.event for event in events})
    subscribed = (
        await conn.execute(
            select(webhooks.c.id, webhooks.c.tenant_id, webhooks.c.events, func.now().label("now"))
            .where(access.webhooks_for_events(webhooks, tenant_ids, event_types))
            .order_by(webhooks.c.created_at, webhooks.c.id)
        )
    ).all()
    if not subscribed:
        return 0
    now = subscribed[0].now
    rows = []
    for event in events:
        for webhook in subscribed:
            if access.webhook_receives(webhook, event.tenant_id, event.event):
                delivery_id = uuid.uuid4()
                rows.append(
                    {
                        "id": delivery_id,
                        "webhook_id": webhook.id,
                        "tenant_id": event.tenant_id,
                        "event": event.event,
                        "body": delivery_body(delivery_id, event.event, now, event.data),
                        "next_attempt_at": now,
                    }
                )
    if not rows:
        return 0
    await conn.execute(insert(webhook_deliveries), rows)
    await _enqueue_deliveries(conn, [row["id"] for row in rows], None)
    return len(rows)


def computation_completed_event(row: Row) -> WebhookEvent:
    """The COMPUTATION_COMPLETED event of a computation that reached a terminal status."""
    return WebhookEvent(
        tenant_id=row.tenant_id,
        event=COMPUTATION_COMPLETED,
        data={
            "computation": {
                "id": str(row.id),
                "kind": row.kind,
                "status": row.status,
                "resultCount": row.result_count,
                "error": row.error,
                "finishedAt": row.finished_at.isoformat() if row.finished_at else None,
            }
        },
    )


# --- delivery attempts ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DeliveryAttempt:
    """One attempt to send a delivery: what to send, where, with which secret; ``number`` counts from 1."""

    delivery_id: uuid.UUID
    webhook_id: uuid.UUID
    event: str
    body: str
    url: str
    secret: str
    number: int


async def begin_delivery_attempt(db: Database, delivery_id: uuid.UUID) -> DeliveryAttempt | None:
    """The attempt a delivery job should make now, or None: the delivery (or its webhook) is gone, it is already
    DELIVERED or FAILED, or its next attempt is not due yet (another job is scheduled for it)."""
    query = (
        select(webhook_deliveries, webhooks.c.url, webhooks.c.secret)
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .where(
            webhook_deliveries.c.id == delivery_id,
            webhook_deliveries.c.status == PENDING,
            or_(webhook_deliveries.c.next_attempt_at.is_(None), webhook_deliveries.c.next_attempt_at <= func.now()),
        )
    )
    async with db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        return None
    return DeliveryAttempt(
        delivery_id=row.id,
        webhook_id=row.webhook_id,
        event=row.event,
        body=row.body,
        url=row.url,
        secret=row.secret,
        number=row.attempts + 1,
    )


@dataclass(frozen=True)
class AttemptOutcome:
    """How an attempt went: the response status (None if there was none), why it failed, and whether to stop."""

    status_code: int | None = None
    error: str | None = None
    give_up: bool = False

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


async def record_delivery_attempt(
    db: Database, attempt: DeliveryAttempt, outcome: AttemptOutcome, policy: WebhookPolicy
) -> str | None:
    """Write an attempt's outcome; on a failure with attempts left, schedule the next one (a job delayed by the
    back-off, in the same transaction). Returns the delivery's new status, or None if another run of the same
    attempt has already recorded it."""
    values: dict = {
        "attempts": attempt.number,
        "last_status_code": outcome.status_code,
        "last_error": None if outcome.delivered else outcome.error,
        "updated_at": func.now(),
    }
    retry_after: timedelta | None = None
    if outcome.delivered:
        values.update(status=DELIVERED, delivered_at=func.now(), next_attempt_at=None)
    elif outcome.give_up or attempt.number >= policy.max_attempts:
        values.update(status=FAILED, next_attempt_at=None)
    else:
        retry_after = policy.retry_delay(attempt.number)
        values.update(next_attempt_at=func.now() + literal(retry_after, Interval()))
    query = (
        update(webhook_deliveries)
        .where(
            webhook_deliveries.c.id == attempt.delivery_id,
            webhook_deliveries.c.status == PENDING,
            webhook_deliveries.c.attempts == attempt.number - 1,
        )
        .values(**values)
        .returning(webhook_deliveries.c.status)
    )
    async with db.transaction() as conn:
        status = await conn.scalar(query)
        if status is not None and retry_after is not None:
            await _enqueue_deliveries(conn, [attempt.delivery_id], retry_after)
    return status


async def delete_finished_deliveries(db: Database, now: datetime, days: int) -> int:
    """Delete the deliveries that ended (DELIVERED or FAILED) more than ``days`` days before ``now``; pending
    ones stay whatever their age (a job still refers to them). Returns how many were deleted."""
    query = webhook_deliveries.delete().where(
        webhook_deliveries.c.status != PENDING, webhook_deliveries.c.updated_at < now - timedelta(days=days)
    )
    async with db.transaction() as conn:
        return (await conn.execute(query)).rowcount
