"""Shared benchmark helpers: a throw-away embedded Postgres, fast COPY loaders, statistics, reports.

Everything talks to the embedded server over its Unix socket; nothing leaves the machine.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import platform
import shutil
import signal
import socket
import statistics
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import numpy as np

from graphql_app.db.embedded import ensure_database, socket_dir_of, start_embedded_postgres
from graphql_app.db.models import EMBEDDING_DIMENSION
from graphql_app.db.setup import migrate
from graphql_app.demo.dataset import DemoCompany, DemoGrant
from graphql_app.matching.breakdown import COMPONENTS, SUB_SCORES, figure_rows
from graphql_app.matching.grants import CARBON_FOCUS_MULTIPLIER, COMPONENT_WEIGHTS

RESULTS_DIR = Path(__file__).resolve().parent / "results"
#: The grants' HNSW index: no query measured here uses it (scoring computes the exact cosine of every
#: pre-filtered candidate), and maintaining it row by row would make a 100k COPY take minutes.
GRANTS_HNSW_INDEX = "ix_grants_embedding_hnsw"
GRANTS_HNSW_DDL = f"CREATE INDEX {GRANTS_HNSW_INDEX} ON grants USING hnsw (embedding vector_cosine_ops)"

logging.getLogger("pgserver").setLevel(logging.WARNING)


# --- timing and statistics -----------------------------------------------------------------------------------


def ms_since(start: float) -> float:
    return (time.perf_counter() - start) * 1000.0


class GcPauses:
    """Time spent in the cyclic garbage collector while active, and collections per generation."""

    def __enter__(self) -> GcPauses:
        self.ms = 0.0
        self.collections = [0, 0, 0]
        self._start = 0.0
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._start = time.perf_counter()
        else:
            self.ms += ms_since(self._start)
            self.collections[info["generation"]] += 1


def summary(values: Sequence[float]) -> dict[str, float]:
    """min / median / max / mean of timings (ms), rounded for reports."""
    if not values:
        return {"n": 0}
    return {
        "n": len(values),
        "min": round(min(values), 3),
        "median": round(statistics.median(values), 3),
        "max": round(max(values), 3),
        "mean": round(statistics.fmean(values), 3),
    }


def percentiles(values: Sequence[float], qs: Iterable[float] = (50, 90, 99)) -> dict[str, float]:
    arr = np.asarray(values, dtype=np.float64)
    out = {f"p{int(q)}": round(float(np.percentile(arr, q)), 3) for q in qs}
    out["max"] = round(float(arr.max()), 3)
    out["min"] = round(float(arr.min()), 3)
    return out


def fmt_ms(value: float | None) -> str:
    if value is None:
        return "–"
    if value >= 100:
        return f"{value:,.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def mmm(s: dict[str, float]) -> str:
    """``min / median / max`` of a summary, for a table cell."""
    return f"{fmt_ms(s['min'])} / {fmt_ms(s['median'])} / {fmt_ms(s['max'])}"


def markdown_table(headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# --- machine and results -------------------------------------------------------------------------------------


def machine_info() -> dict[str, Any]:
    cpu_model = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gib = None
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
                break
    except OSError:
        pass
    return {
        "nproc": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "cpu_model": cpu_model,
        "ram_gib": ram_gib,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "platform": platform.platform(),
    }


def write_results(name: str, data: dict[str, Any], out_dir: Path = RESULTS_DIR) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}-{date.today().isoformat()}.json"
    path.write_text(json.dumps(data, indent=2, default=str) + "\n")
    return path


def report(
    results: dict[str, Any], render: Callable[[dict[str, Any]], str], started: float, results_name: str | None
) -> None:
    """How every benchmark ends: its wall time recorded, its figures and load averages printed, and the results
    saved as ``bench/results/<results_name>-<date>.json`` (not when ``results_name`` is None)."""
    results["wall_s"] = round(time.perf_counter() - started, 1)
    print(render(results))
    print(f"Load average (1/5/15 min) at start {results['load_average_start']}, end {results['load_average_end']}.")
    if results_name is not None:
        print(f"Results: {write_results(results_name, results)}")
    print(f"(wall time {results['wall_s']} s)")


# --- the database --------------------------------------------------------------------------------------------


@dataclass
class BenchDatabase:
    """A migrated database on a running embedded server."""

    socket_dir: str
    name: str
    url: str  # SQLAlchemy (asyncpg) URL, as ``ensure_database`` returns it
    postmaster_pid: int | None = None

    async def connect(self) -> asyncpg.Connection:
        """A raw asyncpg connection with pgvector's codec registered (for COPY)."""
        from pgvector.asyncpg import register_vector

        conn = await asyncpg.connect(user="postgres", host=self.socket_dir, database=self.name)
        await register_vector(conn)
        return conn

    async def server_facts(self) -> dict[str, Any]:
        conn = await asyncpg.connect(user="postgres", host=self.socket_dir, database=self.name)
        try:
            return {
                "postgres": await conn.fetchval("SHOW server_version"),
                "pgvector": await conn.fetchval("SELECT extversion FROM pg_extension WHERE extname = 'vector'"),
                "shared_buffers": await conn.fetchval("SHOW shared_buffers"),
                "work_mem": await conn.fetchval("SHOW work_mem"),
            }
        finally:
            await conn.close()


