"""Webhooks end to end: registered over GraphQL, events queued in the transaction of the change, delivered by the
real queue worker over real HTTP to a loopback receiver, signed, retried with back-off, given up, logged; URLs
refused when they (or what they resolve to) are not public; each tenant sees its own webhooks only."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import ssl
import uuid

import httpx
import pytest
from sqlalchemy import func, select, text, update

from graphql_app.context import AppServices
from graphql_app.db.engine import count_statements
from graphql_app.db.models import webhook_deliveries, webhooks
from graphql_app.jobs.schedules import Scheduler
from graphql_app.jobs.webhook_delivery import WebhookDeliverer
from graphql_app.services.webhooks import (
    GRANT_ALERT,
    WEBHOOK_DELIVERY_ENTRYPOINT,
    DeliveryAttempt,
    ResolvedTarget,
    WebhookEvent,
    WebhookPolicy,
    parse_webhook_url,
    queue_webhook_events,
)
from tests.api.factories import calculate, create_company, create_grants, grant_input
from tests.conftest import GraphQLClient, token_for

MAX_ATTEMPTS = 4
RETRY_BASE_SECONDS = 0.1  # waits 0.1 s, 0.4 s, 1.6 s

CREATE = """
mutation($url: String!, $events: [WebhookEvent!]!) {
  createWebhook(url: $url, events: $events) { secret webhook { id url events createdAt } }
}"""
LIST = "{ webhooks { id url events createdAt } }"
DELIVERIES = """
query($id: ID!, $first: Int, $after: String) {
  webhookDeliveries(webhookId: $id, first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id event status attempts lastStatusCode lastError nextAttemptAt deliveredAt createdAt body
    } }
  }
}"""
DELETE = "mutation($id: ID!) { deleteWebhook(id: $id) }"


@pytest.fixture
def settings(settings):
    """Loopback receivers allowed, and a back-off short enough for a test."""
    return dataclasses.replace(
        settings,
        webhook_allow_loopback=True,
        webhook_max_attempts=MAX_ATTEMPTS,
        webhook_retry_base_seconds=RETRY_BASE_SECONDS,
    )


@dataclasses.dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Receiver:
    """A loopback HTTP/1.1 endpoint that records every request and answers the given statuses in turn (the
    last one from then on)."""

    def __init__(self, *statuses: int) -> None:
        self.statuses = list(statuses or (200,))
        self.requests: list[ReceivedRequest] = []
        self.server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/matchgraph"

    async def __aenter__(self) -> Receiver:
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.server.close()
        await self.server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        request_line, *lines = head.split("\r\n")
        headers = {}
        for line in lines:
            if line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", 0)))
        method, path, _ = request_line.split(" ")
        self.requests.append(ReceivedRequest(method, path, headers, body))
        status = self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]
        writer.write(f"HTTP/1.1 {status} Status\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".encode())
        await writer.drain()
        writer.close()


def signed(secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


async def create_webhook(client: GraphQLClient, url: str, events: list[str]) -> tuple[str, str]:
    data = await client.data(CREATE, {"url": url, "events": events})
    return data["createWebhook"]["webhook"]["id"], data["createWebhook"]["secret"]


async def wait_for_delivery(services: AppServices, status: str, timeout: float = 10) -> dict:
    """The one delivery row, once it has ``status``."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        async with services.db.reader() as conn:
            rows = (await conn.execute(select(webhook_deliveries))).mappings().all()
        if rows and all(row["status"] == status for row in rows):
            assert len(rows) == 1, rows
            return dict(rows[0])
        assert asyncio.get_running_loop().time() < deadline, f"deliveries: {rows}"
        await asyncio.sleep(0.05)


async def queue_grant_alert(services: AppServices, tenant: str = "tenant-a") -> int:
    event = WebhookEvent(tenant, GRANT_ALERT, {"alert": {"id": str(uuid.uuid4()), "score": 0.9}})
    async with services.db.transaction() as conn:
        return await queue_webhook_events(conn, [event])


async def waiting_jobs(services: AppServices) -> int:
    async with services.db.reader() as conn:
        return await conn.scalar(
            text("SELECT count(*) FROM pgqueuer WHERE entrypoint = :e AND status = 'queued'"),
            {"e": WEBHOOK_DELIVERY_ENTRYPOINT},
        )


