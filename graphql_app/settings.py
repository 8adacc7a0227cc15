"""Configuration from environment variables (all prefixed ``MATCHGRAPH_``); the table is in docs/operations.md."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

DEFAULT_EMBEDDING_MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def _bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    """Process-wide settings. Build with :func:`load_settings`; tests build them directly."""

    database_url: str | None = None
    data_dir: Path = Path(".matchgraph")
    jwt_secret: str | None = None
    jwt_algorithm: str = "HS256"
    jwt_public_key: str | None = None
    jwt_jwks_url: str | None = None
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    graphiql: bool = True
    introspection: bool = True
    host: str = "127.0.0.1"
    port: int = 8000
    db_pool_size: int = 10
    run_worker: bool = True
    #: Score created or changed grants against every company in a GRANT_FANOUT computation (docs/matching.md).
    grant_fanout: bool = True
    #: Saved matches whose grant closes within this many days raise a DEADLINE_APPROACHING alert (docs/alerts.md).
    deadline_reminder_days: int = 7
    #: When the deadline reminders run (cron, UTC), in every process that runs a worker.
    deadline_reminder_schedule: str = "0 * * * *"
    worker_concurrency: int = 4
    worker_heartbeat_seconds: float = 30.0
    max_subscriptions_per_connection: int = 20
    response_cache: bool = False
    response_cache_ttl: float = 30.0
    response_cache_entries: int = 10_000
    compiled_queries: bool = True
    #: Raw MATCHGRAPH_ALLOWED_ORIGINS (None: unset; see graphql_app.web.origins.OriginPolicy.from_setting).
    allowed_origins: str | None = None
    compression: bool = True
    persisted_queries: bool = True
    trusted_documents: bool = False
    batch_max_operations: int = 0
    max_body_bytes: int = 4 * 1024 * 1024
    max_document_length: int = 50_000
    max_tokens: int = 5_000
    max_depth: int = 12
    max_aliases: int = 50
    max_cost: int = 25_000
    #: Expensive operations (live scoring, search, computations) per caller and process; "" switches it off.
    rate_limit: str = "60/minute"
    #: Worker processes for live scoring (0: a worker thread of the API process).
    scoring_processes: int = 1
    statement_timeout_seconds: float = 15.0
    worker_statement_timeout_seconds: float = 600.0
    #: Start loading the embedding model in the background at start-up (false: on first use). None: preload in a
    #: process that runs the worker (``serve``), load on first use in one that does not (``serve --no-worker``:
    #: an API process that never embeds stays ~120 MB instead of ~540).
    preload_embedding_model: bool | None = None
    #: Seconds a request that needs the embedding model waits for it before answering SERVICE_UNAVAILABLE.
    embedding_wait_seconds: float = 20.0
    #: Seconds a request arriving while the process starts waits for it before answering SERVICE_UNAVAILABLE.
    startup_wait_seconds: float = 30.0
    #: Serve Prometheus metrics at /metrics; with ``metrics_token`` only to ``Authorization: Bearer <token>``.
    metrics: bool = True
    metrics_token: str | None = None
    #: Distinct client operation names a process keeps as metric labels; later ones count as "other".
    metrics_operation_names: int = 100
    #: "text" or "json" (one JSON object per line, with request id, operation, tenant and duration per request).
    log_format: str = "text"
    #: OpenTelemetry tracing, on when the standard OTEL_* variables ask for an exporter (see graphql_app.tracing).
    tracing: bool = False
    #: How long `POST /api/grants/matches/calculate` waits for its computation before answering 504.
    rest_calculate_timeout_seconds: float = 120.0
    #: Webhooks may target loopback hosts, over plain http:// too (development and tests only; docs/webhooks.md).
    webhook_allow_loopback: bool = False
    #: Delivery attempts of one webhook event before it is given up (FAILED).
    webhook_max_attempts: int = 6
    #: Wait before the first retry; retry n waits base·4^(n-1).
    webhook_retry_base_seconds: float = 30.0
    #: Finished webhook deliveries (delivered or given up) are deleted this many days after their last attempt
    #: (0 keeps them forever).
    webhook_delivery_retention_days: int = 30

    @property
    def preloads_embedding_model(self) -> bool:
        """Whether start-up loads the embedding model in the background (see ``preload_embedding_model``)."""
        return self.run_worker if self.preload_embedding_model is None else self.preload_embedding_model

    @property
    def request_limits(self):
        """The per-request limits (graphql_app.limits.RequestLimits) these settings ask for."""
        from graphql_app.limits import RequestLimits

        return RequestLimits(
            max_document_length=self.max_document_length,
            max_tokens=self.max_tokens,
            max_depth=self.max_depth,
            max_aliases=self.max_aliases,
            max_cost=self.max_cost,
        )

    @property
    def embedded(self) -> bool:
        """True when no external database is configured and the embedded Postgres is used."""
        return not self.database_url

    @property
    def jwt_secret_file(self) -> Path:
        """Where the embedded mode keeps its generated HS256 secret."""
        return self.data_dir / "jwt-secret"

    def resolved_jwt_secret(self, *, create: bool = True) -> str | None:
        """The HS256 secret; in embedded mode one is generated once (``create``) and kept in the data dir."""
        if self.jwt_secret:
            return self.jwt_secret
        if self.jwt_algorithm != "HS256" or not self.embedded:
            return None
        path = self.jwt_secret_file
        if not path.exists():
            if not create:
                return None
            self.data_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(secrets.token_urlsafe(48))
            path.chmod(0o600)
        return path.read_text().strip()


def load_settings() -> Settings:
    """Read settings from the environment."""
    env = os.environ.get
    return Settings(
        database_url=env("MATCHGRAPH_DATABASE_URL") or None,
        data_dir=Path(env("MATCHGRAPH_DATA_DIR") or ".matchgraph").expanduser().resolve(),
        jwt_secret=env("MATCHGRAPH_JWT_SECRET") or None,
        jwt_algorithm=(env("MATCHGRAPH_JWT_ALGORITHM") or "HS256").upper(),
        jwt_public_key=env("MATCHGRAPH_JWT_PUBLIC_KEY") or None,
        jwt_jwks_url=env("MATCHGRAPH_JWT_JWKS_URL") or None,
        jwt_issuer=env("MATCHGRAPH_JWT_ISSUER") or None,
        jwt_audience=env("MATCHGRAPH_JWT_AUDIENCE") or None,
        embedding_model=env("MATCHGRAPH_EMBEDDING_MODEL") or DEFAULT_EMBEDDING_MODEL,
        graphiql=_bool("MATCHGRAPH_GRAPHIQL", True),
        introspection=_bool("MATCHGRAPH_INTROSPECTION", True),
        host=env("MATCHGRAPH_HOST") or "127.0.0.1",
        port=int(env("MATCHGRAPH_PORT") or 8000),
        db_pool_size=int(env("MATCHGRAPH_DB_POOL_SIZE") or 10),
        run_worker=_bool("MATCHGRAPH_WORKER", True),
        grant_fanout=_bool("MATCHGRAPH_GRANT_FANOUT", True),
        deadline_reminder_days=int(env("MATCHGRAPH_DEADLINE_REMINDER_DAYS") or 7),
        deadline_reminder_schedule=(env("MATCHGRAPH_DEADLINE_REMINDER_SCHEDULE") or "0 * * * *").strip(),
        worker_concurrency=int(env("MATCHGRAPH_WORKER_CONCURRENCY") or 4),
        worker_heartbeat_seconds=float(env("MATCHGRAPH_WORKER_HEARTBEAT_SECONDS") or 30),
        max_subscriptions_per_connection=int(env("MATCHGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION") or 20),
        response_cache=_bool("MATCHGRAPH_RESPONSE_CACHE", False),
        response_cache_ttl=float(env("MATCHGRAPH_RESPONSE_CACHE_TTL") or 30),
        response_cache_entries=int(env("MATCHGRAPH_RESPONSE_CACHE_ENTRIES") or 10_000),
        compiled_queries=_bool("MATCHGRAPH_COMPILED_QUERIES", True),
        allowed_origins=env("MATCHGRAPH_ALLOWED_ORIGINS"),
        compression=_bool("MATCHGRAPH_COMPRESSION", True),
        persisted_queries=_bool("MATCHGRAPH_PERSISTED_QUERIES", True),
        trusted_documents=_bool("MATCHGRAPH_TRUSTED_DOCUMENTS", False),
        batch_max_operations=int(env("MATCHGRAPH_BATCH_MAX_OPERATIONS") or 0),
        max_body_bytes=int(env("MATCHGRAPH_MAX_BODY_BYTES") or 4 * 1024 * 1024),
        max_document_length=int(env("MATCHGRAPH_MAX_DOCUMENT_LENGTH") or 50_000),
        max_tokens=int(env("MATCHGRAPH_MAX_TOKENS") or 5_000),
        max_depth=int(env("MATCHGRAPH_MAX_DEPTH") or 12),
        max_aliases=int(env("MATCHGRAPH_MAX_ALIASES") or 50),
        max_cost=int(env("MATCHGRAPH_MAX_COST") or 25_000),
        rate_limit=env("MATCHGRAPH_RATE_LIMIT", "60/minute").strip(),
        statement_timeout_seconds=float(env("MATCHGRAPH_STATEMENT_TIMEOUT") or 15),
        scoring_processes=int(env("MATCHGRAPH_SCORING_PROCESSES") or 1),
        worker_statement_timeout_seconds=float(env("MATCHGRAPH_WORKER_STATEMENT_TIMEOUT") or 600),
        preload_embedding_model=(
            _bool("MATCHGRAPH_PRELOAD_EMBEDDING_MODEL", True) if env("MATCHGRAPH_PRELOAD_EMBEDDING_MODEL") else None
        ),
        embedding_wait_seconds=float(env("MATCHGRAPH_EMBEDDING_WAIT_SECONDS") or 20),
        startup_wait_seconds=float(env("MATCHGRAPH_STARTUP_WAIT_SECONDS") or 30),
        metrics=_bool("MATCHGRAPH_METRICS", True),
        metrics_token=env("MATCHGRAPH_METRICS_TOKEN") or None,
        metrics_operation_names=int(env("MATCHGRAPH_METRICS_OPERATION_NAMES") or 100),
        log_format=(env("MATCHGRAPH_LOG_FORMAT") or "text").strip().lower(),
        tracing=tracing_requested(os.environ),
        rest_calculate_timeout_seconds=float(env("MATCHGRAPH_REST_CALCULATE_TIMEOUT") or 120),
        webhook_allow_loopback=_bool("MATCHGRAPH_WEBHOOK_ALLOW_LOOPBACK", False),
        webhook_max_attempts=int(env("MATCHGRAPH_WEBHOOK_MAX_ATTEMPTS") or 6),
        webhook_retry_base_seconds=float(env("MATCHGRAPH_WEBHOOK_RETRY_BASE_SECONDS") or 30),
        webhook_delivery_retention_days=int(env("MATCHGRAPH_WEBHOOK_DELIVERY_RETENTION_DAYS") or 30),
    )


def tracing_requested(environ) -> bool:
    """True when the standard OpenTelemetry variables ask for traces to be exported: ``OTEL_TRACES_EXPORTER``
    set to something other than ``none``, or an OTLP endpoint set; ``OTEL_SDK_DISABLED=true`` wins."""
    if (environ.get("OTEL_SDK_DISABLED") or "").strip().lower() == "true":
        return False
    exporter = (environ.get("OTEL_TRACES_EXPORTER") or "").strip().lower()
    if exporter:
        return exporter != "none"
    return bool(environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
