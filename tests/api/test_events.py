"""The events hub: NOTIFY delivered on commit only, fan-out, and reconnection after the connection dies."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
from sqlalchemy import select

from graphql_app.db.models import computations
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.services.computation_records import set_computation_state, start_computation
from tests.conftest import token_for


async def _started(services, tenant: str = "tenant-a"):
    from graphql_app.auth import TokenVerifier

    principal = TokenVerifier(services.settings).verify(token_for(tenant))
    return await start_computation(services.db, principal, tenant, "GRANT_MATCHES", uuid.uuid4(), {})


async def test_events_arrive_on_commit_and_never_for_rollbacks(services):
    hub = ComputationEventHub(services.db.asyncpg_dsn)
    await hub.start()
    try:
        async with hub.subscribe() as first, hub.subscribe() as second:
            record = await _started(services)
            for queue in (first, second):
                event = await asyncio.wait_for(queue.get(), 5)
                assert (event.computation_id, event.tenant_id, event.status) == (record.id, "tenant-a", "QUEUED")
            try:
                async with services.db.transaction() as conn:
                    await set_computation_state(conn, record.id, status="RUNNING")
                    raise RuntimeError("roll back")
            except RuntimeError:
                pass
            await asyncio.sleep(0.3)
            assert first.empty(), "a rolled-back change sends no event"
            async with services.db.transaction() as conn:
                await set_computation_state(conn, record.id, status="FAILED", error="x")
            event = await asyncio.wait_for(first.get(), 5)
            assert event.status == "FAILED" and event.is_terminal
    finally:
        await hub.stop()


async def test_listener_reconnects_and_tells_subscribers_to_resync(services, pg_socket_dir, database_name):
    hub = ComputationEventHub(services.db.asyncpg_dsn, health_interval=0.5)
    await hub.start()
    try:
        async with hub.subscribe() as queue:
            admin = await asyncpg.connect(user="postgres", host=pg_socket_dir, database="postgres")
            try:
                killed = await admin.fetchval(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE application_name = 'matchgraph-events' AND datname = $1",
                    database_name,
                )
            finally:
                await admin.close()
            assert killed == 1
            event = await asyncio.wait_for(queue.get(), 10)
            assert event.resync and hub.reconnects == 1
            record = await _started(services)
            event = await asyncio.wait_for(queue.get(), 5)
            assert event.computation_id == record.id, "events flow again after reconnecting"
    finally:
        await hub.stop()
    async with services.db.reader() as conn:
        assert (await conn.execute(select(computations.c.status))).scalars().all() == ["QUEUED"]
