"""OpenTelemetry traces: HTTP request → GraphQL operation → SQL statement, and one span per worker job.

Off unless the standard variables ask for it (``graphql_app.settings.tracing_requested``: ``OTEL_TRACES_EXPORTER``
or an OTLP endpoint; ``OTEL_SDK_DISABLED=true`` wins). Then :func:`configure` installs an SDK tracer provider
with the requested exporters, unless the process already has one (tests install an in-memory one), and the app
adds the ASGI middleware, instruments its SQLAlchemy engines and wraps the compiled plans' statements.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from opentelemetry import trace
from opentelemetry.trace import SpanKind

TRACER_NAME = "matchgraph"
#: Paths left untraced (probes and scrapes would drown the requests).
EXCLUDED_URLS = "livez,readyz,healthz,metrics"


class TracingError(ValueError):
    """The OTEL_* variables ask for something this installation cannot do."""


def tracer() -> trace.Tracer:
    return trace.get_tracer(TRACER_NAME)


def configure(default_service_name: str, environ: Mapping[str, str] = os.environ) -> None:
    """Install an SDK tracer provider exporting to what OTEL_TRACES_EXPORTER names (default ``otlp``), unless a
    provider is installed already. Raises :class:`TracingError` for an exporter or protocol not supported."""
    if not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider):
        return
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    exporters = _exporters(environ)
    attributes = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: default_service_name}
    provider = TracerProvider(resource=Resource.create(attributes))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)


def _exporters(environ: Mapping[str, str]) -> list:
    names = [n.strip().lower() for n in (environ.get("OTEL_TRACES_EXPORTER") or "otlp").split(",") if n.strip()]
    exporters = []
    for name in names:
        if name == "none":
            continue
        if name == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            exporters.append(ConsoleSpanExporter())
        elif name == "otlp":
            protocol = (
                environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
                or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
                or "http/protobuf"
            )
            if protocol != "http/protobuf":
                raise TracingError(f"OTLP protocol {protocol!r} is not supported here: use http/protobuf")
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporters.append(OTLPSpanExporter())  # endpoint, headers, timeout: the OTEL_EXPORTER_OTLP_* variables
        else:
            raise TracingError(f"OTEL_TRACES_EXPORTER {name!r} is not supported (otlp, console or none)")
    return exporters


def asgi_middleware():
    """Starlette middleware: one SERVER span per HTTP request or WebSocket (probes and /metrics left out)."""
    from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
    from starlette.middleware import Middleware

    return Middleware(OpenTelemetryMiddleware, excluded_urls=EXCLUDED_URLS)


def instrument_database(db) -> None:
    """Spans for every statement of ``db``: its SQLAlchemy engine, and its compiled plans' asyncpg pool."""
    if getattr(db, "traced", False):
        return
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer
    from opentelemetry.metrics import get_meter

    usage = get_meter(TRACER_NAME).create_up_down_counter("db.client.connections.usage")
    EngineTracer(tracer(), db.engine.sync_engine, usage)
    db.statement_span = statement_span
    db.traced = True


@contextlib.contextmanager
def statement_span(sql: str) -> Iterator[None]:
    """A CLIENT span around one statement sent outside SQLAlchemy (compiled plans)."""
    verb = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "SQL"
    with tracer().start_as_current_span(
        verb,
        kind=SpanKind.CLIENT,
        attributes={"db.system": "postgresql", "db.statement": sql, "matchgraph.pool": "plans"},
    ):
        yield


@contextlib.contextmanager
def operation_span(name: str | None, kind: str, measure) -> Iterator[trace.Span]:
    """An INTERNAL span around one GraphQL operation, named ``query CompanyMatches``; it records the execution
    path the operation took (``measure.path``: compiled, resolvers, mixed, cache, refused) when it ends."""
    with tracer().start_as_current_span(f"{kind} {name or 'anonymous'}") as span:
        span.set_attribute("graphql.operation.type", kind)
        if name:
            span.set_attribute("graphql.operation.name", name)
        try:
            yield span
        finally:
            span.set_attribute("matchgraph.execution_path", measure.path)


@contextlib.contextmanager
def job_span(computation_id: str, attempts: int) -> Iterator[trace.Span]:
    """A CONSUMER span around one queue job (a computation's run)."""
    with tracer().start_as_current_span(
        "computation run",
        kind=SpanKind.CONSUMER,
        attributes={"matchgraph.computation.id": computation_id, "matchgraph.job.attempts": attempts},
    ) as span:
        yield span