def postmaster_pid_of(data_dir: Path) -> int | None:
    pid_file = data_dir / "pgdata" / "postmaster.pid"
    try:
        return int(pid_file.read_text().splitlines()[0])
    except (OSError, ValueError, IndexError):
        return None


@asynccontextmanager
async def temp_embedded_database(name: str = "matchgraph") -> AsyncIterator[BenchDatabase]:
    """A fresh embedded Postgres in a temp dir (start → ensure_database → migrate), stopped and removed after."""
    # pgserver keeps its inter-process lock under $XDG_RUNTIME_DIR and re-creates it at exit; left to
    # `start_embedded_postgres` it would land inside (and resurrect) the temp dir removed below.
    runtime = Path(tempfile.gettempdir()) / f"mg-bench-runtime-{os.getuid()}"
    runtime.mkdir(mode=0o700, exist_ok=True)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime))
    data_dir = Path(tempfile.mkdtemp(prefix="mg-bench-"))
    try:
        server_uri = await asyncio.to_thread(start_embedded_postgres, data_dir)
        url = await ensure_database(server_uri, name)
        await migrate(url)
        yield BenchDatabase(socket_dir_of(server_uri), name, url, postmaster_pid_of(data_dir))
    finally:
        try:
            import pgserver

            pgdata = (data_dir / "pgdata").resolve()
            if (pgdata / "PG_VERSION").exists():
                await asyncio.to_thread(pgserver.get_server(pgdata).cleanup)
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)


@asynccontextmanager
async def database_on_server(socket_dir: str, name: str) -> AsyncIterator[BenchDatabase]:
    """A fresh migrated database on an already running server (the test session's), dropped after."""
    conn = await asyncpg.connect(user="postgres", host=socket_dir, database="postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    url = f"postgresql+asyncpg://postgres@/{name}?host={socket_dir}"
    try:
        await migrate(url)
        yield BenchDatabase(socket_dir, name, url)
    finally:
        conn = await asyncpg.connect(user="postgres", host=socket_dir, database="postgres")
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


# --- synthetic data ------------------------------------------------------------------------------------------


def seeded_uuids(rng: np.random.Generator, n: int) -> list[uuid.UUID]:
    """``n`` deterministic version-4 UUIDs."""
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64).astype(np.uint64)
    return [uuid.UUID(int=(int(hi) << 64 | int(lo)), version=4) for hi, lo in raw]


def random_unit_vectors(rng: np.random.Generator, n: int, dim: int = EMBEDDING_DIMENSION) -> np.ndarray:
    """Unit-norm float32 vectors sharing a common direction, so cosines spread over ~0–0.6 like real text.

    Each vector is ``normalise(a·u + noise)`` with one shared unit vector ``u`` and ``a`` uniform in [0, 1.2].
    """
    common = np.random.default_rng(1234).standard_normal(dim).astype(np.float32)
    common /= np.linalg.norm(common)
    out = np.empty((n, dim), dtype=np.float32)
    chunk = 20_000
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        noise = rng.standard_normal((m, dim), dtype=np.float32) / np.float32(np.sqrt(dim))
        weight = rng.uniform(0.0, 1.2, size=(m, 1)).astype(np.float32)
        block = weight * common + noise
        block /= np.linalg.norm(block, axis=1, keepdims=True)
        out[start : start + m] = block
    return out


def deadline_of(days: int | None, now: datetime) -> datetime | None:
    """Like the demo seed: the end of the day ``days`` from ``now``."""
    if days is None:
        return None
    return (now + timedelta(days=days)).replace(hour=23, minute=59, second=0, microsecond=0)


GRANT_COLUMNS = (
    "id",
    "title",
    "description",
    "funder",
    "countries",
    "nace_codes",
    "sizes",
    "carbon_categories",
    "certifications",
    "taxonomy_objectives",
    "is_carbon_focused",
    "deadline",
    "amount_min",
    "amount_max",
    "currency",
    "url",
    "embedding",
)