async def test_the_secret_is_shown_once_and_a_completed_computation_is_delivered_signed(services, as_admin):
    async with Receiver(200) as receiver:
        webhook_id, secret = await create_webhook(as_admin, receiver.url, ["COMPUTATION_COMPLETED"])
        assert len(secret) >= 40
        listed = (await as_admin.data(LIST))["webhooks"]
        assert listed == [
            {
                "id": webhook_id,
                "url": receiver.url,
                "events": ["COMPUTATION_COMPLETED"],
                "createdAt": listed[0]["createdAt"],
            }
        ]
        body = await as_admin.execute("{ webhooks { secret } }")
        assert body["errors"][0]["message"].startswith("Cannot query field 'secret'")

        await create_grants(
            GraphQLClient(as_admin.http, token_for("platform", ("PLATFORM_ADMIN",))), [grant_input("Solar call")]
        )
        company = await create_company(as_admin)
        computation = await calculate(as_admin, company["id"])
        assert computation["status"] == "SUCCEEDED"

        row = await wait_for_delivery(services, "DELIVERED")
        assert len(receiver.requests) == 1
        request = receiver.requests[0]
        assert request.method == "POST" and request.path == "/hooks/matchgraph"
        assert request.headers["x-matchgraph-signature"] == signed(secret, request.body)
        assert request.headers["x-matchgraph-event"] == "COMPUTATION_COMPLETED"
        assert request.headers["x-matchgraph-delivery"] == str(row["id"])
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"] == "Matchgraph-Webhooks/1"
        assert request.headers["host"] == f"127.0.0.1:{receiver.port}"
        payload = json.loads(request.body)
        assert payload["id"] == str(row["id"]) and payload["event"] == "COMPUTATION_COMPLETED"
        assert dt.datetime.fromisoformat(payload["createdAt"]) == row["created_at"]
        assert payload["data"]["computation"] == {
            "id": computation["id"],
            "kind": "GRANT_MATCHES",
            "status": "SUCCEEDED",
            "resultCount": computation["resultCount"],
            "error": None,
            "finishedAt": payload["data"]["computation"]["finishedAt"],
        }
        assert payload["data"]["computation"]["finishedAt"] is not None

    log = (await as_admin.data(DELIVERIES, {"id": webhook_id}))["webhookDeliveries"]
    assert log["totalCount"] == 1
    entry = log["edges"][0]["node"]
    assert entry["body"].encode() == request.body
    assert entry["status"] == "DELIVERED" and entry["attempts"] == 1 and entry["lastStatusCode"] == 200
    assert entry["deliveredAt"] is not None and entry["nextAttemptAt"] is None and entry["lastError"] is None
    nested = await as_admin.data("{ webhooks { deliveries(first: 5) { totalCount edges { node { id body } } } } }")
    assert nested["webhooks"][0]["deliveries"]["edges"][0]["node"] == {"id": entry["id"], "body": entry["body"]}


@pytest.mark.grant_fanout
async def test_a_grant_import_delivers_the_alerts_it_raises(services, as_admin, as_other_tenant):
    """End to end: a platform admin imports a grant; the fan-out alerts the company; its organisation's webhook
    receives the alert, signed; another tenant's webhook hears nothing of it."""
    company = await create_company(as_admin)
    await as_admin.data(
        "mutation($c: ID!) { updateCompanyAlertSettings(companyId: $c, input: {alertMinScore: 0}) { id } }",
        {"c": company["id"]},
    )
    async with Receiver(200) as receiver, Receiver(200) as other_receiver:
        _, secret = await create_webhook(as_admin, receiver.url, ["GRANT_ALERT"])
        await create_webhook(as_other_tenant, other_receiver.url, ["GRANT_ALERT", "COMPUTATION_COMPLETED"])
        platform = GraphQLClient(as_admin.http, token_for("platform", ("PLATFORM_ADMIN",)))
        (grant,) = await create_grants(platform, [grant_input("Solar call")])
        row = await wait_for_delivery(services, "DELIVERED", timeout=30)
    (request,) = receiver.requests
    assert request.headers["x-matchgraph-signature"] == signed(secret, request.body)
    assert request.headers["x-matchgraph-event"] == "GRANT_ALERT" and request.body == row["body"].encode()
    alert = json.loads(request.body)["data"]["alert"]
    (listed,) = (
        await as_admin.data(
            "query($c: ID!) { grantAlerts(companyId: $c) { edges { node { id score } } } }", {"c": company["id"]}
        )
    )["grantAlerts"]["edges"]
    assert alert["id"] == listed["node"]["id"] and alert["score"] == listed["node"]["score"]
    assert (alert["reason"], alert["companyId"], alert["grantId"], alert["grantTitle"]) == (
        "NEW_GRANT",
        company["id"],
        grant["id"],
        "Solar call",
    )
    assert other_receiver.requests == []  # the fan-out computation is the platform tenant's, the alert tenant-a's


