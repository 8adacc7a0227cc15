"""Side by side with PostGraphile 4 (DESIGN §8, issue 5): the frontend page against both servers on one database.

Installs PostGraphile 4 from the npm registry into ``bench/peer/node_modules`` (git-ignored) if it is missing,
loads the ``bench.frontend_page`` dataset into a throw-away embedded Postgres, starts ``matchgraph serve
--no-worker`` and PostGraphile against that database (one process each, 127.0.0.1), checks that both return the
same page, counts the SQL statements one page costs on the Postgres side (``log_statement = all``), then drives
both with a separate load-generator process, alternating A B A B, at each concurrency and page size.

    python -m bench.peer                 # 5,000 grants, 200 companies × 100 matches, 2 rounds × 10 s (~4 min)
    python -m bench.peer --quick         # tiny dataset, 1 round × 2 s (< 60 s); not part of the test suite
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import multiprocessing
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np
import orjson
import psutil

from bench.common import (
    BenchDatabase,
    fmt_ms,
    machine_info,
    markdown_table,
    percentiles,
    temp_embedded_database,
    write_results,
)
from bench.frontend_page import (
    JWT_SECRET,
    PAGE_QUERY,
    SEED,
    free_port,
    load_frontend_dataset,
    matchgraph_command,
    request_body,
    tokens_for,
)

PEER_DIR = Path(__file__).resolve().parent / "peer"
POSTGRAPHILE_CLI = PEER_DIR / "node_modules" / "postgraphile" / "cli.js"
A, B = "matchgraph", "postgraphile"
CONTROL_APP = "mg-peer-bench"  # application_name of this script's own connections (left out of the count)

#: The same page in PostGraphile 4's default (non-simplified) inflection: the matches of one company in one
#: tenant, best first (score, then id, as Matchgraph's keyset order), grant and company through the foreign keys.
POSTGRAPHILE_QUERY = """
query CompanyMatches($companyId: UUID!, $tenantId: String!, $first: Int!) {
  allGrantMatches(
    condition: { companyId: $companyId, tenantId: $tenantId }
    orderBy: [SCORE_DESC, ID_ASC]
    first: $first
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
      isViewed isSaved isDismissed
      grant: grantByGrantId { id title funder deadline isCarbonFocused amountMax currency }
      company: companyByCompanyId { id name country size }
    } }
  }
}"""


# --- PostGraphile install ------------------------------------------------------------------------------------


def ensure_postgraphile(timeout: float = 120.0) -> dict[str, Any]:
    """``npm ci`` (or ``npm install`` without a usable lock file) in bench/peer if node_modules is missing."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        raise SystemExit("bench.peer needs node and npm on PATH")
    installed_s = None
    if not POSTGRAPHILE_CLI.exists():
        started = time.perf_counter()
        quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
        for command in ([npm, "ci", *quiet], [npm, "install", *quiet]):
            print(f"Installing PostGraphile: npm {command[1]} in {PEER_DIR} …", file=sys.stderr, flush=True)
            done = subprocess.run(command, cwd=PEER_DIR, timeout=timeout, capture_output=True, text=True)
            if done.returncode == 0 and POSTGRAPHILE_CLI.exists():
                break
            print(done.stderr[-2000:], file=sys.stderr)
        else:
            raise SystemExit("could not install PostGraphile (npm ci / npm install failed)")
        installed_s = round(time.perf_counter() - started, 1)
    package = orjson.loads((POSTGRAPHILE_CLI.parent / "package.json").read_bytes())
    node_version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    return {"node": node_version, "postgraphile": package["version"], "npm_install_s": installed_s}


# --- the two servers -----------------------------------------------------------------------------------------


