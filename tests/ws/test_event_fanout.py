"""One completion event, many subscribers: executed and encoded once per audience, delivered to each as before."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from graphql_app.auth import TokenVerifier
from graphql_app.services.computation_records import set_computation_state, start_computation
from schema import execution
from tests.conftest import token_for
from tests.ws.conftest import TransportWsClient

COMPLETED = "subscription { computationCompleted { id status subjectId resultCount } }"
WITH_FLAG = "subscription($full: Boolean!) { computationCompleted { id status error @include(if: $full) } }"


async def _finish_one(services, tenant: str) -> uuid.UUID:
    principal = TokenVerifier(services.settings).verify(token_for(tenant))
    record = await start_computation(services.db, principal, tenant, "GRANT_MATCHES", uuid.uuid4(), {})
    async with services.db.transaction() as conn:
        await set_computation_state(conn, record.id, status="SUCCEEDED", progress=1.0, result_count=7)
    return record.id


async def test_subscribers_of_one_event_share_its_execution_but_not_across_audiences(live_server, services):
    admin = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server() as server:
        same = [TransportWsClient(server.ws_url, admin) for _ in range(3)]
        flagged = TransportWsClient(server.ws_url, admin)
        other_tenant = TransportWsClient(server.ws_url, token_for("tenant-b", ("ORG_ADMIN",)))
        clients = [*same, flagged, other_tenant]
        for client in clients:
            await client.__aenter__()
        try:
            for client in (*same, other_tenant):
                await client.subscribe("done", COMPLETED)
            await flagged.subscribe("full", WITH_FLAG, {"full": True})
            await flagged.subscribe("lean", WITH_FLAG, {"full": False})
            await asyncio.sleep(0.3)  # the streams are live
            shared_before = execution.shared_event_results
            finished = await _finish_one(services, "tenant-a")

            received = [(await client.next_for("done"))["payload"] for client in same]
            expected = {
                "id": str(finished),
                "status": "SUCCEEDED",
                "subjectId": received[0]["data"]["computationCompleted"]["subjectId"],
                "resultCount": 7,
            }
            assert all(payload == {"data": {"computationCompleted": expected}} for payload in received)
            full = (await flagged.next_for("full"))["payload"]["data"]["computationCompleted"]
            lean = (await flagged.next_for("lean"))["payload"]["data"]["computationCompleted"]
            assert full == {"id": str(finished), "status": "SUCCEEDED", "error": None}
            assert lean == {"id": str(finished), "status": "SUCCEEDED"}
            # Three subscribers of one document: executed once, shared twice; other variables execute apart.
            assert execution.shared_event_results - shared_before == 2
            with pytest.raises(TimeoutError):  # another tenant never hears of it
                await other_tenant.next_for("done", timeout=1)
        finally:
            for client in clients:
                await client.__aexit__(None, None, None)