async def test_a_failing_endpoint_is_retried_with_back_off_until_it_accepts(services, as_admin):
    async with Receiver(500, 500, 200) as receiver:
        webhook_id, secret = await create_webhook(as_admin, receiver.url, ["GRANT_ALERT"])
        assert await queue_grant_alert(services) == 1
        row = await wait_for_delivery(services, "DELIVERED")
    assert [r.headers["x-matchgraph-delivery"] for r in receiver.requests] == [str(row["id"])] * 3
    assert {r.body for r in receiver.requests} == {row["body"].encode()}
    assert all(r.headers["x-matchgraph-signature"] == signed(secret, r.body) for r in receiver.requests)
    entry = (await as_admin.data(DELIVERIES, {"id": webhook_id}))["webhookDeliveries"]["edges"][0]["node"]
    assert entry["status"] == "DELIVERED" and entry["attempts"] == 3 and entry["lastStatusCode"] == 200
    assert entry["lastError"] is None and entry["nextAttemptAt"] is None
    # A job for the same delivery running again (a re-picked job) sends nothing more.
    deliverer = WebhookDeliverer(services.db, WebhookPolicy.from_settings(services.settings))
    assert await deliverer.deliver(row["id"]) is None
    assert len(receiver.requests) == 3


async def test_an_endpoint_that_always_fails_is_given_up_after_the_last_attempt(services, as_admin):
    async with Receiver(500) as receiver:
        webhook_id, _ = await create_webhook(as_admin, receiver.url, ["GRANT_ALERT"])
        await queue_grant_alert(services)
        row = await wait_for_delivery(services, "FAILED")
        assert await waiting_jobs(services) == 0  # no further attempt is scheduled
        await asyncio.sleep(0.5)
        assert len(receiver.requests) == MAX_ATTEMPTS
    assert row["attempts"] == MAX_ATTEMPTS and row["last_status_code"] == 500 and row["last_error"] == "HTTP 500"
    assert row["next_attempt_at"] is None and row["delivered_at"] is None
    entry = (await as_admin.data(DELIVERIES, {"id": webhook_id}))["webhookDeliveries"]["edges"][0]["node"]
    assert (entry["status"], entry["attempts"], entry["lastError"]) == ("FAILED", MAX_ATTEMPTS, "HTTP 500")


async def test_a_gone_endpoint_is_given_up_at_once(services, as_admin):
    async with Receiver(410) as receiver:
        await create_webhook(as_admin, receiver.url, ["GRANT_ALERT"])
        await queue_grant_alert(services)
        row = await wait_for_delivery(services, "FAILED")
    assert len(receiver.requests) == 1 and row["attempts"] == 1 and row["last_status_code"] == 410


async def test_a_webhook_deleted_while_a_retry_waits_gets_nothing_more(services, as_admin):
    async with Receiver(500) as receiver:
        webhook_id, _ = await create_webhook(as_admin, receiver.url, ["GRANT_ALERT"])
        await queue_grant_alert(services)
        deadline = asyncio.get_running_loop().time() + 10
        while not receiver.requests:
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.02)
        assert (await as_admin.data(DELETE, {"id": webhook_id}))["deleteWebhook"] == webhook_id
        sent = len(receiver.requests)
        await asyncio.sleep(1.0)
        assert len(receiver.requests) == sent
    async with services.db.reader() as conn:
        assert await conn.scalar(select(func.count()).select_from(webhook_deliveries)) == 0


async def test_the_url_is_checked_again_before_each_attempt(services, as_admin):
    """A webhook whose URL now leads to a forbidden address (as after DNS rebinding) is not contacted."""
    async with Receiver(200) as receiver:
        webhook_id, _ = await create_webhook(as_admin, receiver.url, ["GRANT_ALERT"])
        async with services.db.transaction() as conn:
            await conn.execute(
                update(webhooks).where(webhooks.c.id == uuid.UUID(webhook_id)).values(url="https://169.254.169.254/")
            )
        await queue_grant_alert(services)
        row = await wait_for_delivery(services, "FAILED")
        assert receiver.requests == []
    assert row["attempts"] == 1 and row["last_status_code"] is None
    assert row["last_error"] == "Not sent: url host '169.254.169.254' is a link-local address; it is not allowed."