class Server:
    """A server subprocess on 127.0.0.1, ready once ``probe`` succeeds; ``stop()`` ends it (and only it)."""

    def __init__(
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        log_dir: Path,
        probe: Callable[[httpx.Client, str], bool],
        timeout: float = 120.0,
    ) -> None:
        self.name = name
        self.app_name = name  # the application_name its Postgres sessions carry
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self._log = self.log_path.open("wb")
        started = time.perf_counter()
        self.proc = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=log_dir)
        deadline = started + timeout
        with httpx.Client(timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if probe(client, self.base_url):
                        break
                if time.perf_counter() > deadline:
                    self.stop()
                    raise RuntimeError(f"{name} not ready after {timeout} s:\n{self.log_tail()}")
                time.sleep(0.2)
        self.startup_s = round(time.perf_counter() - started, 2)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-3000:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self._log.close()


def start_matchgraph(bench_db: BenchDatabase, log_dir: Path) -> Server:
    """``matchgraph serve --no-worker``, as bench.frontend_page runs it (access log off, response cache off)."""
    port = free_port()
    env = {
        **os.environ,
        "MATCHGRAPH_DATABASE_URL": bench_db.url,
        "MATCHGRAPH_JWT_SECRET": JWT_SECRET,
        "MATCHGRAPH_DATA_DIR": str(log_dir),
        "MATCHGRAPH_LOG_LEVEL": "warning",
        "MATCHGRAPH_RESPONSE_CACHE": "false",  # PostGraphile has none: compare executions, not cache hits
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    argv = [*matchgraph_command(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    return Server(A, argv, env, port, log_dir, lambda c, url: c.get(url + "/healthz").status_code == 200)


def postgraphile_url(bench_db: BenchDatabase) -> str:
    return f"postgres://postgres@/{bench_db.name}?host={bench_db.socket_dir}"


def start_postgraphile(bench_db: BenchDatabase, log_dir: Path) -> Server:
    """PostGraphile 4's CLI on node, read-only schema of ``public``, production settings, no query log."""
    port = free_port()
    argv = [
        shutil.which("node") or "node",
        str(POSTGRAPHILE_CLI),
        "--connection",
        postgraphile_url(bench_db),
        "--schema",
        "public",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--max-pool-size",
        "10",  # Matchgraph's default pool size
        "--disable-default-mutations",
        "--no-setof-functions-contain-nulls",
        "--disable-query-log",
        "--disable-graphiql",
    ]
    env = {**os.environ, "NODE_ENV": "production", "PGAPPNAME": "postgraphile"}

    def probe(client: httpx.Client, url: str) -> bool:
        response = client.post(url + "/graphql", json={"query": "{ __typename }"})
        return response.status_code == 200 and response.json().get("data", {}).get("__typename") == "Query"

    return Server(B, argv, env, port, log_dir, probe)


# --- requests ------------------------------------------------------------------------------------------------


def postgraphile_body(company_id: str, tenant: str, first: int) -> bytes:
    variables = {"companyId": company_id, "tenantId": tenant, "first": first}
    return orjson.dumps({"query": POSTGRAPHILE_QUERY, "variables": variables})


def page_requests(
    server: str, jobs: list[tuple[str, str]], tokens: dict[str, str], first: int
) -> list[tuple[bytes, dict[str, str]]]:
    """(body, headers) of the page request for every company, for one server."""
    out = []
    for company_id, tenant in jobs:
        headers = {"Content-Type": "application/json"}
        if server == A:
            body = request_body(company_id, first)
            headers["Authorization"] = f"Bearer {tokens[tenant]}"
        else:
            body = postgraphile_body(company_id, tenant, first)
        out.append((body, headers))
    return out


def raw_http(port: int, body: bytes, headers: dict[str, str]) -> bytes:
    """A complete keep-alive HTTP/1.1 POST /graphql, built once and replayed by the load generator."""
    lines = [
        "POST /graphql HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Accept: application/json",
        f"Content-Length: {len(body)}",
        *(f"{k}: {v}" for k, v in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def page_of(server: str, payload: dict[str, Any]) -> dict[str, Any]:
    """The connection object of either server's response."""
    return payload["data"]["grantMatches" if server == A else "allGrantMatches"]


def normalised_page(server: str, payload: dict[str, Any]) -> dict[str, Any]:
    """A server-independent view of a page: every field the page asks for, in comparable types."""
    page = page_of(server, payload)

    def when(value: str | None) -> datetime | None:
        return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))

    rows = []
    for edge in page["edges"]:
        n = edge["node"]
        g, c = n["grant"], n["company"]
        rows.append(
            (
                n["id"],
                *(n[k] for k in ("score", "semanticScore", "ruleScore", "carbonScore", "collaborativeScore")),
                n["recencyScore"],
                tuple(n["matchReasons"]),
                n["isViewed"],
                n["isSaved"],
                n["isDismissed"],
                (g["id"], g["title"], g["funder"], when(g["deadline"]), g["isCarbonFocused"], g["currency"]),
                None if g["amountMax"] is None else Decimal(str(g["amountMax"])),
                (c["id"], c["name"], c["country"], str(c["size"]).upper()),
            )
        )
    return {"totalCount": page["totalCount"], "hasNextPage": page["pageInfo"]["hasNextPage"], "rows": rows}


def check_same_pages(
    servers: dict[str, Server], requests: dict[str, list[tuple[bytes, dict]]], jobs: list, first: int, n: int
) -> dict[str, Any]:
    """Both servers return the same page (ids, scores, every other field) for the first ``n`` companies."""
    compared = 0
    with httpx.Client(timeout=30) as client:
        for k in range(min(n, len(jobs))):
            pages = {}
            for name, server in servers.items():
                body, headers = requests[name][k]
                response = client.post(server.base_url + "/graphql", content=body, headers=headers)
                payload = response.json()
                if response.status_code != 200 or payload.get("errors"):
                    raise RuntimeError(f"{name} failed the page query: {response.status_code} {payload}")
                pages[name] = normalised_page(name, payload)
            if pages[A] != pages[B]:
                a, b = pages[A], pages[B]
                diff = next((i for i, (x, y) in enumerate(zip(a["rows"], b["rows"], strict=False)) if x != y), None)
                raise RuntimeError(
                    f"the servers disagree on company {jobs[k][0]} (first: {first}): totalCount {a['totalCount']} / "
                    f"{b['totalCount']}, rows {len(a['rows'])} / {len(b['rows'])}, first difference at row {diff}:"
                    f"\n{a['rows'][diff] if diff is not None else ''}\n{b['rows'][diff] if diff is not None else ''}"
                )
            compared += 1
    return {"companies_compared": compared, "rows_per_page": len(pages[A]["rows"]), "identical": True}


# --- SQL statements per request, as Postgres logs them -------------------------------------------------------

_CONNECTION_LINE = re.compile(r"connection authorized: user=\S+ database=(?P<db>\S+) application_name=(?P<app>\S+)")
_LOG_LINE = re.compile(r"db=(?P<db>[^|]*)\|app=(?P<app>[^|]*)\| LOG:  (?:statement|execute [^:]*): (?P<sql>.*)")


def _kind(sql: str) -> str:
    word = sql.lstrip("(").split(None, 1)[0].upper().rstrip(";") if sql.strip() else ""
    if word in {"SELECT", "WITH"}:
        return "query"
    if word in {"BEGIN", "START", "COMMIT", "ROLLBACK", "END"}:
        return "transaction"
    return "other"


async def _control(bench_db: BenchDatabase) -> asyncpg.Connection:
    app = {"application_name": CONTROL_APP}
    return await asyncpg.connect(user="postgres", host=bench_db.socket_dir, database="postgres", server_settings=app)


class StatementLog:
    """The server log while ``log_statement = 'all'`` is on: statements of the bench database after an offset."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database

    def offset(self) -> int:
        return self.path.stat().st_size

    def since(self, offset: int, requests: int, app: str) -> dict[str, Any]:
        """Statements the server with application_name ``app`` ran since ``offset``, per request and by kind."""
        time.sleep(0.3)  # let the backends' last lines reach the file
        with self.path.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        kinds: Counter[str] = Counter()
        samples: Counter[str] = Counter()
        sessions, others = 0, Counter()
        for line in text.splitlines():
            c = _CONNECTION_LINE.search(line)
            if c and c["db"] == self.database and c["app"] == app:
                sessions += 1
            m = _LOG_LINE.search(line)
            if not m or m["db"] != self.database or m["app"] == CONTROL_APP:
                continue
            if m["app"] != app:  # the other server, idle meanwhile
                others[f"{m['app']}: {' '.join(m['sql'].split())[:60]}"] += 1
                continue
            kinds[_kind(m["sql"])] += 1
            samples[" ".join(m["sql"].split())[:90]] += 1
        total = sum(kinds.values())
        return {
            "requests": requests,
            "per_request": round(total / max(requests, 1), 2),
            "by_kind_per_request": {k: round(v / max(requests, 1), 2) for k, v in sorted(kinds.items())},
            "lines": total,
            "sessions_opened": sessions,
            "left_out_other_applications": dict(others),
            "statements": [{"sql": sql, "count": c} for sql, c in samples.most_common(12)],
        }


@contextlib.asynccontextmanager
async def statement_logging(bench_db: BenchDatabase) -> AsyncIterator[StatementLog | None]:
    """``log_statement = 'all'`` and ``log_connections`` (``ALTER SYSTEM`` + reload, so pooled connections pick it
    up), off again after.

    Counted are the ``statement:`` / ``execute …:`` lines of the bench database: simple-protocol queries and
    executions of extended-protocol (prepared) statements. A multi-statement simple query counts once. The
    ``connection authorized`` lines count the sessions the servers open.
    Yields None if the server log is not where pgserver puts it.
    """
    conn = await _control(bench_db)
    try:
        log_path = Path(await conn.fetchval("SHOW data_directory")) / "log"
        if not log_path.exists():
            yield None
            return
        await conn.execute("ALTER SYSTEM SET log_statement = 'all'")
        await conn.execute("ALTER SYSTEM SET log_connections = on")
        await conn.execute("ALTER SYSTEM SET log_line_prefix = '%m [%p] db=%d|app=%a| '")
        await conn.execute("SELECT pg_reload_conf()")
        await asyncio.sleep(0.5)
        try:
            yield StatementLog(log_path, bench_db.name)
        finally:
            await conn.execute("ALTER SYSTEM RESET log_statement")
            await conn.execute("ALTER SYSTEM RESET log_connections")
            await conn.execute("ALTER SYSTEM RESET log_line_prefix")
            await conn.execute("SELECT pg_reload_conf()")
            await asyncio.sleep(0.3)
    finally:
        await conn.close()


def sequential_statements(
    log: StatementLog, server: Server, requests: list[tuple[bytes, dict]], n: int
) -> dict[str, Any]:
    """Statements of ``n`` page requests sent one after another (after 3 that reach the pooled connections)."""
    with httpx.Client(timeout=30) as client:
        for body, headers in requests[:3]:
            client.post(server.base_url + "/graphql", content=body, headers=headers)
        time.sleep(0.2)
        offset = log.offset()
        for body, headers in itertools.islice(itertools.cycle(requests), n):
            response = client.post(server.base_url + "/graphql", content=body, headers=headers)
            if response.status_code != 200 or b'"errors"' in response.content:
                raise RuntimeError(f"{server.name}: {response.status_code} {response.text[:500]}")
    return log.since(offset, n, server.app_name)


# --- load generator (runs in its own process) ----------------------------------------------------------------


def _tree_cpu(pid: int | None) -> float:
    """User + system CPU seconds of a process and all its descendants, the exited ones included (0 if gone).

    Live descendants are summed; descendants that have exited and been reaped (Postgres backends of closed
    connections, e.g. a pool's overflow connections) are in their parent's ``children_user/system``.
    """
    if not pid:
        return 0.0
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        with contextlib.suppress(psutil.Error):
            t = proc.cpu_times()
            total += t.user + t.system + t.children_user + t.children_system
    return total


class _Connection:
    """One keep-alive HTTP/1.1 connection that replays pre-built requests (Content-Length or chunked replies)."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def send(self, raw: bytes) -> tuple[int, bytes]:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length, chunked, close = None, False, False
        for line in head.split(b"\r\n")[1:]:
            key, _, value = line.partition(b":")
            key = key.strip().lower()
            if key == b"content-length":
                length = int(value)
            elif key == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif key == b"connection":
                close = b"close" in value.lower()
        if chunked:
            parts = []
            while size := int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16):
                parts.append(await self.reader.readexactly(size + 2))
            await self.reader.readuntil(b"\r\n")
            body = b"".join(p[:-2] for p in parts)
        else:
            body = await self.reader.readexactly(length or 0)
        if close:
            self.close()
        return status, body


async def _load(spec: dict[str, Any]) -> dict[str, Any]:
    requests: list[bytes] = spec["requests"]
    expected: int = spec["expected_edges"]
    counter = itertools.count()
    conns = [_Connection(spec["port"]) for _ in range(spec["concurrency"])]

    async def phase(seconds: float, latencies: list[float] | None) -> tuple[int, int, float]:
        done = errors = 0
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(conn: _Connection) -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                raw = requests[next(counter) % len(requests)]
                t = time.perf_counter()
                try:
                    status, body = await conn.send(raw)
                    ok = status == 200 and b'"errors"' not in body and body.count(b'"cursor"') == expected
                except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    conn.close()
                    ok = False
                if latencies is not None:
                    latencies.append((time.perf_counter() - t) * 1000.0)
                done += 1
                errors += not ok

        await asyncio.wait_for(asyncio.gather(*(worker(c) for c in conns)), seconds + 60)
        return done, errors, time.perf_counter() - start

    # Postgres sessions started during the run (pg_stat_database.sessions): a pool that opens and closes
    # connections under load shows here. Read on a connection of this process, before and after.
    stats = await asyncpg.connect(
        user="postgres", host=spec["socket_dir"], database="postgres", server_settings={"application_name": CONTROL_APP}
    )

    async def sessions() -> int:
        return await stats.fetchval("SELECT sessions FROM pg_stat_database WHERE datname = $1", spec["database"])

    try:
        await asyncio.gather(*(c.open() for c in conns))
        warm_done, warm_errors, _ = await phase(spec["warmup_s"], None)
        me = psutil.Process()
        sessions0 = await sessions()
        server0, pg0, me0 = _tree_cpu(spec["server_pid"]), _tree_cpu(spec["postmaster_pid"]), _tree_cpu(me.pid)
        latencies: list[float] = []
        done, errors, elapsed = await phase(spec["duration_s"], latencies)
        server1, pg1, me1 = _tree_cpu(spec["server_pid"]), _tree_cpu(spec["postmaster_pid"]), _tree_cpu(me.pid)
        await asyncio.sleep(0.05)
        sessions1 = await sessions()
    finally:
        for c in conns:
            c.close()
        await stats.close()
    return {
        "warmup_requests": warm_done,
        "warmup_errors": warm_errors,
        "requests": done,
        "errors": errors,
        "elapsed_s": elapsed,
        "latencies_ms": latencies,
        "server_cpu_s": server1 - server0,
        "postgres_cpu_s": pg1 - pg0,
        "loadgen_cpu_s": me1 - me0,
        "postgres_sessions": sessions1 - sessions0,
    }


def run_load(spec: dict[str, Any]) -> dict[str, Any]:
    """Entry point of the load-generator process (uvloop when installed)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_load(spec))
    return uvloop.run(_load(spec))


def _ready() -> int:
    return os.getpid()


# --- the run -------------------------------------------------------------------------------------------------


@dataclass
class Plan:
    firsts: tuple[int, ...]
    concurrencies: tuple[int, ...]
    rounds: int
    warmup_s: float
    duration_s: float

    @property
    def runs(self) -> int:
        return len(self.firsts) * len(self.concurrencies) * self.rounds * 2

    @property
    def seconds(self) -> float:
        return self.runs * (self.warmup_s + self.duration_s + 0.3)


def summarise_run(raw: dict[str, Any]) -> dict[str, Any]:
    n = max(raw["requests"], 1)
    lat = percentiles(raw.pop("latencies_ms")) if raw["requests"] else {}
    return {
        "requests": raw["requests"],
        "errors": raw["errors"],
        "warmup_requests": raw["warmup_requests"],
        "warmup_errors": raw["warmup_errors"],
        "elapsed_s": round(raw["elapsed_s"], 3),
        "requests_per_s": round(raw["requests"] / raw["elapsed_s"], 1),
        "latency_ms": lat,
        "server_cpu_ms_per_request": round(raw["server_cpu_s"] * 1000 / n, 3),
        "postgres_cpu_ms_per_request": round(raw["postgres_cpu_s"] * 1000 / n, 3),
        "loadgen_cpu_ms_per_request": round(raw["loadgen_cpu_s"] * 1000 / n, 3),
        "loadgen_cores": round(raw["loadgen_cpu_s"] / raw["elapsed_s"], 2),
        "postgres_sessions_per_request": round(raw["postgres_sessions"] / n, 3),
    }


def _mmm(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": round(statistics.median(values), 3), "max": max(values)}


def summarise_cell(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, rs in runs.items():
        out[name] = {
            "requests_per_s": _mmm([r["requests_per_s"] for r in rs]),
            "p50_ms": _mmm([r["latency_ms"]["p50"] for r in rs]),
            "p99_ms": _mmm([r["latency_ms"]["p99"] for r in rs]),
            "server_cpu_ms_per_request": _mmm([r["server_cpu_ms_per_request"] for r in rs]),
            "postgres_cpu_ms_per_request": _mmm([r["postgres_cpu_ms_per_request"] for r in rs]),
            "loadgen_cpu_ms_per_request": _mmm([r["loadgen_cpu_ms_per_request"] for r in rs]),
            "postgres_sessions_per_request": _mmm([r["postgres_sessions_per_request"] for r in rs]),
            "errors": sum(r["errors"] + r["warmup_errors"] for r in rs),
        }
    pairs = list(zip(runs[A], runs[B], strict=True))
    ratios = [a["requests_per_s"] / b["requests_per_s"] for a, b in pairs if b["requests_per_s"]]
    cpu = [
        (a["server_cpu_ms_per_request"] + a["postgres_cpu_ms_per_request"])
        / (b["server_cpu_ms_per_request"] + b["postgres_cpu_ms_per_request"])
        for a, b in pairs
    ]
    out["ratio"] = {
        "requests_per_s": {k: round(v, 3) for k, v in _mmm(ratios).items()} if ratios else None,
        "p50_ms": round(out[A]["p50_ms"]["median"] / out[B]["p50_ms"]["median"], 2),
        "cpu_per_request_server_plus_postgres": {k: round(v, 2) for k, v in _mmm(cpu).items()},
    }
    return out


@dataclass
class Session:
    """Both servers on one database, and the load-generator process that drives them."""

    bench_db: BenchDatabase
    servers: dict[str, Server]
    pool: Any  # multiprocessing.pool.Pool of one spawned process
    requests: dict[str, dict[int, list[tuple[bytes, dict]]]]  # server → page size → (body, headers) per company
    matches_per_company: int

    def __post_init__(self) -> None:
        self.raw = {
            (name, first): [raw_http(server.port, body, headers) for body, headers in self.requests[name][first]]
            for name, server in self.servers.items()
            for first in self.requests[name]
        }

    async def load(self, name: str, first: int, concurrency: int, warmup_s: float, duration_s: float) -> dict:
        """One run of the load generator against one server (in its process; this loop waits in a thread)."""
        spec = {
            "port": self.servers[name].port,
            "requests": self.raw[name, first],
            "expected_edges": min(first, self.matches_per_company),
            "concurrency": concurrency,
            "warmup_s": warmup_s,
            "duration_s": duration_s,
            "server_pid": self.servers[name].pid,
            "postmaster_pid": self.bench_db.postmaster_pid,
            "socket_dir": self.bench_db.socket_dir,
            "database": self.bench_db.name,
        }
        pending = self.pool.apply_async(run_load, (spec,))
        return await asyncio.to_thread(pending.get, warmup_s + duration_s + 90)

    async def count_statements(self, firsts: tuple[int, ...], n: int, concurrency: int, seconds: float) -> dict:
        """Statements per page request as Postgres logs them: ``n`` sequential requests, then ``seconds`` at
        ``concurrency`` (where a pool that opens connections under load shows its set-up statements)."""
        out: dict[str, Any] = {
            "method": "log_statement = all; 'statement:' and 'execute …:' lines of the bench database",
            "sequential": {},
            "under_load": {"concurrency": concurrency, "seconds": seconds},
        }
        async with statement_logging(self.bench_db) as log:
            if log is None:
                out["error"] = "server log not found"
                return out
            for name, first in itertools.product(self.servers, firsts):
                out["sequential"].setdefault(name, {})[str(first)] = await asyncio.to_thread(
                    sequential_statements, log, self.servers[name], self.requests[name][first], n
                )
                offset = log.offset()
                raw = await self.load(name, first, concurrency, 0.0, seconds)
                if raw["errors"]:
                    raise RuntimeError(f"{name}: {raw['errors']} errors under load with statement logging")
                out["under_load"].setdefault(name, {})[str(first)] = await asyncio.to_thread(
                    log.since, offset, raw["requests"], self.servers[name].app_name
                )
        return out

    async def measure(self, plan: Plan) -> list[dict[str, Any]]:
        """For each page size and concurrency: ``plan.rounds`` rounds of A then B (A B A B)."""
        cells = []
        for first, concurrency in itertools.product(plan.firsts, plan.concurrencies):
            runs: dict[str, list[dict[str, Any]]] = {A: [], B: []}
            for round_no in range(1, plan.rounds + 1):
                for name in (A, B):
                    outcome = summarise_run(await self.load(name, first, concurrency, plan.warmup_s, plan.duration_s))
                    runs[name].append({"round": round_no, **outcome})
                    print(
                        f"  first: {first:<3} c={concurrency:<3} round {round_no} {name:<12} "
                        f"{outcome['requests_per_s']:>7.1f} req/s  p50 {outcome['latency_ms']['p50']:.1f} ms  "
                        f"errors {outcome['errors']}",
                        file=sys.stderr,
                        flush=True,
                    )
            cells.append({"first": first, "concurrency": concurrency, "runs": runs, "summary": summarise_cell(runs)})
        return cells


async def run(args: argparse.Namespace) -> dict[str, Any]:
    plan = Plan((20, 100), tuple(args.concurrency), args.rounds, args.warmup, args.duration)
    if plan.seconds > args.budget:
        raise SystemExit(f"the plan needs ~{plan.seconds:.0f} s of load, over --budget {args.budget} s")
    peer = ensure_postgraphile()
    results: dict[str, Any] = {
        "benchmark": "peer",
        "command": "python -m bench.peer " + " ".join(sys.argv[1:]),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "versions": peer,
        "plan": {**plan.__dict__, "order": "A B A B: for each page size and concurrency, rounds of A then B"},
        "queries": {A: PAGE_QUERY.strip(), B: POSTGRAPHILE_QUERY.strip()},
    }
    async with temp_embedded_database() as bench_db:
        dataset = await load_frontend_dataset(
            bench_db, args.grants, args.companies, matches_per_company=args.matches, seed=args.seed
        )
        jobs = dataset.pop("jobs")
        jobs = [jobs[i] for i in np.random.default_rng(args.seed).permutation(len(jobs))]
        results["dataset"] = dataset
        results["postgres"] = await bench_db.server_facts()
        tokens = tokens_for({tenant for _, tenant in jobs})
        reqs = {name: {first: page_requests(name, jobs, tokens, first) for first in plan.firsts} for name in (A, B)}
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-peer-"))
        servers: dict[str, Server] = {}
        # One spawned load-generator process for every run, its imports paid before the first one.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply_async(_ready).get(timeout=120)
            try:
                servers[A] = start_matchgraph(bench_db, log_dir)
                servers[B] = start_postgraphile(bench_db, log_dir)
                results["startup_s"] = {name: s.startup_s for name, s in servers.items()}
                results["same_data"] = {
                    str(first): check_same_pages(servers, {n: reqs[n][first] for n in servers}, jobs, first, 5)
                    for first in plan.firsts
                }
                session = Session(bench_db, servers, pool, reqs, dataset["matches_per_company"])
                results["statements_per_request"] = await session.count_statements(
                    plan.firsts, args.statement_requests, max(plan.concurrencies), args.statement_load
                )
                results["cells"] = await session.measure(plan)
            finally:
                for server in servers.values():
                    server.stop()
                shutil.rmtree(log_dir, ignore_errors=True)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


# --- report --------------------------------------------------------------------------------------------------


def _cell(s: dict[str, float], bold: bool = False) -> str:
    mid = fmt_ms(s["median"])
    return f"{fmt_ms(s['min'])} / {f'**{mid}**' if bold else mid} / {fmt_ms(s['max'])}"


def _statements(st: dict[str, Any] | None) -> str:
    if not st:
        return "–"
    kinds = st["by_kind_per_request"]
    extra = ", ".join(f"{k} {v:g}" for k, v in kinds.items() if k != "query")
    return f"{st['per_request']:g}" + (f" ({kinds.get('query', 0):g} queries, {extra})" if extra else "")


def render_markdown(results: dict[str, Any]) -> str:
    d, v, p = results["dataset"], results["versions"], results["plan"]
    stmts = results["statements_per_request"]
    loaded = stmts["under_load"]
    out = [
        f"### Matchgraph vs PostGraphile {v['postgraphile']} (node {v['node']}): {d['grants']:,} grants, "
        f"{d['companies']} companies × {d['matches_per_company']} matches ({d['grant_matches']:,} rows)\n",
        f"{p['rounds']} round(s) × {p['duration_s']:g} s per server and cell, each after {p['warmup_s']:g} s of "
        "warm-up, alternating A B A B. Cells with three figures are min / median / max over the rounds; single "
        "figures are medians.\n",
    ]
    rows = []
    for cell in results["cells"]:
        s = cell["summary"]
        for name in (A, B):
            x = s[name]
            rows.append(
                [
                    f"first: {cell['first']}",
                    cell["concurrency"],
                    name,
                    _cell(x["requests_per_s"], bold=True),
                    _cell(x["p50_ms"]),
                    _cell(x["p99_ms"]),
                    fmt_ms(x["server_cpu_ms_per_request"]["median"]),
                    fmt_ms(x["postgres_cpu_ms_per_request"]["median"]),
                    _statements(stmts["sequential"].get(name, {}).get(str(cell["first"]))),
                    f"{x['postgres_sessions_per_request']['median']:.2f}",
                    fmt_ms(x["loadgen_cpu_ms_per_request"]["median"]),
                    x["errors"],
                ]
            )
    out.append(
        markdown_table(
            [
                "page",
                "concurrency",
                "server",
                "req/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms / req",
                "Postgres CPU ms / req",
                "SQL statements / req",
                "new Postgres sessions / req",
                "load-gen CPU ms / req",
                "errors",
            ],
            rows,
        )
    )
    out.append("\nRatio Matchgraph / PostGraphile (per round pair, min / median / max):\n")
    ratio_rows = []
    for cell in results["cells"]:
        r = cell["summary"]["ratio"]
        rps = r["requests_per_s"]
        cpu = r["cpu_per_request_server_plus_postgres"]
        ratio_rows.append(
            [
                f"first: {cell['first']}",
                cell["concurrency"],
                f"{rps['min']:.2f} / **{rps['median']:.2f}×** / {rps['max']:.2f}" if rps else "–",
                f"{r['p50_ms']:.1f}×",
                f"{cpu['min']:.1f} / {cpu['median']:.1f}× / {cpu['max']:.1f}",
            ]
        )
    out.append(
        markdown_table(
            ["page", "concurrency", "req/s", "p50 latency", "CPU per request (server + Postgres)"], ratio_rows
        )
    )
    same = results["same_data"]
    out.append(
        "\nSame data, checked before measuring: "
        + ", ".join(
            f"first: {k} → {x['companies_compared']} companies × {x['rows_per_page']} rows identical"
            for k, x in same.items()
        )
        + f". Start-up: Matchgraph {results['startup_s'][A]} s, PostGraphile {results['startup_s'][B]} s."
    )
    if "error" in stmts:
        out.append(f"SQL statements not counted: {stmts['error']}.")
    else:
        parts = [
            f"{name} first: {first} → {_statements(st)} with {st['sessions_opened']} sessions opened in "
            f"{st['requests']} requests"
            for name in (A, B)
            for first, st in loaded.get(name, {}).items()
        ]
        left_out = Counter()
        for part in ("sequential", "under_load"):
            for name in (A, B):
                for st in stmts[part].get(name, {}).values():
                    left_out.update(st["left_out_other_applications"])
        if left_out:
            out.append(
                "Statements of other applications during the counts (left out): "
                + "; ".join(f"{k} ×{v}" for k, v in left_out.most_common(5))
                + "."
            )
        out.append(
            "SQL statements per request as Postgres logs them (`log_statement = all`: simple-protocol queries plus "
            "executions of prepared statements). The table shows sequential requests; under load "
            f"(concurrency {loaded['concurrency']}, {loaded['seconds']:g} s): " + "; ".join(parts) + "."
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny dataset, 1 round × 2 s per run (< 60 s)")
    parser.add_argument("--grants", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--matches", type=int, default=100, help="stored matches per company")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=2, help="A B rounds per page size and concurrency")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.5, help="warm-up seconds before each run")
    parser.add_argument("--statement-requests", type=int, default=20, help="sequential requests, statement count")
    parser.add_argument("--statement-load", type=float, default=2.0, help="seconds under load, statement count")
    parser.add_argument("--budget", type=float, default=240.0, help="refuse plans with more seconds of load")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/peer-*.json")
    args = parser.parse_args(argv)
    if args.quick:
        args.grants, args.companies, args.rounds, args.duration, args.warmup = 300, 20, 1, 2.0, 0.3
        args.statement_requests, args.statement_load = 5, 0.5
    started = time.perf_counter()
    results = asyncio.run(run(args))
    results["wall_s"] = round(time.perf_counter() - started, 1)
    print(render_markdown(results))
    print(f"Load average (1/5/15 min) at start {results['load_average_start']}, end {results['load_average_end']}.")
    if not args.no_save:
        print(f"Results: {write_results('peer', results)}")
    print(f"(wall time {results['wall_s']} s)")
    return 1 if any(c["summary"][name]["errors"] for c in results["cells"] for name in (A, B)) else 0


if __name__ == "__main__":
    raise SystemExit(main())