COMPANY_COLUMNS = (
    "id",
    "tenant_id",
    "name",
    "country",
    "nace_codes",
    "size",
    "employees",
    "description",
    "carbon_categories",
    "certifications",
    "taxonomy_objectives",
    "embedding",
)

MATCH_COLUMNS = (
    "id",
    "tenant_id",
    "company_id",
    "grant_id",
    "score",
    "semantic_score",
    "rule_score",
    "carbon_score",
    "collaborative_score",
    "recency_score",
    "match_reasons",
    "breakdown_figures",
    "carbon_bonus_applied",
    "days_left_at_scoring",
    "is_viewed",
    "is_saved",
    "is_dismissed",
    "viewed_at",
)


@dataclass
class LoadedGrants:
    ids: list[uuid.UUID]
    deadlines: list[datetime | None]
    open_indices: np.ndarray  # indices of grants whose deadline has not passed at ``now``
    seconds: dict[str, float]


async def drop_grants_hnsw_index(conn: asyncpg.Connection) -> None:
    await conn.execute(f"DROP INDEX IF EXISTS {GRANTS_HNSW_INDEX}")


async def rebuild_grants_hnsw_index(conn: asyncpg.Connection) -> float:
    """Recreate the grants' HNSW index (as the migration defines it); returns seconds taken."""
    start = time.perf_counter()
    await conn.execute("SET maintenance_work_mem = '1GB'")
    await conn.execute(GRANTS_HNSW_DDL)
    await conn.execute("RESET maintenance_work_mem")
    return time.perf_counter() - start