async def test_events_without_a_subscribed_webhook_write_nothing(services, as_admin):
    await create_webhook(as_admin, "https://93.184.215.14/hook", ["COMPUTATION_COMPLETED"])
    with count_statements() as log:
        assert await queue_grant_alert(services) == 0  # subscribed to another event
        assert await queue_grant_alert(services, "tenant-without-webhooks") == 0
    statements = [s for s in log.statements if s not in ("BEGIN", "COMMIT")]
    assert len(statements) == 2 and all(s.startswith("SELECT webhooks.id") for s in statements)  # one each
    async with services.db.transaction() as conn:
        assert await queue_webhook_events(conn, []) == 0
    async with services.db.reader() as conn:
        assert await conn.scalar(select(func.count()).select_from(webhook_deliveries)) == 0
    assert await waiting_jobs(services) == 0


async def test_events_roll_back_with_the_callers_transaction(services, as_admin):
    await create_webhook(as_admin, "https://93.184.215.14/hook", ["GRANT_ALERT"])
    with pytest.raises(RuntimeError):
        async with services.db.transaction() as conn:
            event = WebhookEvent("tenant-a", GRANT_ALERT, {"n": 1})
            assert await queue_webhook_events(conn, [event, event]) == 2
            raise RuntimeError("the change failed")
    async with services.db.reader() as conn:
        assert await conn.scalar(select(func.count()).select_from(webhook_deliveries)) == 0
    assert await waiting_jobs(services) == 0


SSRF_URLS = [
    "http://93.184.215.14/hook",
    "http://127.0.0.1:8080/hook",
    "https://169.254.169.254/latest/meta-data/",
    "https://10.0.0.1/hook",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://localhost/hook",
    "https://user:secret@93.184.215.14/hook",
    "ftp://93.184.215.14/hook",
    "https://93.184.215.14/" + "x" * 2048,
]


async def test_urls_that_are_not_public_are_refused_and_nothing_is_written(services):
    strict = dataclasses.replace(
        services, settings=dataclasses.replace(services.settings, webhook_allow_loopback=False)
    )
    from graphql_app.app import create_app

    transport = httpx.ASGITransport(app=create_app(services=strict))
    async with httpx.AsyncClient(transport=transport, base_url="http://matchgraph.test") as client:
        admin = GraphQLClient(client, token_for("tenant-a", ("ORG_ADMIN",)))
        for url in SSRF_URLS:
            body = await admin.execute(CREATE, {"url": url, "events": ["GRANT_ALERT"]})
            assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT", (url, body)
            assert body["errors"][0]["extensions"]["field"] == "url"
        message = (await admin.execute(CREATE, {"url": "https://10.0.0.1/", "events": ["GRANT_ALERT"]}))["errors"][0]
        assert message["message"] == "url host '10.0.0.1' is a private address; it is not allowed."
        no_events = await admin.execute(CREATE, {"url": "https://93.184.215.14/", "events": []})
        assert no_events["errors"][0]["extensions"] == {"code": "BAD_USER_INPUT", "field": "events"}
        assert (await admin.data(LIST))["webhooks"] == []
    async with services.db.reader() as conn:
        assert await conn.scalar(select(func.count()).select_from(webhooks)) == 0


async def test_a_tenant_may_register_at_most_ten_webhooks(as_admin):
    for n in range(10):
        await create_webhook(as_admin, f"https://93.184.215.14/hook/{n}", ["GRANT_ALERT", "GRANT_ALERT"])
    assert (await as_admin.data(LIST))["webhooks"][0]["events"] == ["GRANT_ALERT"]
    code = await as_admin.error_code(CREATE, {"url": "https://93.184.215.14/eleven", "events": ["GRANT_ALERT"]})
    assert code == "BAD_USER_INPUT"
    assert len((await as_admin.data(LIST))["webhooks"]) == 10


