"""Side by side with PostGraphile 4 (issue 5): the frontend's queries against both servers, one database.

Installs PostGraphile 4 from the npm registry into ``bench/peer/node_modules`` (git-ignored) if it is missing,
loads a dataset into a throw-away embedded Postgres, and starts on it (one process each, 127.0.0.1):

- ``matchgraph``: ``matchgraph serve --no-worker`` with the response cache off (compiled query plans on);
- ``postgraphile``: PostGraphile 4's CLI, default inflection, production settings;
- ``matchgraph-cache`` (unless ``--no-cache``): a second ``matchgraph serve --no-worker`` with
  ``MATCHGRAPH_RESPONSE_CACHE=true``. It connects as its own Postgres role (``matchgraph_cache``, a superuser
  like ``postgres``) because Matchgraph sets ``application_name`` itself, so the statement log can tell the two
  Matchgraph processes apart.

Workloads (``--workloads``, all by default), each checked to return the same data on every server before
measuring (ids in order, scores, reasons, flags, grant and company fields, ``totalCount``, ``hasNextPage``):

- ``page-20`` / ``page-100``: the frontend page, the first 20 / 100 grant matches of a company by score with
  every score field, reasons, flags, the grant and the company (Matchgraph ``grantMatches(companyId:,
  first:)``, PostGraphile ``allGrantMatches(condition: {companyId, tenantId}, orderBy: [SCORE_DESC, ID_ASC])``);
- ``deep-20``: company → its first 20 matches → grant (Matchgraph ``company(id:) { grantMatches(first:) }``,
  PostGraphile ``companyById(id:) { grantMatchesByCompanyId(first:, orderBy:) }``);
- ``org-page-20``: the organisation's talent page, a job's first 20 matches by belonging probability with tier,
  status, member interest, belonging levels, the member and the job (Matchgraph ``jobMatches(jobId:, first:)``
  as ORG_ADMIN of the job's tenant, PostGraphile ``allJobMatches(condition: {jobId, tenantId}, orderBy:
  [BELONGING_PROBABILITY_DESC, ID_ASC])`` with ``memberByMemberId``/``jobByJobId`` and the raw component
  scores, banded into levels with Matchgraph's thresholds for the comparison). It cycles over ``--org-jobs``
  (100) jobs with at least 20 matches, drawn with the seed; every one of them is checked before measuring.

Measured, per workload, concurrency and server, by a separate load-generator process that replays one
pre-built request per company or job (shuffled order, cycled from the start every run), alternating the
servers A B C A B C: requests/s, p50 / p99 latency, CPU per request of the server process and of Postgres, the
load generator's own CPU, and errors (wrong status, GraphQL errors or a wrong number of edges). Before that, the
SQL statements one request costs, as Postgres logs them (``log_statement = all``): sequential requests and a
short run under load; for ``matchgraph-cache`` a cold pass (requests it has not seen: misses) and the same
requests again (hits). Reported: the ratios Matchgraph / PostGraphile and Matchgraph-cache / PostGraphile, and
how many distinct requests the load generator cycles over (what drives the cache's hit rate).

Datasets (``--scale``): ``frontend`` (default) is ``bench.frontend_page``'s (``--grants`` 5,000, ``--companies``
200 × ``--matches`` 100 matches on open grants) plus ``bench.dataset.load_talent_dataset``'s talent tables
(``--jobs`` 200, ``--members`` 5,000, matches per job log-normal around ``--job-matches`` 40, at most 4× it);
``full`` is ``bench.dataset``'s full scale (100k grants, 10k companies × 100 matches = 1M rows, plus 1k jobs ×
100 matches; HNSW indexes left dropped, the queries do not use them). ``--quick`` with ``--scale full`` loads
``DatasetSpec.small()`` instead (20 jobs × 20 matches).

    python -m bench.peer                      # frontend scale, 4 workloads × c=10/50 × 3 servers × 2 rounds × 10 s
                                              # (~11 min)
    python -m bench.peer --scale full         # the same on bench.dataset's full scale (plus its load time)
    python -m bench.peer --no-cache --workloads page-20 --concurrency 10
    python -m bench.peer --workloads org-page-20 --results-name peer-org-page   # the talent page alone
    python -m bench.peer --quick              # tiny dataset, 1 round × 1.5 s (~90 s); not part of the test suite
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
from typing import Any, ClassVar

import asyncpg
import httpx
import numpy as np
import orjson
import psutil

from bench.common import (
    BenchDatabase,
    ServerSubprocess,
    fmt_ms,
    free_port,
    machine_info,
    markdown_table,
    percentiles,
    temp_embedded_database,
    utc_now,
    write_results,
)
from bench.dataset import TalentSpec, load_talent_dataset
from bench.frontend_page import (
    JWT_SECRET,
    PAGE_QUERY,
    SEED,
    load_frontend_dataset,
    matchgraph_command,
    request_body,
    tokens_for,
)
from graphql_app.matching.belonging import component_level

PEER_DIR = Path(__file__).resolve().parent / "peer"
POSTGRAPHILE_CLI = PEER_DIR / "node_modules" / "postgraphile" / "cli.js"
A, B, C = "matchgraph", "postgraphile", "matchgraph-cache"
SERVER_ORDER = (A, B, C)
CONTROL_APP = "mg-peer-bench"  # application_name of this script's own connections (left out of the count)
CACHE_ROLE = "matchgraph_cache"  # the Postgres role matchgraph-cache connects as (told apart in the log)
#: Appears once per match node in every workload's response, on both servers: the load generator's edge count.
EDGE_MARKER = b'"semanticScore"'

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

#: Company → its matches → grant. Matchgraph lists only matches on open grants (deadline NULL or ahead); the
#: datasets put matches on open grants only, so PostGraphile's unfiltered list is the same one.
DEEP_QUERY = """
query Deep($id: ID!, $first: Int!) {
  company(id: $id) {
    id name country size
    grantMatches(first: $first) {
      totalCount
      edges { node {
        id score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
        isViewed isSaved isDismissed
        grant { id title funder deadline isCarbonFocused amountMax currency }
      } }
    }
  }
}"""

POSTGRAPHILE_DEEP_QUERY = """
query Deep($id: UUID!, $first: Int!) {
  companyById(id: $id) {
    id name country size
    grantMatchesByCompanyId(first: $first, orderBy: [SCORE_DESC, ID_ASC]) {
      totalCount
      edges { node {
        id score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
        isViewed isSaved isDismissed
        grant: grantByGrantId { id title funder deadline isCarbonFocused amountMax currency }
      } }
    }
  }
}"""

#: The organisation's talent page: a job's first matches by belonging probability, with tier, status, interest,
#: the belonging levels, the member and the job.
ORG_PAGE_QUERY = """
query OrgPage($jobId: ID!, $first: Int!) {
  jobMatches(jobId: $jobId, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id qualityTier status memberInterest
      belongingLevels { authenticity acceptance complementarity }
      member { id displayName headline }
      job { id title }
    } }
  }
}"""

#: The same page in PostGraphile: the job's matches in its tenant, best first (probability, then id, as
#: Matchgraph's keyset order), member and job through the foreign keys. PostGraphile has no belonging levels:
#: it returns the component scores, which ``OrgPage.normalise`` bands with Matchgraph's thresholds.
POSTGRAPHILE_ORG_QUERY = """
query OrgPage($jobId: UUID!, $tenantId: String!, $first: Int!) {
  allJobMatches(
    condition: { jobId: $jobId, tenantId: $tenantId }
    orderBy: [BELONGING_PROBABILITY_DESC, ID_ASC]
    first: $first
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      id qualityTier status memberInterest
      authenticity acceptance complementarity
      member: memberByMemberId { id displayName headline }
      job: jobByJobId { id title }
    } }
  }
}"""


# --- workloads -----------------------------------------------------------------------------------------------


def _when(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


def _match_row(n: dict[str, Any]) -> tuple:
    """Every field of a match node but its company, in comparable types."""
    g = n["grant"]
    return (
        n["id"],
        *(n[k] for k in ("score", "semanticScore", "ruleScore", "carbonScore", "collaborativeScore")),
        n["recencyScore"],
        tuple(n["matchReasons"]),
        n["isViewed"],
        n["isSaved"],
        n["isDismissed"],
        (g["id"], g["title"], g["funder"], _when(g["deadline"]), g["isCarbonFocused"], g["currency"]),
        None if g["amountMax"] is None else Decimal(str(g["amountMax"])),
    )


def _company_row(c: dict[str, Any]) -> tuple:
    return (c["id"], c["name"], c["country"], str(c["size"]).upper())


@dataclass(frozen=True)
class Workload:
    """One query shape, as each server spells it: ``first`` matches of a company, on a page or under it."""

    #: What one request is about: the load generator cycles over a list of (id, tenant) of this kind.
    subject: ClassVar[str] = "company"
    #: Appears once per match node in the workload's response on every server (the edge count).
    edge_marker: ClassVar[bytes] = EDGE_MARKER
    #: Subjects whose responses are compared across the servers before measuring (None: every one).
    same_data_checks: ClassVar[int | None] = 5

    name: str
    first: int
    deep: bool = False

    def query(self, kind: str) -> str:
        """The query text for a server of ``kind`` (``matchgraph`` or ``postgraphile``)."""
        if self.deep:
            return DEEP_QUERY if kind == A else POSTGRAPHILE_DEEP_QUERY
        return PAGE_QUERY if kind == A else POSTGRAPHILE_QUERY

    def body(self, kind: str, company_id: str, tenant: str) -> bytes:
        if self.deep:
            return orjson.dumps({"query": self.query(kind), "variables": {"id": company_id, "first": self.first}})
        if kind == A:
            return request_body(company_id, self.first)
        variables = {"companyId": company_id, "tenantId": tenant, "first": self.first}
        return orjson.dumps({"query": POSTGRAPHILE_QUERY, "variables": variables})

    def expected_edges(self, matches_per_company: int) -> int:
        return min(self.first, matches_per_company)

    def normalise(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A server-independent view of the response: every field asked for, in comparable types."""
        data = payload["data"]
        if self.deep:
            company = data["company" if kind == A else "companyById"]
            page = company["grantMatches" if kind == A else "grantMatchesByCompanyId"]
            rows = [_match_row(e["node"]) for e in page["edges"]]
            return {"company": _company_row(company), "totalCount": page["totalCount"], "rows": rows}
        page = data["grantMatches" if kind == A else "allGrantMatches"]
        rows = [(*_match_row(e["node"]), _company_row(e["node"]["company"])) for e in page["edges"]]
        return {"totalCount": page["totalCount"], "hasNextPage": page["pageInfo"]["hasNextPage"], "rows": rows}