async def copy_grants(
    conn: asyncpg.Connection, demo: Sequence[DemoGrant], now: datetime, rng: np.random.Generator
) -> LoadedGrants:
    """COPY the demo grants with random unit embeddings (the HNSW index must be dropped first for speed)."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    n = len(demo)
    ids = seeded_uuids(rng, n)
    vectors = random_unit_vectors(rng, n)
    deadlines = [deadline_of(g.deadline_in_days, now) for g in demo]
    seconds["embeddings_and_records"] = time.perf_counter() - t

    def records():
        for i, g in enumerate(demo):
            yield (
                ids[i],
                g.title,
                g.description,
                g.funder,
                list(g.countries),
                list(g.nace_codes),
                list(g.sizes),
                list(g.carbon_categories),
                list(g.certifications),
                list(g.taxonomy_objectives),
                g.is_carbon_focused,
                deadlines[i],
                None if g.amount_min is None else Decimal(g.amount_min),
                None if g.amount_max is None else Decimal(g.amount_max),
                g.currency,
                g.url,
                vectors[i],
            )

    t = time.perf_counter()
    await conn.copy_records_to_table("grants", records=records(), columns=GRANT_COLUMNS)
    seconds["copy"] = time.perf_counter() - t
    open_indices = np.array([i for i, d in enumerate(deadlines) if d is None or d >= now], dtype=np.int64)
    return LoadedGrants(ids, deadlines, open_indices, seconds)


async def copy_companies(
    conn: asyncpg.Connection,
    demo: Sequence[DemoCompany],
    rng: np.random.Generator,
    tenant: str | None = None,
    vectors: np.ndarray | None = None,
) -> list[tuple[uuid.UUID, str]]:
    """COPY companies (tenant from the demo data unless ``tenant`` is given); returns ``(id, tenant)`` pairs."""
    ids = seeded_uuids(rng, len(demo))
    if vectors is None:
        vectors = random_unit_vectors(rng, len(demo))
    rows = [
        (
            ids[i],
            tenant or c.tenant,
            c.name,
            c.country,
            list(c.nace_codes),
            c.size,
            c.employees,
            c.description,
            list(c.carbon_categories),
            list(c.certifications),
            list(c.taxonomy_objectives),
            vectors[i],
        )
        for i, c in enumerate(demo)
    ]
    await conn.copy_records_to_table("companies", records=rows, columns=COMPANY_COLUMNS)
    return [(row[0], row[1]) for row in rows]


_REASONS = (
    "Country match: DE",
    "Open to all countries",
    "NACE code overlap: M71",
    "Size eligible: SMALL",
    "Carbon category match: renewable_energy",
    "Carbon category match: energy_efficiency",
    "ISO_14001 certification recognized",
    "EU taxonomy objective: CLIMATE_CHANGE_MITIGATION",
    "High semantic similarity",
    "Deadline in 12 days",
    "Rolling deadline",
    "Saved by 3 similar companies",
)


def synthetic_match_rows(
    rng: np.random.Generator,
    company_id: uuid.UUID,
    tenant: str,
    grant_ids: Sequence[uuid.UUID],
    now: datetime,
    *,
    p_viewed: float = 0.2,
    p_saved: float = 0.1,
    p_dismissed: float = 0.05,
) -> list[tuple]:
    """``grant_matches`` rows for one company: random scores in [0, 1], 2–5 reasons, a small breakdown."""
    n = len(grant_ids)
    ids = seeded_uuids(rng, n)
    comps = rng.random((n, 6))
    viewed = rng.random(n) < p_viewed
    saved = rng.random(n) < p_saved
    dismissed = (rng.random(n) < p_dismissed) & ~saved
    figures = breakdown_figure_rows(np.round(comps[:, 1:], 6), rng.random((n, 6)), np.round(comps[:, 0], 6))
    rows = []
    for i, gid in enumerate(grant_ids):
        score, sem, rule, carbon, collab, rec = (round(float(x), 6) for x in comps[i])
        picks = rng.choice(len(_REASONS), size=int(rng.integers(2, 6)), replace=False)
        is_viewed = bool(viewed[i] or saved[i] or dismissed[i])
        rows.append(
            (
                ids[i],
                tenant,
                company_id,
                gid,
                score,
                sem,
                rule,
                carbon,
                collab,
                rec,
                [_REASONS[j] for j in sorted(picks)],
                figures[i],
                False,
                None,
                is_viewed,
                bool(saved[i]),
                bool(dismissed[i]),
                now if is_viewed else None,
            )
        )
    return rows


def breakdown_figure_rows(
    components: np.ndarray, sub_scores: np.ndarray, total: np.ndarray, weighted_total: np.ndarray | None = None
) -> list[list[float]]:
    """Stored breakdown figures (``graphql_app.matching.breakdown.figure_rows``) of synthetic matches:
    ``components`` n×5 (in ``COMPONENTS`` order), ``sub_scores`` n×6 (in ``SUB_SCORES`` order), ``total`` n."""
    weights = np.array([COMPONENT_WEIGHTS[name] for name in COMPONENTS])
    weighted = components @ weights if weighted_total is None else weighted_total
    return figure_rows(
        dict(zip(COMPONENTS, components.T, strict=True)),
        COMPONENT_WEIGHTS,
        dict(zip(SUB_SCORES, sub_scores.T, strict=True)),
        weighted,
        CARBON_FOCUS_MULTIPLIER,
        total,
    ).tolist()


async def copy_grant_matches(conn: asyncpg.Connection, rows: Sequence[tuple]) -> None:
    await conn.copy_records_to_table("grant_matches", records=rows, columns=MATCH_COLUMNS)


async def vacuum_analyze(conn: asyncpg.Connection, *tables: str) -> None:
    for table in tables:
        await conn.execute(f"VACUUM (ANALYZE) {table}")


async def table_sizes(conn: asyncpg.Connection, *tables: str) -> dict[str, str]:
    return {t: await conn.fetchval("SELECT pg_size_pretty(pg_total_relation_size($1::regclass))", t) for t in tables}


def utc_now() -> datetime:
    return datetime.now(UTC)


# --- server subprocesses -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ServerSubprocess:
    """A server started at once in a subprocess on 127.0.0.1 (its output in ``<log_dir>/<name>.log``), ready
    once ``wait_ready(probe)`` returns; ``stop()`` ends it (and only it)."""

    def __init__(self, name: str, argv: list[str], env: dict[str, str], port: int, log_dir: Path) -> None:
        self.name = name
        self.port = port
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_dir / f"{name}.log"
        self.startup_s: float | None = None
        self._log = self.log_path.open("wb")
        self._started = time.perf_counter()
        self.proc = subprocess.Popen(argv, env=env, stdout=self._log, stderr=subprocess.STDOUT, cwd=log_dir)

    def wait_ready(self, probe: Callable[[httpx.Client, str], bool], timeout: float = 180.0) -> float:
        """Seconds from start until ``probe(client, base_url)`` held; raises if the process exits or times out."""
        deadline = self._started + timeout
        with httpx.Client(timeout=5) as client:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{self.log_tail()}")
                with suppress(httpx.HTTPError):
                    if probe(client, self.base_url):
                        break
                if time.perf_counter() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.name} not ready after {timeout} s:\n{self.log_tail()}")
                time.sleep(0.2)
        self.startup_s = round(time.perf_counter() - self._started, 2)
        return self.startup_s

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


def healthz_ok(client: httpx.Client, base_url: str) -> bool:
    return client.get(base_url + "/healthz").status_code == 200


def readyz_ok(client: httpx.Client, base_url: str) -> bool:
    """Ready including the embedding model: a ``serve`` that preloads it in the background has finished (its CPU
    would otherwise count in the first measured requests)."""
    return client.get(base_url + "/readyz").status_code == 200
