"""Webhook delivery jobs: POST a delivery's stored body, signed, to the address its URL was checked to have.

Each job makes one attempt (:meth:`WebhookDeliverer.deliver`): re-check the URL (a host name may now resolve
elsewhere), connect to the checked address with the host name as ``Host`` and TLS server name (so a second
lookup cannot redirect the connection), never follow redirects, and record the outcome. Failures with attempts
left schedule the next attempt as a new delayed job (graphql_app.services.webhooks.record_delivery_attempt).
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import ssl
import uuid

import httpx

from graphql_app.db.engine import Database
from graphql_app.services.webhooks import (
    AttemptOutcome,
    DeliveryAttempt,
    ResolvedTarget,
    WebhookHostUnresolved,
    WebhookPolicy,
    WebhookUrlRefused,
    begin_delivery_attempt,
    record_delivery_attempt,
    resolve_webhook_url,
)

logger = logging.getLogger(__name__)

USER_AGENT = "Matchgraph-Webhooks/1"
CONNECT_TIMEOUT_SECONDS = 5.0
TOTAL_TIMEOUT_SECONDS = 10.0
#: Bytes of a response body read (then the connection is closed).
MAX_RESPONSE_BYTES = 64 * 1024
#: Responses after which a delivery is given up at once: the endpoint says it is gone for good.
GIVE_UP_STATUS_CODES = frozenset({410})


def signature(secret: str, body: bytes) -> str:
    """The ``X-Matchgraph-Signature`` header value: ``sha256=`` and the hex HMAC-SHA256 of the body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookDeliverer:
    """Makes delivery attempts with one policy; ``verify`` is the TLS trust (tests pass their own CA)."""

    def __init__(self, db: Database, policy: WebhookPolicy, *, verify: ssl.SSLContext | None = None) -> None:
        self.db = db
        self.policy = policy
        self.verify = verify or httpx.create_ssl_context()

    async def deliver(self, delivery_id: uuid.UUID) -> str | None:
        """Make the delivery's due attempt; returns its new status (None: nothing was due)."""
        attempt = await begin_delivery_attempt(self.db, delivery_id)
        if attempt is None:
            return None
        try:
            resolved = await resolve_webhook_url(attempt.url, allow_loopback=self.policy.allow_loopback)
        except WebhookUrlRefused as exc:
            outcome = AttemptOutcome(error=f"Not sent: {exc.message}", give_up=True)
        except WebhookHostUnresolved as exc:
            outcome = AttemptOutcome(error=f"Not sent: {exc.message}")
        else:
            try:
                outcome = await self.send(resolved, attempt)
            except Exception as exc:  # unforeseen: still recorded, and retried like any failed attempt
                logger.exception("webhook delivery %s attempt %d failed unexpectedly", delivery_id, attempt.number)
                outcome = AttemptOutcome(error=f"Not sent: internal error ({type(exc).__name__}).")
        status = await record_delivery_attempt(self.db, attempt, outcome, self.policy)
        logger.info(
            "webhook delivery %s attempt %d: %s (%s)",
            delivery_id,
            attempt.number,
            status,
            outcome.status_code or outcome.error,
        )
        return status

    async def send(self, resolved: ResolvedTarget, attempt: DeliveryAttempt) -> AttemptOutcome:
        """POST the body to the checked address; the response status, or why there was none."""
        body = attempt.body.encode()
        headers = {
            "Host": resolved.target.host_header,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Matchgraph-Event": attempt.event,
            "X-Matchgraph-Delivery": str(attempt.delivery_id),
            "X-Matchgraph-Signature": signature(attempt.secret, body),
        }
        extensions = {"sni_hostname": resolved.sni_hostname} if resolved.sni_hostname else {}
        timeout = httpx.Timeout(TOTAL_TIMEOUT_SECONDS, connect=CONNECT_TIMEOUT_SECONDS)
        try:
            async with (
                asyncio.timeout(TOTAL_TIMEOUT_SECONDS),
                # A client per attempt: no connection made for one host name is reused for another.
                httpx.AsyncClient(
                    verify=self.verify, timeout=timeout, follow_redirects=False, trust_env=False
                ) as client,
                client.stream(
                    "POST", resolved.pinned_url, content=body, headers=headers, extensions=extensions
                ) as response,
            ):
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES:
                        break
        except (TimeoutError, httpx.TimeoutException):
            limits = f"connect {CONNECT_TIMEOUT_SECONDS:g} s, total {TOTAL_TIMEOUT_SECONDS:g} s"
            return AttemptOutcome(error=f"Timed out ({limits}).")
        except httpx.HTTPError as exc:
            return AttemptOutcome(error=f"{type(exc).__name__}: {exc}"[:500])
        code = response.status_code
        if 200 <= code < 300:
            return AttemptOutcome(status_code=code)
        return AttemptOutcome(status_code=code, error=f"HTTP {code}", give_up=code in GIVE_UP_STATUS_CODES)
