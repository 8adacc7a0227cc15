"""Completion events: commit → subscriber latency (p50/p99) and how many subscribers one process holds.

Two measurements, both against a throw-away embedded Postgres:

1. **Hub**: one :class:`ComputationEventHub` (the per-process LISTEN connection) with S in-process subscribers;
   a writer commits computation state changes (the same UPDATE + NOTIFY the worker commits). Latency is from
   just before COMMIT to the moment each subscriber's queue receives the event.
2. **End to end**: a real `matchgraph serve --no-worker` process; C WebSocket clients (graphql-transport-ws)
   each hold a `computationCompleted` subscription; the writer commits a terminal state; latency is from just
   before COMMIT to the client receiving the `next` message. Also reports the server's RSS per subscription.

    python -m bench.events --events 200 --hub-subscribers 1,1000,10000 --clients 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import psutil
import websockets

from bench.common import (
    ServerSubprocess,
    free_port,
    healthz_ok,
    machine_info,
    markdown_table,
    percentiles,
    temp_embedded_database,
    write_results,
)
from bench.frontend_page import matchgraph_command
from graphql_app.auth import mint_token
from graphql_app.db.notifications import CHANNEL
from graphql_app.jobs.events import ComputationEventHub
from graphql_app.settings import Settings

TENANT = "bench-tenant"
JWT_SECRET = "bench-events-secret-" + "e" * 40
WARMUP_EVENTS = 5


async def _new_computation(conn: asyncpg.Connection) -> uuid.UUID:
    return await conn.fetchval(
        "INSERT INTO computations (tenant_id, kind, requested_by) VALUES ($1, 'GRANT_MATCHES', 'bench') RETURNING id",
        TENANT,
    )


async def _commit_change(conn: asyncpg.Connection, computation_id: uuid.UUID, status: str) -> float:
    """UPDATE + NOTIFY in one transaction, like the worker; returns the monotonic time just before COMMIT."""
    tx = conn.transaction()
    await tx.start()
    await conn.execute("UPDATE computations SET status = $2, updated_at = now() WHERE id = $1", computation_id, status)
    payload = json.dumps({"id": str(computation_id), "tenantId": TENANT, "status": status})
    await conn.execute("SELECT pg_notify($1, $2)", CHANNEL, payload)
    before_commit = time.monotonic()
    await tx.commit()
    return before_commit


async def bench_hub(dsn: str, writer: asyncpg.Connection, subscribers: int, events: int) -> dict[str, Any]:
    hub = ComputationEventHub(dsn)
    await hub.start()
    latencies: list[float] = []
    try:
        queues = []
        stack = []
        for _ in range(subscribers):
            cm = hub.subscribe()
            queues.append(await cm.__aenter__())
            stack.append(cm)
        computation_id = await _new_computation(writer)
        for i in range(events):
            t0 = await _commit_change(writer, computation_id, "SUCCEEDED" if i % 2 else "RUNNING")
            for queue in queues:
                await asyncio.wait_for(queue.get(), 10)
                latencies.append((time.monotonic() - t0) * 1000)
        for cm in stack:
            await cm.__aexit__(None, None, None)
    finally:
        await hub.stop()
    return {"subscribers": subscribers, "events": events, "latency_ms": percentiles(latencies)}


async def bench_end_to_end(db_url: str, writer: asyncpg.Connection, clients: int, events: int) -> dict[str, Any]:
    env = {
        **os.environ,
        "MATCHGRAPH_DATABASE_URL": db_url,
        "MATCHGRAPH_JWT_SECRET": JWT_SECRET,
        "MATCHGRAPH_LOG_LEVEL": "warning",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    port = free_port()
    log_dir = Path(tempfile.mkdtemp(prefix="matchgraph-bench-events-"))
    argv = [*matchgraph_command(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    server = ServerSubprocess("server", argv, env, port, log_dir)
    server.wait_ready(healthz_ok, timeout=120.0)
    ws_url = f"ws://127.0.0.1:{port}/graphql"
    sockets = []
    try:
        settings = Settings(jwt_secret=JWT_SECRET, database_url=db_url)
        token = mint_token(settings, subject="bench@events", tenant_id=TENANT, roles=["ORG_USER"])
        process = psutil.Process(server.pid)
        rss_before = process.memory_info().rss
        for _ in range(clients):
            ws = await websockets.connect(ws_url, subprotocols=["graphql-transport-ws"], max_queue=None)
            await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
            assert json.loads(await ws.recv())["type"] == "connection_ack"
            query = "subscription { computationCompleted { id status } }"
            await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": query}}))
            sockets.append(ws)
        await asyncio.sleep(1.0)
        rss_after = process.memory_info().rss
        computation_id = await _new_computation(writer)
        latencies: list[float] = []

        async def receive(ws: Any, t0: float) -> None:
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 30))
                if message["type"] == "next":
                    latencies.append((time.monotonic() - t0) * 1000)
                    return

        for i in range(events + WARMUP_EVENTS):
            t0 = await _commit_change(writer, computation_id, "SUCCEEDED")
            await asyncio.gather(*(receive(ws, t0) for ws in sockets))
            if i < WARMUP_EVENTS:
                latencies.clear()
        return {
            "clients": clients,
            "events": events,
            "latency_ms": percentiles(latencies),
            "server_rss_mib_per_subscription": round((rss_after - rss_before) / clients / 2**20, 3),
        }
    finally:
        for ws in sockets:
            await ws.close()
        server.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"command": "python -m bench.events " + " ".join(args.raw), "machine": machine_info()}
    async with temp_embedded_database() as database:
        writer = await asyncpg.connect(user="postgres", host=database.socket_dir, database=database.name)
        dsn = database.url.replace("postgresql+asyncpg://", "postgresql://", 1)
        try:
            results["hub"] = [await bench_hub(dsn, writer, s, args.events) for s in args.hub_subscribers]
            if args.clients:
                results["end_to_end"] = await bench_end_to_end(database.url, writer, args.clients, args.e2e_events)
        finally:
            await writer.close()
    return results


def main(argv: list[str] | None = None) -> int:
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--hub-subscribers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 1000, 10000])
    parser.add_argument("--clients", type=int, default=200, help="WebSocket clients for the end-to-end run (0: skip)")
    parser.add_argument("--e2e-events", type=int, default=50)
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    args.raw = argv if argv is not None else sys.argv[1:]
    results = asyncio.run(run(args))
    rows = [
        ("hub", r["subscribers"], r["events"], r["latency_ms"]["p50"], r["latency_ms"]["p99"]) for r in results["hub"]
    ]
    if "end_to_end" in results:
        e = results["end_to_end"]
        rows.append(("WebSocket end to end", e["clients"], e["events"], e["latency_ms"]["p50"], e["latency_ms"]["p99"]))
    print(markdown_table(["path", "subscribers", "events", "p50 ms", "p99 ms"], rows))
    if "end_to_end" in results:
        print(f"\nserver RSS per subscription: {results['end_to_end']['server_rss_mib_per_subscription']} MiB")
    if not args.no_save:
        print(f"\nwrote {write_results('events', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
