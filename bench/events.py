"""Completion events: commit → subscriber latency (p50/p99) and how many subscribers one process holds.

Two measurements, both against a throw-away embedded Postgres:

1. **Hub**: one :class:`ComputationEventHub` (the per-process LISTEN connection) with S in-process subscribers;
   a writer commits computation state changes (the same UPDATE + NOTIFY the worker commits). Latency is from
   just before COMMIT to the moment each subscriber's queue receives the event.
2. **End to end**: a real `matchgraph serve --no-worker` process; C WebSocket clients (graphql-transport-ws)
   each hold a `computationCompleted` subscription; the writer commits a terminal state; latency is from just
   before COMMIT to the client receiving the `next` message. Also reports the server's RSS per subscription.
   The clients live in the benchmark process, or (``--client-processes N``) in N processes of their own, so
   that decoding 200 messages in one process does not count as fan-out latency; arrival times are
   CLOCK_MONOTONIC, comparable across processes. ``--no-deflate``: clients do not negotiate permessage-deflate
   (browsers do).

    python -m bench.events --events 200 --hub-subscribers 1,1000,10000 --clients 200
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
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


QUERY = "subscription { computationCompleted { id status } }"


async def _connect_clients(ws_url: str, token: str, clients: int, deflate: bool) -> list[Any]:
    sockets = []
    for _ in range(clients):
        ws = await websockets.connect(
            ws_url, subprotocols=["graphql-transport-ws"], max_queue=None, compression="deflate" if deflate else None
        )
        await ws.send(json.dumps({"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        await ws.send(json.dumps({"id": "1", "type": "subscribe", "payload": {"query": QUERY}}))
        sockets.append(ws)
    return sockets


async def _arrival(ws: Any) -> float:
    """The monotonic time this client received its next `next` message (CLOCK_MONOTONIC: comparable across
    processes on one machine)."""
    while True:
        message = json.loads(await ws.recv())
        if message["type"] == "next":
            return time.monotonic()


async def _arrivals(sockets: list[Any]) -> list[float]:
    """Every client's arrival time for the next event (one timeout for all: a task per client is enough)."""
    async with asyncio.timeout(30):
        return await asyncio.gather(*(_arrival(ws) for ws in sockets))


def _client_process(ws_url: str, token: str, clients: int, events: int, deflate: bool, conn: Any) -> None:
    """A process holding ``clients`` WebSocket clients: reports after each event, then every arrival time."""

    async def main() -> None:
        sockets = await _connect_clients(ws_url, token, clients, deflate)
        conn.send("ready")
        arrivals = []
        for _ in range(events):
            arrivals.append(await _arrivals(sockets))
            conn.send("received")
        conn.send(arrivals)
        for ws in sockets:
            await ws.close()

    asyncio.run(main())


async def bench_end_to_end(
    db_url: str, writer: asyncpg.Connection, clients: int, events: int, client_processes: int, deflate: bool
) -> dict[str, Any]:
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
    sockets: list[Any] = []
    children: list[tuple[Any, Any]] = []
    total = events + WARMUP_EVENTS
    try:
        settings = Settings(jwt_secret=JWT_SECRET, database_url=db_url)
        token = mint_token(settings, subject="bench@events", tenant_id=TENANT, roles=["ORG_USER"])
        process = psutil.Process(server.pid)
        rss_before = process.memory_info().rss
        if client_processes:
            context = multiprocessing.get_context("spawn")
            shares = [clients // client_processes + (i < clients % client_processes) for i in range(client_processes)]
            for share in shares:
                parent_end, child_end = context.Pipe()
                child = context.Process(
                    target=_client_process, args=(ws_url, token, share, total, deflate, child_end), daemon=True
                )
                child.start()
                children.append((child, parent_end))
            for _, pipe in children:
                assert await asyncio.to_thread(pipe.recv) == "ready"
        else:
            sockets = await _connect_clients(ws_url, token, clients, deflate)
        await asyncio.sleep(1.0)
        rss_after = process.memory_info().rss
        computation_id = await _new_computation(writer)
        commits: list[float] = []
        arrivals: list[list[float]] = []
        for _ in range(total):
            commits.append(await _commit_change(writer, computation_id, "SUCCEEDED"))
            if children:
                for _, pipe in children:
                    assert await asyncio.to_thread(pipe.recv) == "received"
            else:
                arrivals.append(await _arrivals(sockets))
        if children:
            per_child = [await asyncio.to_thread(pipe.recv) for _, pipe in children]
            arrivals = [[t for child in per_child for t in child[i]] for i in range(total)]
        latencies = [(arrival - commits[i]) * 1000 for i in range(WARMUP_EVENTS, total) for arrival in arrivals[i]]
        return {
            "clients": clients,
            "client_processes": client_processes,
            "deflate": deflate,
            "events": events,
            "latency_ms": percentiles(latencies),
            "server_rss_mib_per_subscription": round((rss_after - rss_before) / clients / 2**20, 3),
        }
    finally:
        for ws in sockets:
            await ws.close()
        for child, _ in children:
            child.join(10)
            if child.is_alive():
                child.terminate()
        server.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {"command": "python -m bench.events " + " ".join(args.raw), "machine": machine_info()}
    results["load_average_start"] = [round(x, 2) for x in os.getloadavg()]
    async with temp_embedded_database() as database:
        writer = await asyncpg.connect(user="postgres", host=database.socket_dir, database=database.name)
        dsn = database.url.replace("postgresql+asyncpg://", "postgresql://", 1)
        try:
            results["hub"] = [await bench_hub(dsn, writer, s, args.events) for s in args.hub_subscribers]
            if args.clients:
                results["end_to_end"] = await bench_end_to_end(
                    database.url, writer, args.clients, args.e2e_events, args.client_processes, not args.no_deflate
                )
        finally:
            await writer.close()
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


def main(argv: list[str] | None = None) -> int:
    import sys

    parser = argparse.ArgumentParser(prog="python -m bench.events", description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200)
    parser.add_argument("--hub-subscribers", type=lambda s: [int(x) for x in s.split(",")], default=[1, 1000, 10000])
    parser.add_argument("--clients", type=int, default=200, help="WebSocket clients for the end-to-end run (0: skip)")
    parser.add_argument("--e2e-events", type=int, default=50)
    parser.add_argument(
        "--client-processes",
        type=int,
        default=0,
        help="spread the WebSocket clients over this many processes (0: all in the benchmark process)",
    )
    parser.add_argument("--no-deflate", action="store_true", help="clients do not negotiate permessage-deflate")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    args.raw = argv if argv is not None else sys.argv[1:]
    results = asyncio.run(run(args))
    rows = [
        ("hub", r["subscribers"], r["events"], r["latency_ms"]["p50"], r["latency_ms"]["p99"]) for r in results["hub"]
    ]
    if "end_to_end" in results:
        e = results["end_to_end"]
        where = f"{e['client_processes']} client processes" if e["client_processes"] else "clients in this process"
        label = f"WebSocket end to end ({where}{'' if e['deflate'] else ', no deflate'})"
        rows.append((label, e["clients"], e["events"], e["latency_ms"]["p50"], e["latency_ms"]["p99"]))
    print(markdown_table(["path", "subscribers", "events", "p50 ms", "p99 ms"], rows))
    if "end_to_end" in results:
        print(f"\nserver RSS per subscription: {results['end_to_end']['server_rss_mib_per_subscription']} MiB")
    print(f"load average (1/5/15 min) at start {results['load_average_start']}, end {results['load_average_end']}")
    if not args.no_save:
        print(f"\nwrote {write_results('events', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