@dataclass(frozen=True)
class OrgPage:
    """The organisation's talent page: ``first`` matches of a job, best first, with member and job."""

    subject: ClassVar[str] = "job"
    edge_marker: ClassVar[bytes] = b'"qualityTier"'
    same_data_checks: ClassVar[int | None] = None  # every job the load cycles over (100 by default)

    name: str
    first: int

    def query(self, kind: str) -> str:
        return ORG_PAGE_QUERY if kind == A else POSTGRAPHILE_ORG_QUERY

    def body(self, kind: str, job_id: str, tenant: str) -> bytes:
        variables: dict[str, Any] = {"jobId": job_id, "first": self.first}
        if kind != A:
            variables["tenantId"] = tenant
        return orjson.dumps({"query": self.query(kind), "variables": variables})

    def expected_edges(self, fewest_matches: int) -> int:
        return min(self.first, fewest_matches)

    def normalise(self, kind: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Ids in order, tier, status, interest, the three levels (PostGraphile's scores banded), member, job."""
        page = payload["data"]["jobMatches" if kind == A else "allJobMatches"]
        rows = []
        for edge in page["edges"]:
            n = edge["node"]
            parts = ("authenticity", "acceptance", "complementarity")
            levels = (
                tuple(n["belongingLevels"][k] for k in parts)
                if kind == A
                else tuple(component_level(n[k]) for k in parts)
            )
            m, j = n["member"], n["job"]
            rows.append(
                (
                    n["id"],
                    n["qualityTier"],
                    n["status"],
                    n["memberInterest"],
                    levels,
                    (m["id"], m["displayName"], m["headline"]),
                    (j["id"], j["title"]),
                )
            )
        return {"totalCount": page["totalCount"], "hasNextPage": page["pageInfo"]["hasNextPage"], "rows": rows}


WORKLOADS: dict[str, Workload | OrgPage] = {
    w.name: w
    for w in (
        Workload("page-20", 20),
        Workload("page-100", 100),
        Workload("deep-20", 20, deep=True),
        OrgPage("org-page-20", 20),
    )
}


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


# --- the servers ---------------------------------------------------------------------------------------------


class Server(ServerSubprocess):
    """A server subprocess, started at once; ``kind`` is which GraphQL schema it serves (``A`` or ``B``); its
    Postgres sessions carry ``app_name`` and log in as ``db_user``."""

    def __init__(
        self,
        name: str,
        kind: str,
        argv: list[str],
        env: dict[str, str],
        port: int,
        log_dir: Path,
        probe: Callable[[httpx.Client, str], bool],
        *,
        app_name: str,
        db_user: str = "postgres",
    ) -> None:
        super().__init__(name, argv, env, port, log_dir)
        self.kind = kind
        self.app_name = app_name
        self.db_user = db_user
        self.probe = probe

    def wait_ready(self, timeout: float = 180.0) -> float:  # type: ignore[override]
        return super().wait_ready(self.probe, timeout)


def start_matchgraph(bench_db: BenchDatabase, log_dir: Path, *, cache: bool = False) -> Server:
    """``matchgraph serve --no-worker``, as bench.frontend_page runs it (access log off). Without ``cache`` the
    response cache is off (compare executions with PostGraphile, which has none); with it, the server is
    ``matchgraph-cache``: cache on, logged in as ``CACHE_ROLE`` (create it first, see ``create_cache_role``)."""
    from graphql_app.db.engine import SERVER_SETTINGS

    port = free_port()
    url = f"postgresql+asyncpg://{CACHE_ROLE}@/{bench_db.name}?host={bench_db.socket_dir}" if cache else bench_db.url
    env = {
        **os.environ,
        "MATCHGRAPH_DATABASE_URL": url,
        "MATCHGRAPH_JWT_SECRET": JWT_SECRET,
        "MATCHGRAPH_DATA_DIR": str(log_dir),
        "MATCHGRAPH_LOG_LEVEL": "warning",
        "MATCHGRAPH_RESPONSE_CACHE": "true" if cache else "false",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }
    argv = [*matchgraph_command(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    return Server(
        C if cache else A,
        A,
        argv,
        env,
        port,
        log_dir,
        lambda c, url: c.get(url + "/healthz").status_code == 200,
        app_name=SERVER_SETTINGS["application_name"],  # Matchgraph sets it itself, whatever the URL says
        db_user=CACHE_ROLE if cache else "postgres",
    )


async def create_cache_role(bench_db: BenchDatabase) -> None:
    """The throw-away cluster's second login role, for matchgraph-cache (trust auth on the Unix socket)."""
    conn = await _control(bench_db)
    try:
        await conn.execute(f"CREATE ROLE {CACHE_ROLE} LOGIN SUPERUSER")
    finally:
        await conn.close()


def cache_settings() -> dict[str, Any]:
    """The response cache's TTL and size as matchgraph-cache runs it (env or the defaults)."""
    from graphql_app.response_cache import ResponseCache
    from graphql_app.settings import Settings

    ttl = float(os.environ.get("MATCHGRAPH_RESPONSE_CACHE_TTL") or Settings.response_cache_ttl)
    return {"ttl_s": ttl, "max_entries": ResponseCache().max_entries}


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

    return Server(B, B, argv, env, port, log_dir, probe, app_name="postgraphile")


# --- requests ------------------------------------------------------------------------------------------------


def workload_requests(
    kind: str, workload: Workload | OrgPage, subjects: list[tuple[str, str]], tokens: dict[str, str]
) -> list[tuple[bytes, dict[str, str]]]:
    """(body, headers) of the workload's request for every subject (company or job, with its tenant), for a
    server of ``kind``; Matchgraph's carry an ORG_ADMIN token of the subject's tenant."""
    out = []
    for subject_id, tenant in subjects:
        headers = {"Content-Type": "application/json"}
        if kind == A:
            headers["Authorization"] = f"Bearer {tokens[tenant]}"
        out.append((workload.body(kind, subject_id, tenant), headers))
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


def check_same_data(
    servers: dict[str, Server],
    requests: dict[str, list[tuple[bytes, dict]]],
    subjects: list,
    workload: Workload | OrgPage,
    expected_edges: int,
    n: int | None,
    cached_n: int = 5,
) -> dict[str, Any]:
    """Every server returns the same data (ids in the same order, every other field, totals) for the first ``n``
    subjects (companies or jobs; None: all), with ``expected_edges`` matches each.

    ``matchgraph-cache`` takes part for the first ``cached_n`` subjects only: the statement count's cold pass
    needs requests at the end of the cycle that it has not cached yet."""
    compared, rows = 0, 0
    with httpx.Client(timeout=60) as client:
        for k in range(len(subjects) if n is None else min(n, len(subjects))):
            pages = {}
            for name, server in servers.items():
                if name == C and k >= cached_n:
                    continue
                body, headers = requests[name][k]
                response = client.post(server.base_url + "/graphql", content=body, headers=headers)
                payload = response.json()
                if response.status_code != 200 or payload.get("errors"):
                    raise RuntimeError(f"{name} failed {workload.name}: {response.status_code} {payload}")
                pages[name] = workload.normalise(server.kind, payload)
                if len(pages[name]["rows"]) != expected_edges:
                    raise RuntimeError(
                        f"{name}: {len(pages[name]['rows'])} rows for {workload.name}, not {expected_edges}"
                    )
            reference = pages[B]
            for name, page in pages.items():
                if page == reference:
                    continue
                a, b = page, reference
                diff = next((i for i, (x, y) in enumerate(zip(a["rows"], b["rows"], strict=False)) if x != y), None)
                raise RuntimeError(
                    f"{name} and {B} disagree on {workload.subject} {subjects[k][0]} ({workload.name}): totalCount "
                    f"{a['totalCount']} / {b['totalCount']}, company {a.get('company')} / {b.get('company')}, rows "
                    f"{len(a['rows'])} / {len(b['rows'])}, first difference at row {diff}:"
                    f"\n{a['rows'][diff] if diff is not None else ''}\n{b['rows'][diff] if diff is not None else ''}"
                )
            compared += 1
            rows = len(reference["rows"])
    return {
        "subject": workload.subject,
        "compared": compared,
        "rows_per_response": rows,
        "servers": list(servers),
        "identical": True,
        **({"compared_on_cache_server": min(compared, cached_n)} if C in servers else {}),
    }


# --- SQL statements per request, as Postgres logs them -------------------------------------------------------

_CONNECTION_LINE = re.compile(
    r"connection authorized: user=(?P<user>\S+) database=(?P<db>\S+) application_name=(?P<app>\S+)"
)
_LOG_LINE = re.compile(
    r"db=(?P<db>[^|]*)\|user=(?P<user>[^|]*)\|app=(?P<app>[^|]*)\| LOG:  (?:statement|execute [^:]*): (?P<sql>.*)"
)
LOG_LINE_PREFIX = "%m [%p] db=%d|user=%u|app=%a| "


def _kind(sql: str) -> str:
    word = sql.lstrip("(").split(None, 1)[0].upper().rstrip(";") if sql.strip() else ""
    if word in {"SELECT", "WITH"}:
        return "query"
    if word in {"BEGIN", "START", "COMMIT", "ROLLBACK", "END"}:
        return "transaction"
    return "other"


async def _control(bench_db: BenchDatabase, database: str = "postgres") -> asyncpg.Connection:
    app = {"application_name": CONTROL_APP}
    return await asyncpg.connect(user="postgres", host=bench_db.socket_dir, database=database, server_settings=app)


class StatementLog:
    """The server log while ``log_statement = 'all'`` is on: statements of the bench database after an offset."""

    def __init__(self, path: Path, database: str) -> None:
        self.path = path
        self.database = database

    def offset(self) -> int:
        return self.path.stat().st_size

    def since(self, offset: int, requests: int, user: str, app: str) -> dict[str, Any]:
        """Statements sessions of role ``user`` with application_name ``app`` ran since ``offset``, per request
        and by kind (other sessions' statements are listed under ``left_out_other_applications``)."""
        time.sleep(0.3)  # let the backends' last lines reach the file
        with self.path.open("rb") as f:
            f.seek(offset)
            text = f.read().decode(errors="replace")
        kinds: Counter[str] = Counter()
        samples: Counter[str] = Counter()
        sessions, others = 0, Counter()
        for line in text.splitlines():
            c = _CONNECTION_LINE.search(line)
            if c and c["db"] == self.database and c["app"] == app and c["user"] == user:
                sessions += 1
            m = _LOG_LINE.search(line)
            if not m or m["db"] != self.database or m["app"] == CONTROL_APP:
                continue
            if m["app"] != app or m["user"] != user:  # another server, idle meanwhile
                others[f"{m['user']}/{m['app']}: {' '.join(m['sql'].split())[:60]}"] += 1
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
    ``connection authorized`` lines count the sessions the servers open. Lines carry the role and the
    application_name, which tell the servers apart.
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
        await conn.execute(f"ALTER SYSTEM SET log_line_prefix = '{LOG_LINE_PREFIX}'")
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


def _send_all(client: httpx.Client, server: Server, requests: list[tuple[bytes, dict]]) -> None:
    for body, headers in requests:
        response = client.post(server.base_url + "/graphql", content=body, headers=headers)
        if response.status_code != 200 or b'"errors"' in response.content:
            raise RuntimeError(f"{server.name}: {response.status_code} {response.text[:500]}")


def sequential_statements(
    log: StatementLog, server: Server, requests: list[tuple[bytes, dict]], n: int, *, cached: bool = False
) -> dict[str, Any]:
    """Statements of ``n`` requests sent one after another (after 3 that reach the pooled connections).

    With ``cached`` (a server with the response cache): the last ``n`` requests of the cycle, which nothing
    sent before (the same-data check and the warm-up use the first ones, if there are enough companies): the
    result is the cold pass (misses), with ``warm``: the same ``n`` requests again (hits)."""
    with httpx.Client(timeout=60) as client:
        _send_all(client, server, requests[:3])
        time.sleep(0.2)
        offset = log.offset()
        if not cached:
            _send_all(client, server, list(itertools.islice(itertools.cycle(requests), n)))
            return log.since(offset, n, server.db_user, server.app_name)
        chosen = requests[-n:]
        _send_all(client, server, chosen)
        cold = log.since(offset, len(chosen), server.db_user, server.app_name)
        offset = log.offset()
        _send_all(client, server, chosen)
        warm = log.since(offset, len(chosen), server.db_user, server.app_name)
    return {**cold, "pass": "cold (misses)", "warm": {**warm, "pass": "warm (the same requests again: hits)"}}


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
    marker: bytes = spec["edge_marker"]
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
                    ok = status == 200 and b'"errors"' not in body and body.count(marker) == expected
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
    workloads: tuple[str, ...]
    servers: tuple[str, ...]
    concurrencies: tuple[int, ...]
    rounds: int
    warmup_s: float
    duration_s: float
    statement_load_s: float

    @property
    def runs(self) -> int:
        return len(self.workloads) * len(self.concurrencies) * self.rounds * len(self.servers)

    @property
    def seconds(self) -> float:
        """Seconds of load: the measured runs (with their warm-up) and the statement counts (~1 s sequential)."""
        counts = len(self.workloads) * len(self.servers) * (self.statement_load_s + 1.0)
        return self.runs * (self.warmup_s + self.duration_s + 0.3) + counts


def summarise_run(raw: dict[str, Any], distinct: int) -> dict[str, Any]:
    """One run's figures. ``repeat_share``: the share of the measured requests that repeat a request sent
    earlier in the same run (the cycle of ``distinct`` requests starts at 0 every run, warm-up included),
    so the response cache's hit rate in the run is at least about that (more with entries of earlier runs)."""
    n = max(raw["requests"], 1)
    lat = percentiles(raw.pop("latencies_ms")) if raw["requests"] else {}
    first, end = raw["warmup_requests"], raw["warmup_requests"] + raw["requests"]
    repeats = max(0, end - max(first, distinct))
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
        "repeat_share": round(repeats / n, 4),
    }


def _mmm(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": round(statistics.median(values), 3), "max": max(values)}


def summarise_cell(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per server min / median / max over the rounds; ``ratio``: every other server against PostGraphile, per
    round (the runs of one round are next to each other in time)."""
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
            "repeat_share": _mmm([r["repeat_share"] for r in rs]),
            "errors": sum(r["errors"] + r["warmup_errors"] for r in rs),
        }
    out["ratio"] = {}
    for name in runs:
        if name == B or B not in runs:
            continue
        pairs = list(zip(runs[name], runs[B], strict=True))
        ratios = [a["requests_per_s"] / b["requests_per_s"] for a, b in pairs if b["requests_per_s"]]
        cpu = [
            (a["server_cpu_ms_per_request"] + a["postgres_cpu_ms_per_request"])
            / (b["server_cpu_ms_per_request"] + b["postgres_cpu_ms_per_request"])
            for a, b in pairs
            if b["server_cpu_ms_per_request"] + b["postgres_cpu_ms_per_request"]
        ]
        out["ratio"][name] = {
            "requests_per_s": {k: round(v, 3) for k, v in _mmm(ratios).items()} if ratios else None,
            "p50_ms": round(out[name]["p50_ms"]["median"] / out[B]["p50_ms"]["median"], 2),
            "cpu_per_request_server_plus_postgres": {k: round(v, 2) for k, v in _mmm(cpu).items()} if cpu else None,
        }
    return out


@dataclass
class Session:
    """The servers on one database, and the load-generator process that drives them."""

    bench_db: BenchDatabase
    servers: dict[str, Server]
    pool: Any  # multiprocessing.pool.Pool of one spawned process
    requests: dict[str, dict[str, list[tuple[bytes, dict]]]]  # server → workload → (body, headers) per subject
    expected_edges: dict[str, int]  # workload → matches in every response

    def __post_init__(self) -> None:
        self.raw = {
            (name, workload): [raw_http(server.port, body, headers) for body, headers in self.requests[name][workload]]
            for name, server in self.servers.items()
            for workload in self.requests[name]
        }

    def distinct(self, workload: str) -> int:
        """Distinct requests the load generator cycles over (one per company or job)."""
        return len(next(iter(self.requests.values()))[workload])

    async def load(self, name: str, workload: str, concurrency: int, warmup_s: float, duration_s: float) -> dict:
        """One run of the load generator against one server (in its process; this loop waits in a thread)."""
        spec = {
            "port": self.servers[name].port,
            "requests": self.raw[name, workload],
            "expected_edges": self.expected_edges[workload],
            "edge_marker": WORKLOADS[workload].edge_marker,
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

    async def count_statements(self, workloads: tuple[str, ...], n: int, concurrency: int, seconds: float) -> dict:
        """Statements per request as Postgres logs them: ``n`` sequential requests, then ``seconds`` at
        ``concurrency`` (where a pool that opens connections under load shows its set-up statements; for
        matchgraph-cache the statements per request there are its misses per request)."""
        out: dict[str, Any] = {
            "method": "log_statement = all; 'statement:' and 'execute …:' lines of the bench database, attributed "
            "to a server by role and application_name",
            "sequential": {},
            "under_load": {"concurrency": concurrency, "seconds": seconds},
        }
        async with statement_logging(self.bench_db) as log:
            if log is None:
                out["error"] = "server log not found"
                return out
            for workload, name in itertools.product(workloads, self.servers):
                server = self.servers[name]
                out["sequential"].setdefault(name, {})[workload] = await asyncio.to_thread(
                    sequential_statements, log, server, self.requests[name][workload], n, cached=name == C
                )
                offset = log.offset()
                raw = await self.load(name, workload, concurrency, 0.0, seconds)
                if raw["errors"]:
                    raise RuntimeError(f"{name}: {raw['errors']} errors under load with statement logging")
                out["under_load"].setdefault(name, {})[workload] = await asyncio.to_thread(
                    log.since, offset, raw["requests"], server.db_user, server.app_name
                )
        return out

    async def measure(self, plan: Plan) -> list[dict[str, Any]]:
        """For each workload and concurrency: ``plan.rounds`` rounds of every server in turn (A B C A B C)."""
        cells = []
        for workload, concurrency in itertools.product(plan.workloads, plan.concurrencies):
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in plan.servers}
            for round_no in range(1, plan.rounds + 1):
                for name in plan.servers:
                    raw = await self.load(name, workload, concurrency, plan.warmup_s, plan.duration_s)
                    outcome = summarise_run(raw, self.distinct(workload))
                    runs[name].append({"round": round_no, **outcome})
                    print(
                        f"  {workload:<8} c={concurrency:<3} round {round_no} {name:<16} "
                        f"{outcome['requests_per_s']:>7.1f} req/s  p50 {outcome['latency_ms']['p50']:.1f} ms  "
                        f"errors {outcome['errors']}",
                        file=sys.stderr,
                        flush=True,
                    )
            cells.append(
                {"workload": workload, "concurrency": concurrency, "runs": runs, "summary": summarise_cell(runs)}
            )
        return cells


async def load_bench_dataset(bench_db: BenchDatabase, args: argparse.Namespace) -> tuple[dict, list]:
    """The dataset of ``args.scale``: its description (counts, timings, sizes) and ``(company id, tenant)``.

    Frontend scale: ``bench.frontend_page``'s grant side, then ``bench.dataset``'s talent tables
    (``TalentSpec``: ``--jobs`` jobs, ``--members`` members, matches per job spread around ``--job-matches``)."""
    if args.scale == "frontend":
        dataset = await load_frontend_dataset(
            bench_db, args.grants, args.companies, matches_per_company=args.matches, seed=args.seed
        )
        companies = dataset.pop("jobs")  # bench.frontend_page calls its (company id, tenant) pairs "jobs"
        spec = TalentSpec(jobs=args.jobs, members=args.members, median_matches_per_job=args.job_matches, seed=args.seed)
        conn = await bench_db.connect()
        try:
            talent = await load_talent_dataset(conn, spec, now=utc_now())
        finally:
            await conn.close()
        del talent["jobs"]
        loader = "bench.frontend_page.load_frontend_dataset + bench.dataset.load_talent_dataset"
        return {"scale": "frontend", "loader": loader, **dataset, "talent": talent}, companies
    from bench.dataset import DatasetSpec, load_dataset

    spec = DatasetSpec.small(seed=args.seed) if args.quick else DatasetSpec.full(seed=args.seed)
    conn = await bench_db.connect()
    try:
        loaded = await load_dataset(conn, spec, now=utc_now(), rebuild_hnsw=False)
    finally:
        await conn.close()
    counts = loaded["counts"]
    dataset = {
        "scale": "full",
        "loader": "bench.dataset.load_dataset(DatasetSpec." + ("small" if args.quick else "full") + "())",
        "spec": loaded["spec"],
        "grants": counts["grants"],
        "open_grants": loaded["open_grants"],
        "companies": counts["companies"],
        "matches_per_company": spec.matches_per_company,
        "grant_matches": counts["grant_matches"],
        "counts": counts,
        "timings_s": loaded["timings_s"],
        "table_sizes": loaded["table_sizes"],
        "hnsw_indexes": loaded["hnsw_indexes"],
    }
    return dataset, loaded["companies"]


async def org_page_jobs(bench_db: BenchDatabase, min_matches: int, count: int, seed: int) -> dict[str, Any]:
    """``count`` distinct jobs with at least ``min_matches`` matches (fewer if fewer qualify), drawn with
    ``seed`` from all that qualify, in a shuffled order: ``jobs`` as ``(job id, tenant)``, how many qualified,
    and the chosen jobs' match counts (min / median / max)."""
    conn = await _control(bench_db, bench_db.name)
    try:
        rows = await conn.fetch(
            "SELECT j.id::text AS id, j.tenant_id, count(*) AS n FROM jobs j JOIN job_matches m ON m.job_id = j.id "
            "GROUP BY j.id HAVING count(*) >= $1 ORDER BY j.id",
            min_matches,
        )
    finally:
        await conn.close()
    chosen = [rows[i] for i in np.random.default_rng(seed).permutation(len(rows))[:count]]
    counts = sorted(r["n"] for r in chosen)
    return {
        "jobs": [(r["id"], r["tenant_id"]) for r in chosen],
        "eligible": len(rows),
        "min_matches": min_matches,
        "matches_per_job": {
            "min": counts[0] if counts else 0,
            "median": statistics.median(counts) if counts else 0,
            "max": counts[-1] if counts else 0,
        },
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    names = (A, B, C) if args.cache else (A, B)
    workloads = tuple(dict.fromkeys(args.workloads))
    plan = Plan(workloads, names, tuple(args.concurrency), args.rounds, args.warmup, args.duration, args.statement_load)
    if plan.seconds > args.budget:
        raise SystemExit(f"the plan needs ~{plan.seconds:.0f} s of load, over --budget {args.budget:g} s")
    peer = ensure_postgraphile()
    results: dict[str, Any] = {
        "benchmark": "peer",
        "command": "python -m bench.peer " + " ".join(sys.argv[1:]),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "versions": peer,
        "plan": {
            **plan.__dict__,
            "load_seconds": round(plan.seconds),
            "order": "for each workload and concurrency, rounds of " + " then ".join(names),
        },
        "queries": {w: {A: WORKLOADS[w].query(A).strip(), B: WORKLOADS[w].query(B).strip()} for w in workloads},
    }
    async with temp_embedded_database() as bench_db:
        dataset, companies = await load_bench_dataset(bench_db, args)
        companies = [companies[i] for i in np.random.default_rng(args.seed).permutation(len(companies))]
        # The talent page's jobs: those with a full page of matches, at most --org-jobs of them.
        org_first = max((WORKLOADS[w].first for w in workloads if WORKLOADS[w].subject == "job"), default=20)
        picked = await org_page_jobs(bench_db, org_first, args.org_jobs, args.seed)
        subjects = {"company": companies, "job": picked.pop("jobs")}
        dataset["org_page_jobs"] = {"jobs": len(subjects["job"]), **picked}
        for w in workloads:
            if not subjects[WORKLOADS[w].subject]:
                raise SystemExit(f"{w}: no {WORKLOADS[w].subject} in the dataset qualifies")
        # Fewest matches any subject the load cycles over has: every response carries min(first, that).
        fewest = {"company": dataset["matches_per_company"], "job": picked["matches_per_job"]["min"]}
        expected = {w: WORKLOADS[w].expected_edges(fewest[WORKLOADS[w].subject]) for w in workloads}
        results["dataset"] = dataset
        results["postgres"] = await bench_db.server_facts()
        tokens = tokens_for({tenant for pairs in subjects.values() for _, tenant in pairs})
        kinds = {A: A, B: B, C: A}
        reqs = {
            name: {
                w: workload_requests(kinds[name], WORKLOADS[w], subjects[WORKLOADS[w].subject], tokens)
                for w in workloads
            }
            for name in names
        }
        if args.cache:
            await create_cache_role(bench_db)
            results["cache"] = {
                **cache_settings(),
                "role": CACHE_ROLE,
                "distinct_requests_per_workload": {w: len(subjects[WORKLOADS[w].subject]) for w in workloads},
                "cycle": "one request per company (per job for org-page), the same shuffled order every run, "
                "from its start",
            }
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-peer-"))
        servers: dict[str, Server] = {}
        # One spawned load-generator process for every run, its imports paid before the first one.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply_async(_ready).get(timeout=120)
            try:
                # All servers start at once (start-up times overlap), then each is waited for.
                servers[A] = start_matchgraph(bench_db, log_dir)
                servers[B] = start_postgraphile(bench_db, log_dir)
                if args.cache:
                    servers[C] = start_matchgraph(bench_db, log_dir, cache=True)
                for server in servers.values():
                    await asyncio.to_thread(server.wait_ready)
                results["startup_s"] = {name: s.startup_s for name, s in servers.items()}
                results["same_data"] = {
                    w: check_same_data(
                        servers,
                        {n: reqs[n][w] for n in servers},
                        subjects[WORKLOADS[w].subject],
                        WORKLOADS[w],
                        expected[w],
                        WORKLOADS[w].same_data_checks,
                    )
                    for w in workloads
                }
                session = Session(bench_db, servers, pool, reqs, expected)
                results["statements_per_request"] = await session.count_statements(
                    workloads, args.statement_requests, max(plan.concurrencies), args.statement_load
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
    text = f"{st['per_request']:g}" + (f" ({kinds.get('query', 0):g} queries, {extra})" if extra else "")
    if "warm" in st:
        return f"{text} miss / {st['warm']['per_request']:g} hit"
    return text


def _dataset_line(d: dict[str, Any]) -> str:
    line = (
        f"{d['grants']:,} grants ({d['open_grants']:,} open), {d['companies']:,} companies × "
        f"{d['matches_per_company']} matches ({d['grant_matches']:,} rows)"
    )
    if d["scale"] == "full":
        c = d["counts"]
        line = (
            f"`{d['loader']}`, seed {d['spec']['seed']}: {line}; also {c['jobs']:,} jobs, {c['members']:,} members, "
            f"{c['job_matches']:,} job matches; HNSW indexes {', '.join(sorted(set(d['hnsw_indexes'].values())))}"
        )
    else:
        line = f"frontend scale (`{d['loader']}`, seed {d.get('talent', {}).get('spec', {}).get('seed', SEED)}): {line}"
        if "talent" in d:
            c, per_job = d["talent"]["counts"], d["talent"]["matches_per_job"]
            line += (
                f"; talent: {c['jobs']:,} jobs, {c['members']:,} members, {c['job_matches']:,} job matches "
                f"({per_job['min']}–{per_job['max']} per job, median {per_job['median']:g})"
            )
    if "org_page_jobs" in d:
        o = d["org_page_jobs"]
        line += (
            f"; `org-page` cycles over {o['jobs']:,} of the {o['eligible']:,} jobs with ≥ {o['min_matches']} matches "
            f"({o['matches_per_job']['min']}–{o['matches_per_job']['max']} matches each)"
        )
    return line


def render_markdown(results: dict[str, Any]) -> str:
    d, v, p = results["dataset"], results["versions"], results["plan"]
    servers = p["servers"]
    stmts = results["statements_per_request"]
    loaded = stmts.get("under_load", {})
    out = [
        f"### Matchgraph vs PostGraphile {v['postgraphile']} (node {v['node']}): {_dataset_line(d)}\n",
        f"{p['rounds']} round(s) × {p['duration_s']:g} s per server and cell, each after {p['warmup_s']:g} s of "
        f"warm-up, alternating {' '.join(servers)}. Cells with three figures are min / median / max over the "
        "rounds; single figures are medians. Workloads: `page-N` is the frontend page (the first N grant matches "
        "of a company by score, every score field, reasons, flags, grant and company); `deep-20` is company → "
        "its first 20 matches → grant; `org-page-20` is the organisation's talent page (a job's first 20 matches "
        "by belonging probability with tier, status, interest, belonging levels, member and job; Matchgraph as "
        "ORG_ADMIN of the job's tenant).\n",
    ]
    if C in servers:
        cache = results["cache"]
        distinct = cache["distinct_requests_per_workload"]
        if isinstance(distinct, int):  # results of runs before org-page: one count for every workload
            distinct = {w: distinct for w in p["workloads"]}
        counts = ", ".join(f"{n:,} for {w}" for w, n in distinct.items())
        out.append(
            f"`{C}` is a second Matchgraph process with the response cache on (TTL {cache['ttl_s']:g} s, at most "
            f"{cache['max_entries']:,} entries); `{A}` has it off. The load generator cycles over "
            f"**distinct requests per workload: {counts}** (one per company, per job for `org-page`, the same order "
            "every run, from the start), so every request of a run after the first cycle repeats one the cache has "
            "seen (column *repeats*; entries from earlier runs within the TTL hit too).\n"
        )
    rows = []
    for cell in results["cells"]:
        s = cell["summary"]
        for name in servers:
            x = s[name]
            rows.append(
                [
                    cell["workload"],
                    cell["concurrency"],
                    name,
                    _cell(x["requests_per_s"], bold=True),
                    _cell(x["p50_ms"]),
                    _cell(x["p99_ms"]),
                    fmt_ms(x["server_cpu_ms_per_request"]["median"]),
                    fmt_ms(x["postgres_cpu_ms_per_request"]["median"]),
                    _statements(stmts.get("sequential", {}).get(name, {}).get(cell["workload"])),
                    f"{x['postgres_sessions_per_request']['median']:.2f}",
                    fmt_ms(x["loadgen_cpu_ms_per_request"]["median"]),
                    *([f"{x['repeat_share']['median']:.0%}" if name == C else "–"] if C in servers else []),
                    x["errors"],
                ]
            )
    out.append(
        markdown_table(
            [
                "workload",
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
                *(["repeats"] if C in servers else []),
                "errors",
            ],
            rows,
        )
    )
    out.append(f"\nRatio against PostGraphile (per round, min / median / max; {B} = 1):\n")
    ratio_rows = []
    for cell in results["cells"]:
        for name, r in cell["summary"]["ratio"].items():
            rps, cpu = r["requests_per_s"], r["cpu_per_request_server_plus_postgres"]
            ratio_rows.append(
                [
                    cell["workload"],
                    cell["concurrency"],
                    f"{name} / {B}",
                    f"{rps['min']:.2f} / **{rps['median']:.2f}×** / {rps['max']:.2f}" if rps else "–",
                    f"{r['p50_ms']:.2f}×",
                    f"{cpu['min']:.2f} / {cpu['median']:.2f}× / {cpu['max']:.2f}" if cpu else "–",
                ]
            )
    out.append(
        markdown_table(
            ["workload", "concurrency", "servers", "req/s", "p50 latency", "CPU per request (server + Postgres)"],
            ratio_rows,
        )
    )
    same = results["same_data"]
    start = ", ".join(f"{name} {s:g} s" for name, s in results["startup_s"].items())
    out.append(
        "\nSame data on every server, checked before measuring: "
        + ", ".join(
            f"{w} → {x.get('compared', x.get('companies_compared'))} "
            f"{'jobs' if x.get('subject') == 'job' else 'companies'} × {x['rows_per_response']} rows identical"
            + (
                f" ({C}: the first {x['compared_on_cache_server']})"
                if x.get("compared_on_cache_server", x.get("compared")) != x.get("compared")
                else ""
            )
            for w, x in same.items()
        )
        + f". Start-up (all at once): {start}."
    )
    if "error" in stmts:
        out.append(f"SQL statements not counted: {stmts['error']}.")
    else:
        parts = [
            f"{name} {w} → {_statements(st)} with {st['sessions_opened']} sessions opened in {st['requests']} requests"
            for name in servers
            for w, st in loaded.get(name, {}).items()
        ]
        left_out: Counter[str] = Counter()
        for part in ("sequential", "under_load"):
            for name in servers:
                for st in stmts[part].get(name, {}).values():
                    left_out.update(st["left_out_other_applications"])
                    left_out.update(st.get("warm", {}).get("left_out_other_applications", {}))
        if left_out:
            out.append(
                "Statements of other sessions during the counts (left out): "
                + "; ".join(f"{k} ×{v}" for k, v in left_out.most_common(5))
                + "."
            )
        cache_note = (
            f" For {C}, the table shows a cold pass (requests it had not seen: misses) and the same requests again "
            "(hits); under load its statements per request are its misses per request (that run has no warm-up: "
            "its first pass through the cycle misses, but for the requests the checks before it cached)."
            if C in servers
            else ""
        )
        out.append(
            "SQL statements per request as Postgres logs them (`log_statement = all`: simple-protocol queries plus "
            "executions of prepared statements; a server's lines are told apart by role and application_name). The "
            f"table shows sequential requests.{cache_note} Under load (concurrency {loaded['concurrency']}, "
            f"{loaded['seconds']:g} s): " + "; ".join(parts) + "."
        )
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.peer", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny dataset, 1 round × 1.5 s per run (~75 s)")
    parser.add_argument(
        "--scale",
        choices=("frontend", "full"),
        default="frontend",
        help="frontend: bench.frontend_page's dataset (default); full: bench.dataset's full scale (small with --quick)",
    )
    parser.add_argument("--grants", type=int, default=5000, help="--scale frontend only")
    parser.add_argument("--companies", type=int, default=200, help="--scale frontend only")
    parser.add_argument("--matches", type=int, default=100, help="stored matches per company, --scale frontend only")
    parser.add_argument("--jobs", type=int, default=200, help="talent jobs, --scale frontend only")
    parser.add_argument("--members", type=int, default=5000, help="talent members, --scale frontend only")
    parser.add_argument(
        "--job-matches", type=int, default=40, help="median matches per job (spread 1–4×), --scale frontend only"
    )
    parser.add_argument("--org-jobs", type=int, default=100, help="jobs the org-page workload cycles over")
    parser.add_argument("--workloads", nargs="+", choices=tuple(WORKLOADS), default=list(WORKLOADS))
    parser.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run matchgraph-cache (Matchgraph with MATCHGRAPH_RESPONSE_CACHE=true)",
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every server per workload and concurrency")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.5, help="warm-up seconds before each run")
    parser.add_argument("--statement-requests", type=int, default=20, help="sequential requests, statement count")
    parser.add_argument("--statement-load", type=float, default=2.0, help="seconds under load, statement count")
    parser.add_argument("--budget", type=float, default=900.0, help="refuse plans with more seconds of load")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/peer-*.json")
    parser.add_argument(
        "--results-name", default="peer", help="results file bench/results/NAME-<date>.json (default: peer)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.grants, args.companies, args.rounds, args.duration, args.warmup = 300, 20, 1, 1.5, 0.3
        args.jobs, args.members = 40, 1000
        args.statement_requests, args.statement_load = 5, 0.5
    started = time.perf_counter()
    results = asyncio.run(run(args))
    results["wall_s"] = round(time.perf_counter() - started, 1)
    print(render_markdown(results))
    print(f"Load average (1/5/15 min) at start {results['load_average_start']}, end {results['load_average_end']}.")
    if not args.no_save:
        print(f"Results: {write_results(args.results_name, results)}")
    print(f"(wall time {results['wall_s']} s)")
    servers = results["plan"]["servers"]
    return 1 if any(c["summary"][name]["errors"] for c in results["cells"] for name in servers) else 0


if __name__ == "__main__":
    raise SystemExit(main())
