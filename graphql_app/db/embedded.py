"""The embedded PostgreSQL 16 + pgvector server (the `pgserver` package), used when no URL is configured.

The server lives in ``<data_dir>/pgdata`` and listens on a Unix socket only. Several processes on the same
data dir share one server (pgserver keeps a list of handle pids); the last process to exit stops it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import asyncpg

logger = logging.getLogger(__name__)

EMBEDDED_DATABASE = "matchgraph"


class EmbeddedDatabaseError(RuntimeError):
    """The embedded Postgres could not be started."""


def start_embedded_postgres(data_dir: Path) -> str:
    """Start (or join) the embedded server and return an asyncpg-style URL of the server's `postgres` db."""
    os.environ.setdefault("XDG_RUNTIME_DIR", str(Path(data_dir).resolve() / "run"))
    Path(os.environ["XDG_RUNTIME_DIR"]).mkdir(parents=True, exist_ok=True, mode=0o700)
    import pgserver  # imported lazily: it takes a process-wide lock at import time

    data_dir = Path(data_dir).resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        server = pgserver.get_server(data_dir / "pgdata", cleanup_mode="stop")
    except Exception as exc:  # pgserver raises bare CalledProcessError/AssertionError
        log = data_dir / "pgdata" / "log"
        tail = log.read_text()[-2000:] if log.exists() else "(no log)"
        raise EmbeddedDatabaseError(
            f"Could not start the embedded PostgreSQL in {data_dir / 'pgdata'}: {exc!r}.\n"
            f"Server log (tail):\n{tail}\n"
            "Set MATCHGRAPH_DATABASE_URL to use an external PostgreSQL instead."
        ) from exc
    return server.get_uri()


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