async def test_webhooks_are_seen_and_managed_by_their_own_tenants_admins_only(
    services, http, as_admin, as_other_tenant, as_platform_admin
):
    webhook_id, _ = await create_webhook(as_admin, "https://93.184.215.14/hook", ["GRANT_ALERT"])
    assert (await as_other_tenant.data(LIST))["webhooks"] == []
    assert (await as_platform_admin.data(LIST))["webhooks"] == []
    for outsider in (as_other_tenant, as_platform_admin):
        assert await outsider.error_code(DELIVERIES, {"id": webhook_id}) == "NOT_FOUND"
        assert await outsider.error_code(DELETE, {"id": webhook_id}) == "NOT_FOUND"
    org_user = GraphQLClient(http, token_for("tenant-a", ("ORG_USER",)))
    assert await org_user.error_code(LIST) == "FORBIDDEN"
    assert await org_user.error_code(DELIVERIES, {"id": webhook_id}) == "FORBIDDEN"
    assert (
        await org_user.error_code(CREATE, {"url": "https://93.184.215.14/", "events": ["GRANT_ALERT"]}) == "FORBIDDEN"
    )
    assert await org_user.error_code(DELETE, {"id": webhook_id}) == "FORBIDDEN"
    # Platform admins manage their own organisation's webhooks.
    platform_id, _ = await create_webhook(as_platform_admin, "https://93.184.215.14/p", ["GRANT_ALERT"])
    assert [w["id"] for w in (await as_platform_admin.data(LIST))["webhooks"]] == [platform_id]
    assert [w["id"] for w in (await as_admin.data(LIST))["webhooks"]] == [webhook_id]
    assert await as_admin.error_code(DELIVERIES, {"id": str(uuid.uuid4())}) == "NOT_FOUND"
    assert await as_admin.error_code(DELIVERIES, {"id": "not-a-uuid"}) == "BAD_USER_INPUT"
    assert (await as_admin.data(DELETE, {"id": webhook_id}))["deleteWebhook"] == webhook_id
    assert await as_admin.error_code(DELETE, {"id": webhook_id}) == "NOT_FOUND"


