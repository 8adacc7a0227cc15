"""Side by side with PostGraphile 4 and 5 (issue 5): the frontend's queries against every server, one database.

Installs the peers from the npm registry if they are missing (``npm ci`` from the committed lock files, into
git-ignored folders): PostGraphile 4 into ``bench/peer/node_modules`` (run on the system's node), PostGraphile 5
and the Node 22 it needs (the registry's ``node`` package, a linux-x64 binary) into ``bench/peer5/node_modules``.
Loads a dataset into a throw-away embedded Postgres and starts on it (one process each, 127.0.0.1 only):

- ``matchgraph``: ``matchgraph serve --no-worker`` with the response cache off (compiled query plans on);
- ``postgraphile5``: PostGraphile 5 (``bench/peer5/graphile.config.mjs``: the amber preset, the pg adaptor,
  schema ``public``, default inflection, pool of 10, no GraphiQL / explain / watch), ``NODE_ENV=production``;
- ``postgraphile4``: PostGraphile 4's CLI, default inflection, production settings, pool of 10 (default
  mutations on: the ``mutation`` workload needs ``updateGrantMatchById``);
- ``matchgraph-cache`` (unless ``--no-cache``): a second ``matchgraph serve --no-worker`` with
  ``MATCHGRAPH_RESPONSE_CACHE=true``. It connects as its own Postgres role (``matchgraph_cache``, a superuser
  like ``postgres``) because Matchgraph sets ``application_name`` itself, so the statement log can tell the two
  Matchgraph processes apart.

Both Matchgraph processes run with ``MATCHGRAPH_RATE_LIMIT`` raised out of reach (the per-caller budget of
expensive operations would refuse ``live`` and ``search`` under load; PostGraphile has no such limit). ``--peers``
picks the PostGraphile majors (both by default); a peer that cannot be installed fails the run, never skips.

Workloads (``--workloads``; all by default, all but ``live`` with ``--quick``). PostGraphile's queries use
aliases so their responses have Matchgraph's shape (``grantMatches: allGrantMatches``, ``grant:
grantByGrantId``, in 5 ``id: rowId``); v4 and v5 differ in names: v5 exposes a table's ``id`` column as
``rowId`` (``id`` is its global Node ID), so ``ID_ASC`` → ``ROW_ID_ASC``, ``companyById(id:)`` →
``companyByRowId(rowId:)``, ``updateGrantMatchById`` → ``updateGrantMatchByRowId``; the connections
(``allGrantMatches``, ``allJobMatches``), ``condition``, ``orderBy`` and the relation fields are spelled alike.

- ``page-20`` / ``page-100``: the frontend page, the first 20 / 100 grant matches of a company by score with
  every score field, reasons, flags, the grant and the company (Matchgraph ``grantMatches(companyId:, first:)``,
  PostGraphile ``allGrantMatches(condition: {companyId, tenantId}, orderBy: [SCORE_DESC, ID_ASC])``);
- ``deep-20``: company → its first 20 matches → grant (Matchgraph ``company(id:) { grantMatches(first:) }``,
  PostGraphile ``companyById(id:) { grantMatchesByCompanyId(first:, orderBy:) }``);
- ``org-page-20``: the organisation's talent page, a job's first 20 matches by belonging probability with tier,
  status, member interest, belonging levels, the member and the job (Matchgraph ``jobMatches(jobId:, first:)``
  as ORG_ADMIN of the job's tenant, PostGraphile ``allJobMatches(condition: {jobId, tenantId}, orderBy:
  [BELONGING_PROBABILITY_DESC, ID_ASC])`` with the raw component scores, banded into levels with Matchgraph's
  thresholds for the comparison). It cycles over ``--org-jobs`` (100) jobs with at least 20 matches;
- ``directive``: ``page-20`` with ``matchReasons @include(if: $withReasons)``, the flag true on even positions
  of the cycle, false on odd ones (the same document and directive on every server);
- ``mixed-roots``: ``page-20`` plus a root field the compiled plans do not cover: Matchgraph ``me { tenantId }``
  (from the token, no SQL), PostGraphile ``query { __typename }`` (its Relay root field, no SQL either): the
  cheapest extra root field each server has;
- ``mutation``: ``applyGrantMatchAction(matchId:, action:)`` on each company's best match, SAVE for every
  company then RESTORE for every company (cycled); PostGraphile ``updateGrantMatchById(input: {id,
  grantMatchPatch: {isSaved, isDismissed, updatedAt}})`` (v5 ``updateGrantMatchByRowId``): the same columns
  of the same row (Matchgraph sets ``updated_at = now()``, PostGraphile gets the request's build time). The
  rows' flags are put back after every run of it (and the workload runs last), so the reads see the loaded data;
- ``live``: ``liveGrantMatches(companyId:, first: 20)``: matches computed now from the catalogue (no
  equivalent in PostGraphile), over the first ``--live-companies`` (200) companies;
- ``search``: ``searchGrants(text:, first: 10)``: semantic search, the text embedded by the model (no
  equivalent), over 60 fixed phrases.

Before measuring, every workload's responses are compared across the servers that have it (complete
responses: every field, normalised — key order, ``1`` vs ``1.0``, timestamps and decimals parsed, PostGraphile's
component scores banded —, only the opaque cursors left out across different servers; the two Matchgraph
processes are compared with cursors), for the first 5 subjects (every job for ``org-page-20``; ``live`` and
``search``: every request, on ``matchgraph``, which also fixes how many edges each request returns). During the
measured load the load generator keeps the responses of a fixed sample of cycle positions per round
(``--sample``, 8; different positions each round), and every server's are compared in the same way: any
difference stops the run with the first differing path (``search``'s are counted instead: see ``Search``).

Measured, per workload, concurrency and server, by a separate load-generator process that replays one
pre-built request per subject (shuffled order, cycled from the start every run), alternating the servers
(matchgraph postgraphile5 postgraphile4 matchgraph-cache, those of the workload): requests/s, p50 / p99
latency, CPU per request of the server process and of Postgres (the headline efficiency figure is their sum),
the load generator's own CPU, and errors (wrong status, GraphQL errors or a wrong number of edges). Before
that, the SQL statements one request costs, as Postgres logs them (``log_statement = all``): sequential
requests and a short run under load; for ``matchgraph-cache`` a cold pass (misses) and the same requests again
(hits).

Datasets (``--scale``): ``frontend`` (default) is ``bench.frontend_page``'s (``--grants`` 5,000, ``--companies``
200 × ``--matches`` 100 matches on open grants) plus ``bench.dataset.load_talent_dataset``'s talent tables;
``full`` is ``bench.dataset``'s full scale (``DatasetSpec.small()`` with ``--quick``). Either way
``bench.dataset.hold_grants_open`` then moves every open deadline to at least 2 days after the load, at the
load's time of day, and the run refuses to measure more than a day after the load: no grant closes and no
whole-days-left count changes while it runs (a run crossing midnight used to change answers silently).

    python -m bench.peer                      # frontend scale, 9 workloads × c=10/50 × up to 4 servers × 2 rounds
                                              # × 6 s (~18 min)
    python -m bench.peer --scale full         # the same on bench.dataset's full scale (plus its load time)
    python -m bench.peer --no-cache --workloads page-20 --concurrency 10
    python -m bench.peer --workloads org-page-20 --results-name peer-org-page   # the talent page alone
    python -m bench.peer --quick              # tiny dataset, all but live, 1 round × 1.5 s (~4 min)
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
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
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
    report,
    temp_embedded_database,
    utc_now,
)
from bench.dataset import TalentSpec, hold_grants_open, load_talent_dataset
from bench.frontend_page import (
    JWT_SECRET,
    PAGE_QUERY,
    SEED,
    load_frontend_dataset,
    matchgraph_command,
    tokens_for,
)
from graphql_app.matching.belonging import component_level

PEER_DIR = Path(__file__).resolve().parent / "peer"
POSTGRAPHILE_CLI = PEER_DIR / "node_modules" / "postgraphile" / "cli.js"
PEER5_DIR = Path(__file__).resolve().parent / "peer5"
POSTGRAPHILE5_CLI = PEER5_DIR / "node_modules" / "postgraphile" / "dist" / "cli-run.js"
POSTGRAPHILE5_CONFIG = PEER5_DIR / "graphile.config.mjs"
NODE22 = PEER5_DIR / "node_modules" / "node" / "bin" / "node"

A, B, P5, C = "matchgraph", "postgraphile4", "postgraphile5", "matchgraph-cache"
#: The order of the servers in every round (a workload runs on those of them that have it).
SERVER_ORDER = (A, P5, B, C)
PEERS = {4: B, 5: P5}
POSTGRAPHILES = (P5, B)
CONTROL_APP = "mg-peer-bench"  # application_name of this script's own connections (left out of the count)
CACHE_ROLE = "matchgraph_cache"  # the Postgres role matchgraph-cache connects as (told apart in the log)
#: Matchgraph's per-caller budget of expensive operations, out of reach for the bench (PostGraphile has none).
RATE_LIMIT = "100000000/second"

# --- queries -------------------------------------------------------------------------------------------------


def _replace_once(text: str, old: str, new: str) -> str:
    if text.count(old) != 1:
        raise ValueError(f"expected one {old!r} in the query")
    return text.replace(old, new)


#: PostGraphile's names that differ between its majors (default inflection; v5 with the amber preset).
PG_NAMES: dict[str, dict[str, str]] = {
    B: {
        "id": "id",
        "pk_asc": "ID_ASC",
        "company_by_id": "companyById(id: $id)",
        "update": "updateGrantMatchById(input: { id: $matchId, grantMatchPatch: $patch })",
    },
    P5: {
        "id": "id: rowId",
        "pk_asc": "ROW_ID_ASC",
        "company_by_id": "companyByRowId(rowId: $id)",
        "update": "updateGrantMatchByRowId(input: { rowId: $matchId, grantMatchPatch: $patch })",
    },
}

#: The frontend page in PostGraphile (``%(…)s``: ``PG_NAMES``): the matches of one company in one tenant, best
#: first (score, then id, as Matchgraph's keyset order), grant and company through the foreign keys; aliases give
#: it Matchgraph's shape.
PG_PAGE = """
query CompanyMatches($companyId: UUID!, $tenantId: String!, $first: Int!) {
  grantMatches: allGrantMatches(
    condition: { companyId: $companyId, tenantId: $tenantId }
    orderBy: [SCORE_DESC, %(pk_asc)s]
    first: $first
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      %(id)s score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
      isViewed isSaved isDismissed
      grant: grantByGrantId { %(id)s title funder deadline isCarbonFocused amountMax currency }
      company: companyByCompanyId { %(id)s name country size }
    } }
  }
}"""

#: Company → its matches → grant. Matchgraph lists only matches on open grants (deadline NULL or ahead); the
#: datasets put matches on open grants only (and keep them open, ``hold_grants_open``), so PostGraphile's
#: unfiltered list is the same one.
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

PG_DEEP = """
query Deep($id: UUID!, $first: Int!) {
  company: %(company_by_id)s {
    %(id)s name country size
    grantMatches: grantMatchesByCompanyId(first: $first, orderBy: [SCORE_DESC, %(pk_asc)s]) {
      totalCount
      edges { node {
        %(id)s score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
        isViewed isSaved isDismissed
        grant: grantByGrantId { %(id)s title funder deadline isCarbonFocused amountMax currency }
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

#: The same page in PostGraphile: the job's matches in its tenant, best first (probability, then id), member
#: and job through the foreign keys. PostGraphile has no belonging levels: it returns the component scores,
#: which ``OrgPage.reshape`` bands with Matchgraph's thresholds.
PG_ORG_PAGE = """
query OrgPage($jobId: UUID!, $tenantId: String!, $first: Int!) {
  jobMatches: allJobMatches(
    condition: { jobId: $jobId, tenantId: $tenantId }
    orderBy: [BELONGING_PROBABILITY_DESC, %(pk_asc)s]
    first: $first
  ) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { node {
      %(id)s qualityTier status memberInterest
      authenticity acceptance complementarity
      member: memberByMemberId { %(id)s displayName headline }
      job: jobByJobId { %(id)s title }
    } }
  }
}"""

#: ``SAVE``/``RESTORE`` on one match, the fields a client shows after it.
MUTATION_QUERY = """
mutation Act($matchId: ID!, $action: GrantMatchAction!) {
  applyGrantMatchAction(matchId: $matchId, action: $action) { id isViewed isSaved isDismissed score }
}"""

PG_MUTATION = """
mutation Act($matchId: UUID!, $patch: GrantMatchPatch!) {
  applyGrantMatchAction: %(update)s {
    grantMatch { %(id)s isViewed isSaved isDismissed score }
  }
}"""

LIVE_QUERY = """
query Live($companyId: ID!, $first: Int!) {
  liveGrantMatches(companyId: $companyId, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
      grant { id title funder deadline isCarbonFocused amountMax currency }
    } }
  }
}"""

SEARCH_QUERY = """
query Search($text: String!, $first: Int!) {
  searchGrants(text: $text, first: $first) {
    similarity
    grant { id title funder deadline isCarbonFocused amountMax currency }
  }
}"""

#: What ``search`` looks for (one request per phrase, cycled).
SEARCH_TEXTS = tuple(
    f"{what} {who}"
    for what in (
        "solar panels",
        "heat pumps",
        "green hydrogen",
        "energy efficiency",
        "circular economy",
        "electric vehicle charging",
        "sustainable agriculture",
        "carbon capture",
        "building renovation",
        "wind energy",
        "water treatment",
        "recycling plastics",
    )
    for who in (
        "for small manufacturers",
        "research and innovation",
        "pilot projects in Germany",
        "for start-ups",
        "municipal climate programmes",
    )
)

# The workload variants of the frontend page, written from it.
DIRECTIVE_QUERY = _replace_once(
    _replace_once(PAGE_QUERY, "$first: Int!)", "$first: Int!, $withReasons: Boolean!)"),
    " matchReasons\n",
    " matchReasons @include(if: $withReasons)\n",
)
MIXED_ROOTS_QUERY = _replace_once(PAGE_QUERY, "{\n  grantMatches(", "{\n  me { tenantId }\n  grantMatches(")
PG_DIRECTIVE = _replace_once(
    _replace_once(PG_PAGE, "$first: Int!)", "$first: Int!, $withReasons: Boolean!)"),
    " matchReasons\n",
    " matchReasons @include(if: $withReasons)\n",
)
PG_MIXED_ROOTS = _replace_once(PG_PAGE, "{\n  grantMatches:", "{\n  query { __typename }\n  grantMatches:")


# --- comparing responses -------------------------------------------------------------------------------------

_TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d")
#: Fields PostGraphile returns as decimal strings (BigFloat) and Matchgraph as numbers.
DECIMAL_FIELDS = frozenset({"amountMax", "amountMin"})
#: Opaque, server-specific: left out when different servers are compared (kept between the two Matchgraphs).
CURSOR_FIELDS = frozenset({"cursor", "endCursor"})


def canonical_tree(value: Any, *, cursors: bool, key: str | None = None) -> Any:
    """A response tree in comparable form: every key (dicts compare regardless of order), whole floats as ints
    (``1`` vs ``1.0``), timestamps as aware datetimes, ``DECIMAL_FIELDS`` as ``Decimal``; cursors left out
    unless ``cursors``."""
    if isinstance(value, dict):
        return {
            k: canonical_tree(v, cursors=cursors, key=k)
            for k, v in sorted(value.items())
            if cursors or k not in CURSOR_FIELDS
        }
    if isinstance(value, list):
        return [canonical_tree(v, cursors=cursors) for v in value]
    if key in DECIMAL_FIELDS and isinstance(value, (int, float, str)):
        return Decimal(str(value)).normalize()
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    if isinstance(value, str) and _TIMESTAMP.match(value):
        with contextlib.suppress(ValueError):
            return datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def first_difference(a: Any, b: Any, path: str = "data") -> str | None:
    """The path of the first place two canonical trees differ, with both values there (None: equal)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in sorted(set(a) | set(b)):
            if k not in a or k not in b:
                return f"{path}.{k}: only in {'the first' if k in a else 'the second'}"
            found = first_difference(a[k], b[k], f"{path}.{k}")
            if found:
                return found
        return None
    if isinstance(a, list) and isinstance(b, list):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            found = first_difference(x, y, f"{path}[{i}]")
            if found:
                return found
        return None if len(a) == len(b) else f"{path}: {len(a)} vs {len(b)} items"
    return None if a == b else f"{path}: {a!r} vs {b!r}"


# --- workloads -----------------------------------------------------------------------------------------------

#: One request's subject: (id or text, tenant, *more), e.g. (company id, tenant) or (match id, tenant, action).
Subject = tuple


@dataclass(frozen=True)
class Workload:
    """One query shape as each server spells it (``query(kind)``: None where a server has no equivalent), the
    request for each subject, and a server-independent view of the response (``canonical``)."""

    #: What one request is about: the load generator cycles over a list of subjects of this kind.
    subject: ClassVar[str] = "company"
    #: Appears once per node of the response on every server: the load generator's edge count.
    edge_marker: ClassVar[bytes] = b'"semanticScore"'
    #: Subjects whose responses are compared across the servers before measuring (None: every one).
    same_data_checks: ClassVar[int | None] = 5
    #: Edge counts vary by request: counted on matchgraph for every request before measuring.
    census: ClassVar[bool] = False
    #: Writes (its rows are put back after every run of it, and it runs after the reads).
    writes: ClassVar[bool] = False
    #: matchgraph-cache runs it too (reads only).
    cached: ClassVar[bool] = True
    #: The same request always has the same answer: a difference between servers stops the run. False: the
    #: differences are counted and reported, not fatal (``Search``: why).
    deterministic: ClassVar[bool] = True

    name: str
    first: int = 20

    def query(self, kind: str) -> str | None:
        raise NotImplementedError

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        raise NotImplementedError

    def body(self, kind: str, subject: Subject, position: int) -> bytes:
        return orjson.dumps({"query": self.query(kind), "variables": self.variables(kind, subject, position)})

    def servers(self, names: Sequence[str]) -> tuple[str, ...]:
        """Which of ``names`` run it (in ``SERVER_ORDER``)."""
        kinds = {A: A, C: A, B: B, P5: P5}
        return tuple(
            n for n in SERVER_ORDER if n in names and self.query(kinds[n]) is not None and (n != C or self.cached)
        )

    def check_positions(self, count: int) -> list[int]:
        """Positions of the cycle compared across the servers before measuring."""
        n = self.same_data_checks
        return list(range(count if n is None else min(n, count)))

    def expected_edges(self, fewest: int) -> int | None:
        """Nodes in every response given the fewest matches any subject has (None: counted, ``census``)."""
        return min(self.first, fewest)

    def reshape(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """PostGraphile's response in Matchgraph's shape (the aliases do most of it)."""
        return data

    def verify(self, kind: str, subject: Subject, data: dict[str, Any]) -> None:
        """Raise if a part of the response the comparison leaves out is wrong."""

    def canonical(self, kind: str, payload: dict[str, Any], *, cursors: bool = False) -> Any:
        if payload.get("errors") or not isinstance(payload.get("data"), dict):
            raise ValueError(f"{self.name}: not a clean response: {str(payload)[:500]}")
        return canonical_tree(self.reshape(kind, dict(payload["data"])), cursors=cursors)


@dataclass(frozen=True)
class GrantPage(Workload):
    """The frontend page, ``first`` matches of a company; ``variant``: ``directive`` (``matchReasons`` under
    ``@include(if: $withReasons)``, true on even positions) or ``mixed-roots`` (plus a root field the plans do
    not cover: Matchgraph ``me { tenantId }``, PostGraphile ``query { __typename }``)."""

    variant: str = ""

    def query(self, kind: str) -> str | None:
        if kind == A:
            return {"": PAGE_QUERY, "directive": DIRECTIVE_QUERY, "mixed-roots": MIXED_ROOTS_QUERY}[self.variant]
        return {"": PG_PAGE, "directive": PG_DIRECTIVE, "mixed-roots": PG_MIXED_ROOTS}[self.variant] % PG_NAMES[kind]

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        company_id, tenant = subject[:2]
        out: dict[str, Any] = {"companyId": company_id, "first": self.first}
        if kind != A:
            out["tenantId"] = tenant
        if self.variant == "directive":
            out["withReasons"] = position % 2 == 0
        return out

    def reshape(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if self.variant == "mixed-roots":
            data.pop("me" if kind == A else "query", None)
        return data

    def verify(self, kind: str, subject: Subject, data: dict[str, Any]) -> None:
        if self.variant != "mixed-roots":
            return
        got = data["me"]["tenantId"] if kind == A else data["query"]["__typename"]
        want = subject[1] if kind == A else "Query"
        if got != want:
            raise RuntimeError(f"{kind} {self.name}: extra root field says {got!r}, not {want!r}")


@dataclass(frozen=True)
class Deep(Workload):
    """Company → its first ``first`` matches → grant."""

    def query(self, kind: str) -> str | None:
        return DEEP_QUERY if kind == A else PG_DEEP % PG_NAMES[kind]

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        return {"id": subject[0], "first": self.first}


@dataclass(frozen=True)
class OrgPage(Workload):
    """The organisation's talent page: ``first`` matches of a job, best first, with member and job."""

    subject: ClassVar[str] = "job"
    edge_marker: ClassVar[bytes] = b'"qualityTier"'
    same_data_checks: ClassVar[int | None] = None  # every job the load cycles over (100 by default)

    def query(self, kind: str) -> str | None:
        return ORG_PAGE_QUERY if kind == A else PG_ORG_PAGE % PG_NAMES[kind]

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        out: dict[str, Any] = {"jobId": subject[0], "first": self.first}
        if kind != A:
            out["tenantId"] = subject[1]
        return out

    def reshape(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        """PostGraphile's component scores banded into Matchgraph's levels (its thresholds, slack included)."""
        if kind != A:
            for edge in data["jobMatches"]["edges"]:
                n = edge["node"]
                parts = ("authenticity", "acceptance", "complementarity")
                n["belongingLevels"] = {k: component_level(n.pop(k)) for k in parts}
        return data


@dataclass(frozen=True)
class Mutation(Workload):
    """``SAVE``/``RESTORE`` on a match (subjects: ``(match id, tenant, action)``, every SAVE then every RESTORE)."""

    subject: ClassVar[str] = "match"
    edge_marker: ClassVar[bytes] = b'"isSaved"'
    writes: ClassVar[bool] = True
    cached: ClassVar[bool] = False
    #: PostGraphile's ``updatedAt`` (Matchgraph writes ``now()``): the same columns of the same row.
    updated_at: ClassVar[str] = utc_now().isoformat()

    def query(self, kind: str) -> str | None:
        return MUTATION_QUERY if kind == A else PG_MUTATION % PG_NAMES[kind]

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        match_id, _, action = subject
        if kind == A:
            return {"matchId": match_id, "action": action}
        saved = action == "SAVE"
        return {"matchId": match_id, "patch": {"isSaved": saved, "isDismissed": False, "updatedAt": self.updated_at}}

    def check_positions(self, count: int) -> list[int]:
        """The first five SAVEs and the RESTOREs of the same matches."""
        half = count // 2
        return [*range(min(5, half)), *range(half, half + min(5, half))]

    def expected_edges(self, fewest: int) -> int | None:
        return 1

    def reshape(self, kind: str, data: dict[str, Any]) -> dict[str, Any]:
        if kind != A:
            data["applyGrantMatchAction"] = data["applyGrantMatchAction"]["grantMatch"]
        return data


@dataclass(frozen=True)
class Live(Workload):
    """``liveGrantMatches(companyId:, first:)``: scored now; PostGraphile has no equivalent."""

    census: ClassVar[bool] = True
    subject: ClassVar[str] = "live-company"

    def query(self, kind: str) -> str | None:
        return LIVE_QUERY if kind == A else None

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        return {"companyId": subject[0], "first": self.first}

    def expected_edges(self, fewest: int) -> int | None:
        return None


@dataclass(frozen=True)
class Search(Workload):
    """``searchGrants(text:, first:)``: semantic search; PostGraphile has no equivalent.

    Not deterministic in Matchgraph: Postgres answers its prepared statement with the HNSW index (approximate)
    while it plans it per execution, and with an exact scan + sort once the connection switched to the generic
    plan (after five executions, when the generic plan costs no more): the same text can return different
    grants from two processes, or from one over time. Differences are counted and reported, not fatal."""

    census: ClassVar[bool] = True
    deterministic: ClassVar[bool] = False
    subject: ClassVar[str] = "text"
    edge_marker: ClassVar[bytes] = b'"similarity"'

    def query(self, kind: str) -> str | None:
        return SEARCH_QUERY if kind == A else None

    def variables(self, kind: str, subject: Subject, position: int) -> dict[str, Any]:
        return {"text": subject[0], "first": self.first}

    def expected_edges(self, fewest: int) -> int | None:
        return None


#: Every workload, in the order they run (the mutation last: it writes rows the reads show, put back after).
WORKLOADS: dict[str, Workload] = {
    w.name: w
    for w in (
        GrantPage("page-20", 20),
        GrantPage("page-100", 100),
        Deep("deep-20", 20),
        OrgPage("org-page-20", 20),
        GrantPage("directive", 20, variant="directive"),
        GrantPage("mixed-roots", 20, variant="mixed-roots"),
        Live("live", 20),
        Search("search", 10),
        Mutation("mutation", 1),
    )
}
#: ``--quick``'s workloads: all but the one that scores the catalogue on every request.
QUICK_WORKLOADS = tuple(w for w in WORKLOADS if w != "live")


# --- PostGraphile installs -----------------------------------------------------------------------------------


def _npm_ci(directory: Path, done: Callable[[], bool], what: str, timeout: float) -> float | None:
    """``npm ci`` (or ``npm install`` without a usable lock file) in ``directory`` unless ``done()``; seconds
    taken (None: nothing to do). Raises SystemExit if it fails."""
    if done():
        return None
    npm = shutil.which("npm")
    if not npm:
        raise SystemExit(f"bench.peer needs npm on PATH to install {what}")
    started = time.perf_counter()
    quiet = ["--no-audit", "--no-fund", "--loglevel=error"]
    for command in ([npm, "ci", *quiet], [npm, "install", *quiet]):
        print(f"Installing {what}: npm {command[1]} in {directory} …", file=sys.stderr, flush=True)
        result = subprocess.run(command, cwd=directory, timeout=timeout, capture_output=True, text=True)
        if result.returncode == 0 and done():
            break
        print(result.stderr[-2000:], file=sys.stderr)
    else:
        raise SystemExit(f"could not install {what} (npm ci / npm install in {directory} failed)")
    return round(time.perf_counter() - started, 1)


def _version(binary: str | Path) -> str:
    return subprocess.run([str(binary), "--version"], capture_output=True, text=True, timeout=20).stdout.strip()


def ensure_postgraphile(timeout: float = 180.0) -> dict[str, Any]:
    """PostGraphile 4 in bench/peer (``npm ci`` if node_modules is missing), run on the system's node."""
    node = shutil.which("node")
    if not node:
        raise SystemExit("bench.peer needs node on PATH for PostGraphile 4")
    installed_s = _npm_ci(PEER_DIR, POSTGRAPHILE_CLI.exists, "PostGraphile 4", timeout)
    package = orjson.loads((POSTGRAPHILE_CLI.parent / "package.json").read_bytes())
    return {"node": _version(node), "postgraphile": package["version"], "npm_install_s": installed_s}


def _node22_ok() -> bool:
    return NODE22.exists() and POSTGRAPHILE5_CLI.exists() and _version(NODE22).startswith("v22.")


def ensure_postgraphile5(timeout: float = 600.0) -> dict[str, Any]:
    """PostGraphile 5 and Node 22 (the registry's ``node`` package) in bench/peer5, from its lock file, if they
    are missing; checks the binary runs and is Node 22 and that PostGraphile is 5.x (SystemExit if not)."""
    installed_s = _npm_ci(PEER5_DIR, _node22_ok, "PostGraphile 5 and Node 22", timeout)
    node = _version(NODE22)
    package = orjson.loads((POSTGRAPHILE5_CLI.parents[1] / "package.json").read_bytes())
    if not node.startswith("v22.") or not package["version"].startswith("5."):
        raise SystemExit(f"bench/peer5 holds node {node} and PostGraphile {package['version']}, not 22 and 5")
    return {"node": node, "node_binary": str(NODE22), "postgraphile": package["version"], "npm_install_s": installed_s}


# --- the servers ---------------------------------------------------------------------------------------------


class Server(ServerSubprocess):
    """A server subprocess, started at once; ``kind`` is which GraphQL schema it serves (``A``, ``B`` or
    ``P5``); its Postgres sessions carry ``app_name`` and log in as ``db_user``."""

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
    """``matchgraph serve --no-worker``, as bench.frontend_page runs it (access log off), the rate limit of
    expensive operations out of reach. Without ``cache`` the response cache is off (compare executions with
    PostGraphile, which has none); with it, the server is ``matchgraph-cache``: cache on, logged in as
    ``CACHE_ROLE`` (create it first, see ``create_cache_role``)."""
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
        "MATCHGRAPH_RATE_LIMIT": RATE_LIMIT,
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


def _typename_probe(client: httpx.Client, url: str) -> bool:
    response = client.post(url + "/graphql", json={"query": "{ __typename }"})
    return response.status_code == 200 and response.json().get("data", {}).get("__typename") == "Query"


def start_postgraphile(bench_db: BenchDatabase, log_dir: Path) -> Server:
    """PostGraphile 4's CLI on node, schema ``public``, production settings, no query log, pool of 10."""
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
        "--no-setof-functions-contain-nulls",
        "--disable-query-log",
        "--disable-graphiql",
    ]
    env = {**os.environ, "NODE_ENV": "production", "PGAPPNAME": B}
    return Server(B, B, argv, env, port, log_dir, _typename_probe, app_name=B)


def start_postgraphile5(bench_db: BenchDatabase, log_dir: Path) -> Server:
    """PostGraphile 5's CLI on Node 22 with ``bench/peer5/graphile.config.mjs`` (amber preset, pg adaptor, schema
    ``public``, pool of 10, no GraphiQL, explain, watch or websockets), ``NODE_ENV=production``."""
    port = free_port()
    argv = [str(NODE22), str(POSTGRAPHILE5_CLI), "--config", str(POSTGRAPHILE5_CONFIG)]
    env = {
        **os.environ,
        "NODE_ENV": "production",
        "PGAPPNAME": P5,
        "PG5_DATABASE_URL": postgraphile_url(bench_db),
        "PG5_PORT": str(port),
        "PG5_POOL_MAX": "10",
    }
    return Server(P5, P5, argv, env, port, log_dir, _typename_probe, app_name=P5)


# --- requests ------------------------------------------------------------------------------------------------


def workload_requests(
    kind: str, workload: Workload, subjects: list[Subject], tokens: dict[str, str]
) -> list[tuple[bytes, dict[str, str]]]:
    """(body, headers) of the workload's request for every subject, for a server of ``kind``; Matchgraph's
    carry an ORG_ADMIN token of the subject's tenant."""
    out = []
    for position, subject in enumerate(subjects):
        headers = {"Content-Type": "application/json"}
        if kind == A:
            headers["Authorization"] = f"Bearer {tokens[subject[1]]}"
        out.append((workload.body(kind, subject, position), headers))
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


def compare_responses(
    workload: Workload, bodies: dict[str, bytes], kinds: dict[str, str], where: str
) -> tuple[Any, list[str]]:
    """Complete responses of one request from several servers (name → raw body): each server's canonical tree
    against ``matchgraph``'s (or the first one's), and the two Matchgraph processes' with their cursors too.
    Returns the reference tree and the differences found (``where``: what the request was, for the message)."""
    problems = []
    trees: dict[str, Any] = {}
    for name, body in bodies.items():
        try:
            trees[name] = workload.canonical(kinds[name], orjson.loads(body))
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            problems.append(f"{workload.name} {where}: {name}: {exc}")
    if not trees:
        return None, problems
    ref = A if A in trees else next(iter(trees))
    for name, tree in trees.items():
        if name != ref and (diff := first_difference(trees[ref], tree)):
            problems.append(f"{workload.name} {where}: {ref} vs {name}: {diff}")
    if A in bodies and C in bodies and A in trees and C in trees:
        a, c = (workload.canonical(A, orjson.loads(bodies[n]), cursors=True) for n in (A, C))
        if diff := first_difference(a, c):
            problems.append(f"{workload.name} {where}: {A} vs {C} (cursors included): {diff}")
    return trees[ref], problems


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
    sent before (the same-data check and the warm-up use the first ones, if there are enough subjects): the
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
    expected: list[int] = spec["expected_edges"]  # per request
    marker: bytes = spec["edge_marker"]
    sample_positions = frozenset(spec.get("sample_positions", ()))
    samples: dict[int, bytes] = {}
    counter = itertools.count()
    conns = [_Connection(spec["port"]) for _ in range(spec["concurrency"])]

    async def phase(seconds: float, latencies: list[float] | None) -> tuple[int, int, float]:
        done = errors = 0
        start = time.perf_counter()
        deadline = start + seconds

        async def worker(conn: _Connection) -> None:
            nonlocal done, errors
            while time.perf_counter() < deadline:
                position = next(counter) % len(requests)
                t = time.perf_counter()
                body = b""
                try:
                    status, body = await conn.send(requests[position])
                    ok = status == 200 and b'"errors"' not in body and body.count(marker) == expected[position]
                except (OSError, EOFError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                    conn.close()
                    ok = False
                if latencies is not None:
                    latencies.append((time.perf_counter() - t) * 1000.0)
                    if position in sample_positions and position not in samples:
                        samples[position] = body  # the first response to it in the measured phase
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
        "samples": samples,
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
    sample: int = 8
    #: workload → the servers that run it (in order)
    servers_for: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.servers_for:
            self.servers_for = {w: WORKLOADS[w].servers(self.servers) for w in self.workloads}

    @property
    def runs(self) -> int:
        return sum(len(s) for s in self.servers_for.values()) * len(self.concurrencies) * self.rounds

    @property
    def seconds(self) -> float:
        """Seconds of load: the measured runs (with their warm-up) and the statement counts (~1 s sequential)."""
        counts = sum(len(s) for s in self.servers_for.values()) * (self.statement_load_s + 1.0)
        return self.runs * (self.warmup_s + self.duration_s + 0.3) + counts


def sample_positions(count: int, sample: int, round_no: int) -> list[int]:
    """``sample`` cycle positions spread over ``count`` requests, shifted every round."""
    if count <= 0 or sample <= 0:
        return []
    stride = max(1, count // sample)
    offset = ((round_no - 1) * 13) % count
    return sorted({(offset + i * stride) % count for i in range(min(sample, count))})


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
        "cpu_ms_per_request": round((raw["server_cpu_s"] + raw["postgres_cpu_s"]) * 1000 / n, 3),
        "loadgen_cpu_ms_per_request": round(raw["loadgen_cpu_s"] * 1000 / n, 3),
        "loadgen_cores": round(raw["loadgen_cpu_s"] / raw["elapsed_s"], 2),
        "postgres_sessions_per_request": round(raw["postgres_sessions"] / n, 3),
        "repeat_share": round(repeats / n, 4),
    }


def _mmm(values: list[float]) -> dict[str, float]:
    return {"min": min(values), "median": round(statistics.median(values), 3), "max": max(values)}


def _cpu(run: dict[str, Any]) -> float:
    """Server + Postgres CPU ms per request of one run (the headline efficiency figure)."""
    return run.get("cpu_ms_per_request", run["server_cpu_ms_per_request"] + run["postgres_cpu_ms_per_request"])


def summarise_cell(runs: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """Per server min / median / max over the rounds; ``ratio[server][peer]``: each Matchgraph server (and
    PostGraphile 5) against each PostGraphile it shares the cell with, per round (the runs of one round are next
    to each other in time)."""
    out: dict[str, Any] = {}
    for name, rs in runs.items():
        out[name] = {
            "requests_per_s": _mmm([r["requests_per_s"] for r in rs]),
            "p50_ms": _mmm([r["latency_ms"]["p50"] for r in rs]),
            "p99_ms": _mmm([r["latency_ms"]["p99"] for r in rs]),
            "server_cpu_ms_per_request": _mmm([r["server_cpu_ms_per_request"] for r in rs]),
            "postgres_cpu_ms_per_request": _mmm([r["postgres_cpu_ms_per_request"] for r in rs]),
            "cpu_ms_per_request": _mmm([_cpu(r) for r in rs]),
            "loadgen_cpu_ms_per_request": _mmm([r["loadgen_cpu_ms_per_request"] for r in rs]),
            "postgres_sessions_per_request": _mmm([r["postgres_sessions_per_request"] for r in rs]),
            "repeat_share": _mmm([r["repeat_share"] for r in rs]),
            "errors": sum(r["errors"] + r["warmup_errors"] for r in rs),
        }
    out["ratio"] = {}
    for name, ref in itertools.product(runs, POSTGRAPHILES):
        if ref not in runs or name == ref or (name in POSTGRAPHILES and (name, ref) != (P5, B)):
            continue
        pairs = list(zip(runs[name], runs[ref], strict=True))
        ratios = [a["requests_per_s"] / b["requests_per_s"] for a, b in pairs if b["requests_per_s"]]
        cpu = [_cpu(a) / _cpu(b) for a, b in pairs if _cpu(b)]
        pg_cpu = [
            a["postgres_cpu_ms_per_request"] / b["postgres_cpu_ms_per_request"]
            for a, b in pairs
            if b["postgres_cpu_ms_per_request"]
        ]
        out["ratio"].setdefault(name, {})[ref] = {
            "requests_per_s": {k: round(v, 3) for k, v in _mmm(ratios).items()} if ratios else None,
            "p50_ms": round(out[name]["p50_ms"]["median"] / out[ref]["p50_ms"]["median"], 2),
            "cpu_per_request_server_plus_postgres": {k: round(v, 2) for k, v in _mmm(cpu).items()} if cpu else None,
            "postgres_cpu_per_request": {k: round(v, 2) for k, v in _mmm(pg_cpu).items()} if pg_cpu else None,
        }
    return out


class ResponseMismatch(RuntimeError):
    """Servers answered one request differently (before or during the load)."""


@dataclass
class Session:
    """The servers on one database, and the load-generator process that drives them."""

    bench_db: BenchDatabase
    servers: dict[str, Server]
    pool: Any  # multiprocessing.pool.Pool of one spawned process
    requests: dict[str, dict[str, list[tuple[bytes, dict]]]]  # server → workload → (body, headers) per subject
    subjects: dict[str, list[Subject]]  # workload → its subjects, in cycle order
    #: Puts back the rows a writing workload changed (after every run of it).
    restore: Callable[[], Any]
    #: No measuring after this (``hold_grants_open``'s guarantees end there).
    stable_until: datetime
    #: workload → edges in each request's response (set by ``check``).
    expected: dict[str, list[int]] = field(default_factory=dict)
    cached_checks: int = 5

    def __post_init__(self) -> None:
        self.raw = {
            (name, workload): [raw_http(server.port, body, headers) for body, headers in self.requests[name][workload]]
            for name, server in self.servers.items()
            for workload in self.requests[name]
        }
        self.kinds = {name: server.kind for name, server in self.servers.items()}

    def distinct(self, workload: str) -> int:
        """Distinct requests the load generator cycles over (one per subject)."""
        return len(self.subjects[workload])

    def check_clock(self, seconds_ahead: float) -> None:
        if utc_now() + timedelta(seconds=seconds_ahead) >= self.stable_until:
            raise SystemExit(
                f"the run would measure past {self.stable_until.isoformat()}, when the dataset's deadlines stop "
                "holding (bench.dataset.hold_grants_open): start it again"
            )

    # before the load: complete responses compared, edge counts fixed

    def _check(self, workload: Workload, fewest: int) -> dict[str, Any]:
        names = workload.servers(list(self.servers))
        subjects = self.subjects[workload.name]
        positions = list(range(len(subjects))) if workload.census else workload.check_positions(len(subjects))
        constant = workload.expected_edges(fewest)
        counted: dict[int, int] = {}
        rows = differing = 0
        notes: list[str] = []
        with httpx.Client(timeout=120) as client:
            for i, k in enumerate(positions):
                bodies = {}
                for name in names:
                    if name == C and i >= self.cached_checks:
                        continue
                    body, headers = self.requests[name][workload.name][k]
                    response = client.post(self.servers[name].base_url + "/graphql", content=body, headers=headers)
                    payload = response.json()
                    if response.status_code != 200 or payload.get("errors"):
                        raise RuntimeError(f"{name} failed {workload.name}: {response.status_code} {payload}")
                    workload.verify(self.kinds[name], subjects[k], payload["data"])
                    edges = response.content.count(workload.edge_marker)
                    if constant is not None and edges != constant:
                        raise RuntimeError(f"{name}: {edges} rows for {workload.name}, not {constant}")
                    counted.setdefault(k, edges)
                    if edges != counted[k] and workload.deterministic:
                        raise ResponseMismatch(
                            f"{workload.name} position {k}: {name} has {edges} rows, not {counted[k]}"
                        )
                    bodies[name] = response.content
                _, problems = compare_responses(
                    workload, bodies, self.kinds, f"{workload.subject} {subjects[k][0]} (position {k}, before load)"
                )
                if problems and workload.deterministic:
                    raise ResponseMismatch("\n".join(problems))
                differing += bool(problems)
                notes += problems[: max(0, 3 - len(notes))]
                rows = max(rows, counted[k])
        count = len(subjects)
        self.expected[workload.name] = [counted[k] for k in range(count)] if workload.census else [constant] * count
        edges = self.expected[workload.name]
        return {
            "subject": workload.subject,
            "compared": len(positions),
            "rows_per_response": rows,
            "rows_min_max": [min(edges), max(edges)],
            "servers": list(names),
            "identical": not differing,
            "complete_responses": True,
            "deterministic": workload.deterministic,
            "differing": differing,
            "differences": notes,
            **({"compared_on_cache_server": min(len(positions), self.cached_checks)} if C in names else {}),
        }

    async def check(self, workloads: Sequence[str], fewest: dict[str, int]) -> dict[str, Any]:
        out = {}
        for w in workloads:
            workload = WORKLOADS[w]
            out[w] = await asyncio.to_thread(self._check, workload, fewest.get(workload.subject, 0))
            if workload.writes:
                await self.restore()
        return out

    # the load

    async def load(
        self,
        name: str,
        workload: str,
        concurrency: int,
        warmup_s: float,
        duration_s: float,
        positions: Sequence[int] = (),
    ) -> dict:
        """One run of the load generator against one server (in its process; this loop waits in a thread)."""
        self.check_clock(warmup_s + duration_s + 120)
        spec = {
            "port": self.servers[name].port,
            "requests": self.raw[name, workload],
            "expected_edges": self.expected[workload],
            "edge_marker": WORKLOADS[workload].edge_marker,
            "concurrency": concurrency,
            "warmup_s": warmup_s,
            "duration_s": duration_s,
            "sample_positions": list(positions),
            "server_pid": self.servers[name].pid,
            "postmaster_pid": self.bench_db.postmaster_pid,
            "socket_dir": self.bench_db.socket_dir,
            "database": self.bench_db.name,
        }
        pending = self.pool.apply_async(run_load, (spec,))
        try:
            return await asyncio.to_thread(pending.get, warmup_s + duration_s + 90)
        finally:
            if WORKLOADS[workload].writes:
                await self.restore()

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
            for workload in workloads:
                for name in WORKLOADS[workload].servers(list(self.servers)):
                    server = self.servers[name]
                    out["sequential"].setdefault(name, {})[workload] = await asyncio.to_thread(
                        sequential_statements, log, server, self.requests[name][workload], n, cached=name == C
                    )
                    if WORKLOADS[workload].writes:
                        await self.restore()
                    offset = log.offset()
                    raw = await self.load(name, workload, concurrency, 0.0, seconds)
                    if raw["errors"]:
                        raise RuntimeError(f"{name}: {raw['errors']} errors under load with statement logging")
                    out["under_load"].setdefault(name, {})[workload] = await asyncio.to_thread(
                        log.since, offset, raw["requests"], server.db_user, server.app_name
                    )
        return out

    def compare_samples(self, workload: Workload, samples: dict[str, dict[int, bytes]], round_no: int) -> dict:
        """The responses kept during one round's measured load, compared position by position across servers;
        raises ``ResponseMismatch`` on any difference."""
        positions = sorted(set().union(*(s.keys() for s in samples.values()))) if samples else []
        compared, single, differing, problems = 0, 0, 0, []
        for position in positions:
            bodies = {name: s[position] for name, s in samples.items() if position in s}
            if len(bodies) < 2:
                single += 1
                continue
            subject = self.subjects[workload.name][position]
            where = f"{workload.subject} {subject[0]} (position {position}, round {round_no}, under load)"
            _, found = compare_responses(workload, bodies, self.kinds, where)
            problems += found
            differing += bool(found)
            compared += 1
        if problems and workload.deterministic:
            raise ResponseMismatch("responses differ under load:\n" + "\n".join(problems[:10]))
        return {
            "round": round_no,
            "positions_kept": {name: len(s) for name, s in samples.items()},
            "compared": compared,
            "seen_by_one_server_only": single,
            "mismatches": differing,
            "differences": problems[:3],
        }

    async def measure(self, plan: Plan) -> list[dict[str, Any]]:
        """For each workload and concurrency: ``plan.rounds`` rounds of its servers in turn (A P5 B C A P5 B C),
        a sample of each round's responses compared across them."""
        cells = []
        for workload, concurrency in itertools.product(plan.workloads, plan.concurrencies):
            w = WORKLOADS[workload]
            names = plan.servers_for[workload]
            runs: dict[str, list[dict[str, Any]]] = {name: [] for name in names}
            compared = []
            for round_no in range(1, plan.rounds + 1):
                positions = sample_positions(self.distinct(workload), plan.sample, round_no)
                samples: dict[str, dict[int, bytes]] = {}
                for name in names:
                    raw = await self.load(name, workload, concurrency, plan.warmup_s, plan.duration_s, positions)
                    samples[name] = raw.pop("samples")
                    outcome = summarise_run(raw, self.distinct(workload))
                    runs[name].append({"round": round_no, **outcome})
                    print(
                        f"  {workload:<11} c={concurrency:<3} round {round_no} {name:<16} "
                        f"{outcome['requests_per_s']:>7.1f} req/s  p50 {outcome['latency_ms'].get('p50', 0):.1f} ms  "
                        f"CPU {outcome['cpu_ms_per_request']:.2f} ms/req  errors {outcome['errors']}",
                        file=sys.stderr,
                        flush=True,
                    )
                compared.append(self.compare_samples(w, samples, round_no))
            cells.append(
                {
                    "workload": workload,
                    "concurrency": concurrency,
                    "runs": runs,
                    "summary": summarise_cell(runs),
                    "samples_compared": compared,
                }
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


@dataclass
class MutationRows:
    """The rows the ``mutation`` workload changes (each company's best match), as loaded, and how to put them
    back: every run of the workload (and its checks and statement count) is followed by ``restore()``."""

    bench_db: BenchDatabase
    subjects: list[Subject]  # (match id, tenant, action): every SAVE, then every RESTORE
    snapshot: list[asyncpg.Record]

    @classmethod
    async def pick(cls, bench_db: BenchDatabase, companies: list[tuple[str, str]]) -> MutationRows:
        conn = await _control(bench_db, bench_db.name)
        try:
            rows = await conn.fetch(
                "SELECT DISTINCT ON (company_id) id, company_id::text AS company_id, tenant_id, is_saved, "
                "is_dismissed, updated_at FROM grant_matches WHERE company_id = ANY($1::uuid[]) "
                "ORDER BY company_id, score DESC, id",
                [c for c, _ in companies],
            )
        finally:
            await conn.close()
        by_company = {r["company_id"]: r for r in rows}
        ordered = [by_company[c] for c, _ in companies if c in by_company]
        subjects = [(str(r["id"]), r["tenant_id"], action) for action in ("SAVE", "RESTORE") for r in ordered]
        return cls(bench_db, subjects, ordered)

    async def restore(self) -> None:
        conn = await _control(self.bench_db, self.bench_db.name)
        try:
            await conn.execute(
                "UPDATE grant_matches m SET is_saved = s.is_saved, is_dismissed = s.is_dismissed, "
                "updated_at = s.updated_at FROM unnest($1::uuid[], $2::bool[], $3::bool[], $4::timestamptz[]) "
                "AS s(id, is_saved, is_dismissed, updated_at) WHERE m.id = s.id",
                [r["id"] for r in self.snapshot],
                [r["is_saved"] for r in self.snapshot],
                [r["is_dismissed"] for r in self.snapshot],
                [r["updated_at"] for r in self.snapshot],
            )
        finally:
            await conn.close()


def _subjects_needed(workloads: Sequence[str]) -> set[str]:
    return {WORKLOADS[w].subject for w in workloads}


async def run(args: argparse.Namespace) -> dict[str, Any]:
    peers = tuple(PEERS[p] for p in sorted(set(args.peers), reverse=True))
    names = tuple(n for n in SERVER_ORDER if n == A or n in peers or (n == C and args.cache))
    workloads = tuple(w for w in WORKLOADS if w in set(args.workloads))  # WORKLOADS' order: the mutation last
    plan = Plan(
        workloads,
        names,
        tuple(args.concurrency),
        args.rounds,
        args.warmup,
        args.duration,
        args.statement_load,
        sample=args.sample,
    )
    if plan.seconds > args.budget:
        raise SystemExit(f"the plan needs ~{plan.seconds:.0f} s of load, over --budget {args.budget:g} s")
    versions: dict[str, Any] = {}
    if B in names:
        versions[B] = ensure_postgraphile()
    if P5 in names:
        versions[P5] = ensure_postgraphile5()
    results: dict[str, Any] = {
        "benchmark": "peer",
        "command": "python -m bench.peer " + " ".join(sys.argv[1:]),
        "started_at": datetime.now().astimezone().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
        "plan": {
            **{k: v for k, v in plan.__dict__.items() if k != "servers_for"},
            "servers_per_workload": plan.servers_for,
            "load_seconds": round(plan.seconds),
            "order": "for each workload and concurrency, rounds of " + " then ".join(names) + " (those with it)",
            "matchgraph_rate_limit": RATE_LIMIT,
        },
        "queries": {
            w: {kind: WORKLOADS[w].query(kind).strip() for kind in (A, *peers) if WORKLOADS[w].query(kind) is not None}
            for w in workloads
        },
    }
    async with temp_embedded_database() as bench_db:
        loaded_at = utc_now()
        dataset, companies = await load_bench_dataset(bench_db, args)
        conn = await bench_db.connect()
        try:
            dataset["deadlines"] = await hold_grants_open(conn, loaded_at)
        finally:
            await conn.close()
        stable_until = datetime.fromisoformat(dataset["deadlines"]["stable_until"])
        companies = [companies[i] for i in np.random.default_rng(args.seed).permutation(len(companies))]
        # The talent page's jobs: those with a full page of matches, at most --org-jobs of them.
        org_first = max((WORKLOADS[w].first for w in workloads if WORKLOADS[w].subject == "job"), default=20)
        picked = await org_page_jobs(bench_db, org_first, args.org_jobs, args.seed)
        tenants = sorted({t for _, t in companies})
        mutation = await MutationRows.pick(bench_db, companies)
        pools: dict[str, list[Subject]] = {
            "company": companies,
            "job": picked.pop("jobs"),
            "live-company": companies[: args.live_companies],
            "text": [(text, tenants[i % len(tenants)]) for i, text in enumerate(SEARCH_TEXTS)],
            "match": mutation.subjects,
        }
        dataset["org_page_jobs"] = {"jobs": len(pools["job"]), **picked}
        subjects = {w: pools[WORKLOADS[w].subject] for w in workloads}
        for w in workloads:
            if not subjects[w]:
                raise SystemExit(f"{w}: no {WORKLOADS[w].subject} in the dataset qualifies")
        # Fewest matches any subject the load cycles over has: every response carries min(first, that).
        fewest = {"company": dataset["matches_per_company"], "job": picked["matches_per_job"]["min"]}
        results["dataset"] = dataset
        results["postgres"] = await bench_db.server_facts()
        tokens = tokens_for({subject[1] for pool in subjects.values() for subject in pool})
        kinds = {A: A, B: B, P5: P5, C: A}
        reqs = {
            name: {
                w: workload_requests(kinds[name], WORKLOADS[w], subjects[w], tokens)
                for w in workloads
                if name in plan.servers_for[w]
            }
            for name in names
        }
        if args.cache:
            await create_cache_role(bench_db)
            results["cache"] = {
                **cache_settings(),
                "role": CACHE_ROLE,
                "distinct_requests_per_workload": {w: len(subjects[w]) for w in workloads if C in plan.servers_for[w]},
                "cycle": "one request per subject, the same shuffled order every run, from its start",
            }
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-peer-"))
        servers: dict[str, Server] = {}
        starters = {
            A: lambda: start_matchgraph(bench_db, log_dir),
            P5: lambda: start_postgraphile5(bench_db, log_dir),
            B: lambda: start_postgraphile(bench_db, log_dir),
            C: lambda: start_matchgraph(bench_db, log_dir, cache=True),
        }
        # One spawned load-generator process for every run, its imports paid before the first one.
        with multiprocessing.get_context("spawn").Pool(1) as pool:
            pool.apply_async(_ready).get(timeout=120)
            try:
                # All servers start at once (start-up times overlap), then each is waited for.
                for name in names:
                    servers[name] = starters[name]()
                for server in servers.values():
                    await asyncio.to_thread(server.wait_ready)
                results["startup_s"] = {name: s.startup_s for name, s in servers.items()}
                session = Session(bench_db, servers, pool, reqs, subjects, mutation.restore, stable_until)
                results["same_data"] = await session.check(workloads, fewest)
                results["statements_per_request"] = await session.count_statements(
                    workloads, args.statement_requests, max(plan.concurrencies), args.statement_load
                )
                results["cells"] = await session.measure(plan)
            finally:
                for server in servers.values():
                    server.stop()
                shutil.rmtree(log_dir, ignore_errors=True)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["finished_at"] = datetime.now().astimezone().isoformat(timespec="seconds")
    return results


# --- report --------------------------------------------------------------------------------------------------

NO_EQUIVALENT = "no equivalent"


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


def _versions_line(v: dict[str, Any]) -> str:
    parts = []
    if P5 in v:
        parts.append(f"PostGraphile {v[P5]['postgraphile']} (node {v[P5]['node']})")
    if B in v:
        parts.append(f"PostGraphile {v[B]['postgraphile']} (node {v[B]['node']})")
    return " and ".join(parts) or "no PostGraphile"


def _ratio(r: dict[str, Any] | None, key: str, bold: bool = False) -> str:
    x = (r or {}).get(key)
    if not x:
        return NO_EQUIVALENT if r is None else "–"
    mid = f"{x['median']:.2f}×"
    return f"{x['min']:.2f} / {f'**{mid}**' if bold else mid} / {x['max']:.2f}"


def _cpu_cell(s: dict[str, Any] | None, bold: bool = True) -> str:
    """``total (server + Postgres)`` ms per request, medians."""
    if s is None:
        return NO_EQUIVALENT
    total = fmt_ms(s["cpu_ms_per_request"]["median"])
    server, pg = (fmt_ms(s[k]["median"]) for k in ("server_cpu_ms_per_request", "postgres_cpu_ms_per_request"))
    return f"{f'**{total}**' if bold else total} ({server} + {pg})"


def headline_rows(results: dict[str, Any]) -> list[list[Any]]:
    """Per workload and concurrency: CPU per request (server + Postgres) and req/s of matchgraph, PostGraphile
    5 and 4, and matchgraph's ratios against each (``no equivalent`` where a PostGraphile has no such query)."""
    rows = []
    servers = results["plan"]["servers"]
    peers = [p for p in POSTGRAPHILES if p in servers]
    for cell in results["cells"]:
        s = cell["summary"]
        ratio = s["ratio"].get(A, {})
        rows.append(
            [
                cell["workload"],
                cell["concurrency"],
                _cpu_cell(s[A]),
                *(_cpu_cell(s.get(p)) for p in peers),
                *(
                    _ratio(ratio.get(p), "cpu_per_request_server_plus_postgres") if p in s else NO_EQUIVALENT
                    for p in peers
                ),
                f"**{fmt_ms(s[A]['requests_per_s']['median'])}**",
                *(fmt_ms(s[p]["requests_per_s"]["median"]) if p in s else NO_EQUIVALENT for p in peers),
                *(_ratio(ratio.get(p), "requests_per_s", bold=True) if p in s else NO_EQUIVALENT for p in peers),
            ]
        )
    return rows


def render_markdown(results: dict[str, Any]) -> str:
    d, p = results["dataset"], results["plan"]
    servers = p["servers"]
    peers = [x for x in POSTGRAPHILES if x in servers]
    stmts = results["statements_per_request"]
    loaded = stmts.get("under_load", {})
    out = [
        f"### Matchgraph vs {_versions_line(results['versions'])}: {_dataset_line(d)}\n",
        f"{p['rounds']} round(s) × {p['duration_s']:g} s per server and cell, each after {p['warmup_s']:g} s of "
        f"warm-up, alternating {' '.join(servers)} (those that have the workload). Cells with three figures are "
        "min / median / max over the rounds (ratios per round); single figures are medians.\n",
    ]
    if "deadlines" in d:
        h = d["deadlines"]
        out.append(
            f"Deadlines held open (`bench.dataset.hold_grants_open`): {h['moved_deadlines']:,} open deadlines moved "
            f"to ≥ {h['hold_days']} days after the load (earliest {h['earliest_open_deadline']}); "
            f"{h['closed_grants']:,} closed, {h['rolling_grants']:,} rolling; no measuring after "
            f"{h['stable_until']}.\n"
        )
    head = ["workload", "c", f"CPU ms / req {A} (server + Postgres)"]
    head += [f"CPU ms / req {x}" for x in peers]
    head += [f"CPU {A} / {x}" for x in peers]
    head += [f"req/s {A}"] + [f"req/s {x}" for x in peers] + [f"req/s {A} / {x}" for x in peers]
    out.append("**Headline: CPU per request (server process + Postgres) and throughput**\n")
    out.append(markdown_table(head, headline_rows(results)))
    if C in servers:
        cache = results["cache"]
        counts = ", ".join(f"{n:,} for {w}" for w, n in cache["distinct_requests_per_workload"].items())
        out.append(
            f"\n`{C}` is a second Matchgraph process with the response cache on (TTL {cache['ttl_s']:g} s, at most "
            f"{cache['max_entries']:,} entries); `{A}` has it off. The load generator cycles over "
            f"**distinct requests per workload: {counts}** (the same order every run, from the start), so every "
            "request of a run after the first cycle repeats one the cache has seen (column *repeats*).\n"
        )
    rows = []
    for cell in results["cells"]:
        s = cell["summary"]
        for name in servers:
            if name not in s:
                continue
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
                    f"**{fmt_ms(x['cpu_ms_per_request']['median'])}**",
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
                "c",
                "server",
                "req/s",
                "p50 ms",
                "p99 ms",
                "server CPU ms / req",
                "Postgres CPU ms / req",
                "server + Postgres CPU ms / req",
                "SQL statements / req",
                "new Postgres sessions / req",
                "load-gen CPU ms / req",
                *(["repeats"] if C in servers else []),
                "errors",
            ],
            rows,
        )
    )
    out.append("\nRatios (per round, min / median / max; the PostGraphile named = 1):\n")
    ratio_rows = []
    for cell in results["cells"]:
        for name, by_ref in cell["summary"]["ratio"].items():
            for ref, r in by_ref.items():
                ratio_rows.append(
                    [
                        cell["workload"],
                        cell["concurrency"],
                        f"{name} / {ref}",
                        _ratio(r, "requests_per_s", bold=True),
                        f"{r['p50_ms']:.2f}×",
                        _ratio(r, "cpu_per_request_server_plus_postgres", bold=True),
                        _ratio(r, "postgres_cpu_per_request"),
                    ]
                )
        for ref in peers:
            if ref not in cell["summary"]:
                ratio_rows.append([cell["workload"], cell["concurrency"], f"{A} / {ref}", *[NO_EQUIVALENT] * 4])
    out.append(
        markdown_table(
            [
                "workload",
                "c",
                "servers",
                "req/s",
                "p50 latency",
                "CPU per request (server + Postgres)",
                "Postgres CPU per request",
            ],
            ratio_rows,
        )
    )
    same = results["same_data"]
    start = ", ".join(f"{name} {s:g} s" for name, s in results["startup_s"].items())
    out.append(
        "\nSame data, complete responses compared before measuring: "
        + "; ".join(
            f"{w} → {x['compared']} × {x['subject']} on {', '.join(x['servers'])}"
            + (f" ({C}: the first {x['compared_on_cache_server']})" if "compared_on_cache_server" in x else "")
            + f", {x['rows_min_max'][0]}–{x['rows_min_max'][1]} rows each"
            + (f" (**{x['differing']} differed**: not deterministic)" if x.get("differing") else "")
            for w, x in same.items()
        )
        + f". Start-up (all at once): {start}."
    )
    sampled: dict[str, list[int]] = {}
    for cell in results["cells"]:
        c = sampled.setdefault(cell["workload"], [0, 0])
        for r in cell.get("samples_compared", []):
            c[0] += r["compared"]
            c[1] += r["mismatches"]
    out.append(
        f"Under load, a sample of {p.get('sample', 0)} cycle positions per round (shifted every round) compared "
        "across the servers of each cell (complete responses): "
        + ", ".join(
            f"{w} {n} requests, {bad} mismatches" + ("" if WORKLOADS[w].deterministic else " (not deterministic)")
            for w, (n, bad) in sampled.items()
        )
        + ". A mismatch stops the run, but for workloads whose answers are not deterministic (`search`: the HNSW "
        "index or an exact scan, by the plan Postgres picks for the prepared statement), where they are counted."
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
            "(hits)."
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
    parser.add_argument(
        "--quick", action="store_true", help="tiny dataset, all workloads but live, 1 round × 1.5 s per run (~4 min)"
    )
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
    parser.add_argument("--live-companies", type=int, default=200, help="companies the live workload cycles over")
    parser.add_argument(
        "--workloads",
        nargs="+",
        choices=tuple(WORKLOADS),
        default=None,
        help=f"default: all ({', '.join(WORKLOADS)}); with --quick all but live. They run in this order",
    )
    parser.add_argument(
        "--peers", type=int, nargs="+", choices=(4, 5), default=[4, 5], help="PostGraphile majors to run (4 5)"
    )
    parser.add_argument(
        "--cache",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run matchgraph-cache (Matchgraph with MATCHGRAPH_RESPONSE_CACHE=true)",
    )
    parser.add_argument("--concurrency", type=int, nargs="+", default=[10, 50])
    parser.add_argument("--rounds", type=int, default=2, help="rounds of every server per workload and concurrency")
    parser.add_argument("--duration", type=float, default=6.0, help="measured seconds per run")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds before each run")
    parser.add_argument(
        "--sample", type=int, default=8, help="cycle positions per round whose responses are compared under load"
    )
    parser.add_argument("--statement-requests", type=int, default=20, help="sequential requests, statement count")
    parser.add_argument("--statement-load", type=float, default=1.5, help="seconds under load, statement count")
    parser.add_argument("--budget", type=float, default=1200.0, help="refuse plans with more seconds of load")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/peer-*.json")
    parser.add_argument(
        "--results-name", default="peer", help="results file bench/results/NAME-<date>.json (default: peer)"
    )
    args = parser.parse_args(argv)
    if args.workloads is None:
        args.workloads = list(QUICK_WORKLOADS if args.quick else WORKLOADS)
    if args.quick:
        args.grants, args.companies, args.rounds, args.duration, args.warmup = 300, 20, 1, 1.5, 0.3
        args.jobs, args.members = 40, 1000
        args.statement_requests, args.statement_load = 5, 0.5
    started = time.perf_counter()
    try:
        results = asyncio.run(run(args))
    except ResponseMismatch as exc:
        print(
            f"\n*** RESPONSE MISMATCH: the servers answered differently; nothing was saved ***\n{exc}", file=sys.stderr
        )
        return 2
    report(results, render_markdown, started, None if args.no_save else args.results_name)
    return 1 if any(c["summary"][name]["errors"] for c in results["cells"] for name in c["runs"]) else 0


if __name__ == "__main__":
    raise SystemExit(main())
