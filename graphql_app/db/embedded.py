"""The embedded PostgreSQL 16 + pgvector server (the `pgserver` package), used when no URL is configured.

The server lives in ``<data_dir>/pgdata`` and listens on a Unix socket only. Several processes on the same
data dir share one server (pgserver keeps a list of handle pids); the last process to exit stops it, and a
process that finds it dead starts it again.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg
import psutil

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "matchgraph"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded Postgres could not be started."""


class EmbeddedPostgres:
    """The embedded server of one data dir, as this process uses it.

    pgserver counts the processes using a server in ``pgdata/.handle_pids.json`` and the last one to exit stops
    it. A process that died without its exit handlers (SIGKILL) stays listed and would keep the server running
    for good, so dead entries are dropped when a process joins and again when it leaves. A server that died
    (``kill -9``) is started again by :meth:`restart_if_stopped`, which :func:`supervise` calls every second.
    """

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = Path(data_dir).resolve()
        self.pgdata = self.data_dir / "pgdata"
        self.server = None

    def start(self) -> str:
        """Start (or join) the server; its asyncpg-style URL of the `postgres` database."""
        os.environ.setdefault("XDG_RUNTIME_DIR", str(self.data_dir / "run"))
        Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
        import pgserver  # imported lazily: it takes a process-wide lock at import time

        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.pgdata.mkdir(exist_ok=True)
        self._drop_dead_handles()
        try:
            self.server = pgserver.get_server(self.pgdata, cleanup_mode="stop")
        except Exception as exc:  # pgserver raises bare CalledProcessError/AssertionError
            log = self.pgdata / "log"
            tail = log.read_text()[-2000:] if log.exists() else "(no log)"
            raise EmbeddedDatabaseError(
                f"Could not start the embedded PostgreSQL in {self.pgdata}: {exc!r}.\n"
                f"Server log (tail):\n{tail}\n"
                "Set MATCHGRAPH_DATABASE_URL to use an external PostgreSQL instead."
            ) from exc
        # Runs before pgserver's own exit handler (registered earlier): so that handler sees only live processes
        # and stops the server when this is the last one.
        atexit.register(self._drop_dead_handles)
        return self.server.get_uri()

    def is_running(self) -> bool:
        from pgserver.utils import PostmasterInfo

        try:
            info = PostmasterInfo.read_from_pgdata(self.pgdata)
        except (OSError, ValueError, AssertionError):  # a postmaster.pid being rewritten
            return True
        return info is not None and info.is_running()

    def restart_if_stopped(self) -> bool:
        """Start the server again if it is not running (any process on the data dir may do it, under pgserver's
        lock); True when this call started it."""
        if self.server is None or self.is_running():
            return False
        with self.server._lock:
            if self.is_running():
                return False
            logger.warning("the embedded PostgreSQL in %s is not running; starting it again", self.pgdata)
            self.server.ensure_postgres_running()
        return True

    def _drop_dead_handles(self) -> None:
        from pgserver.postgres_server import PostgresServer

        handles = self.pgdata / ".handle_pids.json"
        with PostgresServer._lock:
            try:
                pids = json.loads(handles.read_text())
            except (OSError, ValueError):
                return
            alive = [pid for pid in pids if _is_live_python(pid)]
            if alive != pids:
                logger.info("dropping handles of exited processes: %s", sorted(set(pids) - set(alive)))
                handles.write_text(json.dumps(alive))


def _is_live_python(pid: int) -> bool:
    """A running Python process (pid reuse by some other program does not keep the server up)."""
    if pid == os.getpid():
        return True
    try:
        process = psutil.Process(pid)
        return process.status() != psutil.STATUS_ZOMBIE and "python" in Path(process.exe()).name
    except (psutil.Error, OSError):
        return False


_servers: dict[Path, EmbeddedPostgres] = {}


def embedded_server(data_dir: Path) -> EmbeddedPostgres:
    """This process's handle on the embedded server of ``data_dir``."""
    key = Path(data_dir).resolve()
    if key not in _servers:
        _servers[key] = EmbeddedPostgres(key)
    return _servers[key]


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server and return an asyncpg-style URL of the server's `postgres` db."""
    return embedded_server(data_dir).start()


async def supervise(server: EmbeddedPostgres, on_restart: Callable[[], Awaitable[None]], interval: float = 1.0):
    """Keep the embedded server running: check every ``interval`` seconds, start it again after a crash, then
    let the caller reset its connection pools (``on_restart``)."""
    while True:
        await asyncio.sleep(interval)
        try:
            restarted = await asyncio.to_thread(server.restart_if_stopped)
        except Exception:
            logger.warning("could not start the embedded PostgreSQL again; retrying", exc_info=True)
            continue
        if restarted:
            await on_restart()


def socket_dir_of(uri: str) -> str:
    """The Unix socket directory named in a pgserver URI (``...?host=/path``)."""
    return parse_qs(urlparse(uri).query)["host"][0]


async def ensure_database(server_uri: str, name: str = EMBEDDED_DATABASE) -> str:
    """Create database ``name`` on the embedded server if missing; return its SQLAlchemy URL."""
    host = socket_dir_of(server_uri)
    conn = await asyncpg.connect(user="postgres", host=host, database="postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return f"postgresql+asyncpg://postgres@/{name}?host={host}"
