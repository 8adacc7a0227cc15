"""Prometheus metrics (``prometheus-client``), served at ``/metrics`` (graphql_app.web.health) and, for a
standalone worker, by ``matchgraph worker --metrics-port``.

Label values are bounded: operation names come from clients, so a process keeps the first
``MATCHGRAPH_METRICS_OPERATION_NAMES`` distinct ones (100) as labels and counts every later one as ``other``;
operation types, execution paths, error codes and computation kinds are the server's own small sets. Tenants and
users are never labels.
"""

from __future__ import annotations

import functools
import re
import threading
import time
from dataclasses import dataclass, field

from graphql import OperationDefinitionNode, parse
from prometheus_client import Counter, Gauge, Histogram

#: Request latencies, in seconds: from a cached response (~0.1 ms) to a slow live scoring (seconds).
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

GRAPHQL_REQUESTS = Counter(
    "matchgraph_graphql_requests",
    "GraphQL operations answered over HTTP, by operation name, type, execution path and error code (OK: none).",
    ["operation", "type", "path", "code"],
)
GRAPHQL_DURATION = Histogram(
    "matchgraph_graphql_request_duration_seconds",
    "Time to answer one GraphQL operation over HTTP (execution and encoding of the result).",
    ["operation", "type", "path"],
    buckets=LATENCY_BUCKETS,
)
RESPONSE_CACHE_LOOKUPS = Counter(
    "matchgraph_response_cache_lookups", "Response cache lookups (MATCHGRAPH_RESPONSE_CACHE), by result.", ["result"]
)
COMPUTATIONS = Counter(
    "matchgraph_computations",
    "Computations this process's worker ran to a final state, by kind and state.",
    ["kind", "status"],
)
COMPUTATION_DURATION = Histogram(
    "matchgraph_computation_duration_seconds",
    "Time one run of a computation took in this process's worker, by kind.",
    ["kind"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 600.0),
)
QUEUE_JOBS = Gauge(
    "matchgraph_queue_jobs",
    "Jobs on the computation queue by state (read from the database at scrape: the same in every process).",
    ["status"],
)
QUEUE_OLDEST_AGE = Gauge(
    "matchgraph_queue_oldest_queued_job_age_seconds",
    "Age of the oldest job waiting for a worker (0: none waits), read at scrape.",
)
EVENT_FANOUT = Histogram(
    "matchgraph_event_fanout_seconds",
    "From a computation's NOTIFY reaching this process to a subscriber's new state being ready to send.",
    buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
EVENT_SUBSCRIBERS = Gauge("matchgraph_event_subscribers", "Subscriptions following computation events in this process.")
DB_POOL_CONNECTIONS = Gauge(
    "matchgraph_db_pool_connections",
    "Database connections of this process's pools by state (in_use, idle), read at scrape.",
    ["pool", "state"],
)
EMBEDDING_MODEL_LOADED = Gauge("matchgraph_embedding_model_loaded", "1 once this process holds the embedding model.")

OTHER = "other"
ANONYMOUS = "anonymous"
_NAME = re.compile(r"^[_A-Za-z][_0-9A-Za-z]{0,63}$")
_CODE = re.compile(r"^[A-Z_]{1,40}$")


class OperationNames:
    """Client operation names as label values: the first ``limit`` distinct names as they are, later ones
    ``other``, none ``anonymous``."""

    def __init__(self, limit: int = 100) -> None:
        self.limit = limit
        self._known: set[str] = set()
        self._lock = threading.Lock()

    def label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        if name in self._known:
            return name
        if not _NAME.match(name):
            return OTHER
        with self._lock:
            if len(self._known) >= self.limit:
                return OTHER
            self._known.add(name)
        return name


@functools.lru_cache(maxsize=1024)
def describe_operation(query: str | None, operation_name: str | None) -> tuple[str | None, str]:
    """(the operation's name, its type) for a request's document; type ``unknown`` if it cannot tell."""
    if not query:
        return operation_name, "unknown"
    try:
        document = parse(query)
    except Exception:
        return operation_name, "unknown"
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [d for d in operations if d.name and d.name.value == operation_name]
    if len(operations) != 1:
        return operation_name, "unknown"
    operation = operations[0]
    return (operation.name.value if operation.name else None), operation.operation.value


def error_code(errors) -> str:
    """The label of a result's errors: the first one's ``extensions.code``, ``OK`` without errors."""
    if not errors:
        return "OK"
    first = errors[0]
    extensions = first.get("extensions") if isinstance(first, dict) else getattr(first, "extensions", None)
    code = (extensions or {}).get("code")
    return code if isinstance(code, str) and _CODE.match(code) else "INTERNAL_SERVER_ERROR"


@dataclass
class OperationMeasure:
    """One GraphQL operation being answered: its labels, filled in as the view learns them, and its clock."""

    names: OperationNames
    query: str | None
    operation_name: str | None
    #: compiled (a plan answered), resolvers, mixed (a plan and the resolvers), cache (a cached response),
    #: refused (not run: an unknown persisted query, an untrusted document).
    path: str = "resolvers"
    started: float = field(default_factory=time.perf_counter)

    @property
    def labels(self) -> tuple[str, str]:
        name, kind = describe_operation(self.query, self.operation_name)
        return self.names.label(name), kind

    def finish(self, code: str) -> float:
        """Record the operation; its duration in seconds."""
        elapsed = time.perf_counter() - self.started
        operation, kind = self.labels
        GRAPHQL_REQUESTS.labels(operation, kind, self.path, code).inc()
        GRAPHQL_DURATION.labels(operation, kind, self.path).observe(elapsed)
        return elapsed


def record_computation(kind: str, status: str, seconds: float) -> None:
    COMPUTATIONS.labels(kind, status).inc()
    COMPUTATION_DURATION.labels(kind).observe(seconds)


def record_fanout(received_at: float) -> None:
    if received_at:
        EVENT_FANOUT.observe(time.perf_counter() - received_at)