async def test_the_delivery_log_pages_newest_first(services, as_admin):
    webhook_id, _ = await create_webhook(as_admin, "https://93.184.215.14/hook", ["GRANT_ALERT"])
    async with services.db.transaction() as conn:
        # Stored as already delivered, so no job sends them anywhere.
        await conn.execute(
            webhook_deliveries.insert(),
            [
                {
                    "webhook_id": uuid.UUID(webhook_id),
                    "tenant_id": "tenant-a",
                    "event": GRANT_ALERT,
                    "body": json.dumps({"n": n}),
                    "status": "DELIVERED",
                    "created_at": dt.datetime(2026, 6, 1, 12, n // 2, tzinfo=dt.UTC),
                }
                for n in range(5)
            ],
        )
    seen, after = [], None
    while True:
        page = (await as_admin.data(DELIVERIES, {"id": webhook_id, "first": 2, "after": after}))["webhookDeliveries"]
        assert page["totalCount"] == 5
        seen += [json.loads(edge["node"]["body"])["n"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert sorted(seen) == [0, 1, 2, 3, 4] and seen[0] == 4 and set(seen[1:3]) == {2, 3} and set(seen[3:]) == {0, 1}
    assert await as_admin.error_code(DELIVERIES, {"id": webhook_id, "after": "bogus"}) == "BAD_USER_INPUT"
    assert await as_admin.error_code(DELIVERIES, {"id": webhook_id, "first": 0}) == "BAD_USER_INPUT"


async def test_the_scheduler_deletes_finished_deliveries_past_the_retention_and_keeps_the_rest(services, as_admin):
    webhook_id, _ = await create_webhook(as_admin, "https://93.184.215.14/hook", ["GRANT_ALERT"])
    now = services.clock.now()
    ages = {"old delivered": ("DELIVERED", 31), "old failed": ("FAILED", 40), "old pending": ("PENDING", 90)}
    ages |= {"recent delivered": ("DELIVERED", 29), "recent failed": ("FAILED", 1)}
    async with services.db.transaction() as conn:
        await conn.execute(
            webhook_deliveries.insert(),
            [
                {
                    "webhook_id": uuid.UUID(webhook_id),
                    "tenant_id": "tenant-a",
                    "event": GRANT_ALERT,
                    "body": json.dumps({"name": name}),
                    "status": status,
                    # A pending delivery with a future attempt: no job of this test sends it.
                    "next_attempt_at": now + dt.timedelta(days=1) if status == "PENDING" else None,
                    "created_at": now - dt.timedelta(days=days),
                    "updated_at": now - dt.timedelta(days=days),
                }
                for name, (status, days) in ages.items()
            ],
        )
    jobs = Scheduler(services.db, services.clock, days=7, expression="0 * * * *", delivery_retention_days=30)
    assert await jobs.prune_deliveries() == 2
    async with services.db.reader() as conn:
        left = {json.loads(body)["name"] for body in (await conn.execute(select(webhook_deliveries.c.body))).scalars()}
    assert left == {"old pending", "recent delivered", "recent failed"}
    keep_all = Scheduler(services.db, services.clock, days=7, expression="0 * * * *", delivery_retention_days=0)
    assert await keep_all.prune_deliveries() == 0
    with pytest.raises(ValueError, match="RETENTION_DAYS"):
        Scheduler(services.db, services.clock, days=7, expression="0 * * * *", delivery_retention_days=-1)


# --- the connection itself: pinned address, host name for Host and TLS ------------------------------------------


def _certificate_authority(tmp_path, hostname: str):
    """A CA and a server certificate for ``hostname`` (files), made with `cryptography`."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Matchgraph test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_file, cert_file, key_file = tmp_path / "ca.pem", tmp_path / "cert.pem", tmp_path / "key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return ca_file, cert_file, key_file


async def test_https_goes_to_the_checked_address_with_the_host_name_for_tls_and_host(tmp_path):
    ca_file, cert_file, key_file = _certificate_authority(tmp_path, "hooks.matchgraph.test")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(cert_file, key_file)
    server_names: list[str | None] = []
    server_tls.sni_callback = lambda sock, name, ctx: server_names.append(name)
    receiver = Receiver(204)
    receiver.server = await asyncio.start_server(receiver._serve, "127.0.0.1", 0, ssl=server_tls)
    port = receiver.server.sockets[0].getsockname()[1]
    attempt = DeliveryAttempt(uuid.uuid4(), uuid.uuid4(), GRANT_ALERT, '{"x":1}', "unused", "s3cret", 1)
    trusted = ssl.create_default_context(cafile=str(ca_file))
    deliverer = WebhookDeliverer(None, WebhookPolicy(allow_loopback=True), verify=trusted)
    try:
        # The host name does not resolve at all: the connection goes to the address given, as checked.
        target = ResolvedTarget(
            parse_webhook_url(f"https://hooks.matchgraph.test:{port}/in"), ipaddress.ip_address("127.0.0.1")
        )
        outcome = await deliverer.send(target, attempt)
        assert outcome.status_code == 204 and outcome.delivered
        assert server_names == ["hooks.matchgraph.test"]
        assert receiver.requests[0].headers["host"] == f"hooks.matchgraph.test:{port}"
        assert receiver.requests[0].headers["x-matchgraph-signature"] == signed("s3cret", b'{"x":1}')
        # A certificate for another name is refused (the name is verified, not just sent).
        other = ResolvedTarget(
            parse_webhook_url(f"https://other.matchgraph.test:{port}/in"), ipaddress.ip_address("127.0.0.1")
        )
        refused = await deliverer.send(other, attempt)
        assert refused.status_code is None and not refused.delivered
        assert "CERTIFICATE_VERIFY_FAILED" in refused.error or "certificate" in refused.error.lower()
        assert len(receiver.requests) == 1
    finally:
        await receiver.__aexit__()


class BrokenDeliverer(WebhookDeliverer):
    """Fault injection: sending fails with an error no handler foresaw."""

    async def send(self, resolved, attempt):
        raise RuntimeError("unforeseen")


async def test_an_unforeseen_error_while_sending_is_recorded_and_the_delivery_retried(services):
    """No worker runs here: the test makes the attempts itself."""
    async with Receiver(200) as receiver:
        async with services.db.transaction() as conn:
            await conn.execute(
                webhooks.insert().values(
                    tenant_id="tenant-a", url=receiver.url, events=["GRANT_ALERT"], secret="s" * 43, created_by="test"
                )
            )
        assert await queue_grant_alert(services) == 1
        async with services.db.reader() as conn:
            delivery_id = await conn.scalar(select(webhook_deliveries.c.id))
        policy = WebhookPolicy.from_settings(services.settings)
        assert await BrokenDeliverer(services.db, policy).deliver(delivery_id) == "PENDING"
        async with services.db.reader() as conn:
            row = (await conn.execute(select(webhook_deliveries))).one()
        assert row.attempts == 1 and row.last_error == "Not sent: internal error (RuntimeError)."
        assert row.next_attempt_at is not None and receiver.requests == []
        await asyncio.sleep(RETRY_BASE_SECONDS + 0.1)
        assert await WebhookDeliverer(services.db, policy).deliver(delivery_id) == "DELIVERED"
    assert len(receiver.requests) == 1
