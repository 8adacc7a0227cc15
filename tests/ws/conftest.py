"""Fixtures for tests against real server processes on the per-test database."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import websockets

from tests.conftest import JWT_SECRET, database_url, token_for
from tests.processes import Process, process_env


@pytest.fixture
def live_env(pg_socket_dir: str, database_name: str) -> dict[str, str]:
    return process_env(
        MATCHGRAPH_DATABASE_URL=database_url(pg_socket_dir, database_name),
        MATCHGRAPH_JWT_SECRET=JWT_SECRET,
        MATCHGRAPH_WORKER_HEARTBEAT_SECONDS="2",
    )


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Processes a test starts; all stopped afterwards."""
    started: list[Process] = []
    yield started
    for process in started:
        process.stop()


@pytest.fixture
def admin_token() -> str:
    return token_for("tenant-a", ("ORG_ADMIN",))


@pytest.fixture
def platform_token() -> str:
    return token_for("platform", ("PLATFORM_ADMIN",))


class TransportWsClient:
    """A minimal graphql-transport-ws client on a real WebSocket."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url
        self.token = token
        self.ws: Any = None
        self.pending: list[dict] = []  # messages of other operations, kept for whoever asks next

    async def __aenter__(self) -> TransportWsClient:
        self.ws = await websockets.connect(self.url, subprotocols=["graphql-transport-ws"])
        payload = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        await self.send({"type": "connection_init", "payload": payload})
        ack = await self.receive()
        assert ack["type"] == "connection_ack", ack
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.ws.close()

    async def send(self, message: dict) -> None:
        await self.ws.send(json.dumps(message))

    async def receive(self, timeout: float = 20) -> dict:
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), timeout))
            if message["type"] == "ping":
                await self.send({"type": "pong"})
                continue
            if message["type"] != "pong":
                return message

    async def subscribe(self, op_id: str, query: str, variables: dict | None = None) -> None:
        await self.send({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables or {}}})

    async def next_for(self, op_id: str, timeout: float = 20) -> dict:
        """The next message of one operation (others are kept in order for later)."""
        for i, message in enumerate(self.pending):
            if message.get("id") == op_id:
                return self.pending.pop(i)
        while True:
            message = await self.receive(timeout)
            if message.get("id") == op_id:
                return message
            self.pending.append(message)

    async def collect(self, op_id: str, timeout: float = 20) -> AsyncIterator[dict]:
        """Messages of one operation until `complete` (or an `error`)."""
        while True:
            message = await self.next_for(op_id, timeout)
            yield message
            if message["type"] in ("complete", "error"):
                return
