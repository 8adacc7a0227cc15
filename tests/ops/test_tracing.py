"""OpenTelemetry: the frontend page query traced as HTTP → GraphQL operation → SQL on both execution paths, a
span per worker job, and tracing on only when the OTEL_* variables ask for it."""

from __future__ import annotations

import httpx
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from bench.frontend_page import PAGE_QUERY
from graphql_app.settings import tracing_requested
from graphql_app.tracing import TracingError, _exporters
from tests.api.factories import calculate, create_company, create_grants, grant_input
from tests.conftest import GraphQLClient, token_for


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    """One in-memory exporter for the session (a process has one tracer provider)."""
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return exporter


def _ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[ReadableSpan]:
    chain = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        chain.append(span)
    return chain


@pytest.mark.parametrize("execution_path", ["compiled", "interpreted"])
async def test_page_query_spans_http_operation_sql(live_server, spans, execution_path) -> None:
    admin_token = token_for("tenant-a", ("ORG_ADMIN",))
    async with live_server(tracing=True) as server, httpx.AsyncClient(base_url=server.url) as http:
        admin = GraphQLClient(http, admin_token)
        platform = GraphQLClient(http, token_for("platform", ("PLATFORM_ADMIN",)))
        await create_grants(platform, [grant_input("Solar Boost"), grant_input("Wind Retrofit")])
        company = await create_company(admin)
        computation = await calculate(admin, company["id"])
        assert computation["status"] == "SUCCEEDED"
        spans.clear()
        page = await admin.data(PAGE_QUERY, {"companyId": company["id"], "first": 20})
        assert page["grantMatches"]["totalCount"] == 2
        await http.get("/livez")
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}

    [operation] = [s for s in finished if s.name == "query CompanyMatches"]
    path = "compiled" if execution_path == "compiled" else "resolvers"
    assert operation.attributes["matchgraph.execution_path"] == path
    assert operation.attributes["graphql.operation.name"] == "CompanyMatches"
    http_span = by_id[operation.parent.span_id]
    assert http_span.kind == trace.SpanKind.SERVER and http_span.name.startswith("POST")
    assert http_span.parent is None  # the request's root
    sql = [s for s in finished if s.attributes.get("db.system") in ("postgresql", "postgres")]
    in_request = [s for s in sql if s.context.trace_id == operation.context.trace_id]
    assert in_request, [s.name for s in finished]
    for statement in in_request:
        assert statement.kind == trace.SpanKind.CLIENT
        assert operation in _ancestors(statement, by_id), statement.name
    # Both paths run the page's one statement on the plain asyncpg pool (a compiled plan, or the resolvers' match
    # page rendered once per shape), traced by Matchgraph's own span.
    assert [s.attributes.get("matchgraph.pool") for s in in_request] == ["plans"], [s.name for s in in_request]
    assert not any(
        "/livez" in (s.attributes.get("http.target") or s.attributes.get("url.path") or "") for s in finished
    )


async def test_worker_runs_are_spans(services, worker, spans) -> None:
    from graphql_app.auth import TokenVerifier
    from graphql_app.services import catalogue
    from graphql_app.services import computation_records as records
    from graphql_app.tracing import instrument_database

    worker.trace_jobs = True
    instrument_database(services.db)  # as `matchgraph worker` does with tracing on
    await catalogue.create_grants(services.db, services.embedder, [{"title": "Call", "carbon_categories": []}])
    company = (
        await catalogue.create_companies(
            services.db, services.embedder, "tenant-a", [{"name": "Solar GmbH", "country": "DE", "size": "SMALL"}]
        )
    )[0]
    principal = TokenVerifier(services.settings).verify(token_for("tenant-a"))
    spans.clear()
    record = await records.start_computation(services.db, principal, "tenant-a", records.GRANT_MATCHES, company.id, {})
    import asyncio

    for _ in range(200):
        if (await records.load_computation(services.db, record.id)).status == "SUCCEEDED":
            break
        await asyncio.sleep(0.05)
    for _ in range(40):  # the span ends just after the state commits
        runs = [s for s in spans.get_finished_spans() if s.name == "computation run"]
        if runs:
            break
        await asyncio.sleep(0.05)
    [run] = runs
    assert run.kind == trace.SpanKind.CONSUMER and run.attributes["matchgraph.computation.id"] == str(record.id)
    finished = spans.get_finished_spans()
    by_id = {s.context.span_id: s for s in finished}
    statements = [s for s in finished if s.context.trace_id == run.context.trace_id and s is not run]
    assert statements and all(s.kind == trace.SpanKind.CLIENT for s in statements)
    assert all(run in _ancestors(s, by_id) for s in statements)  # the run's SQL, below its span


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "none"}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_TRACES_EXPORTER": "console", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "TRUE"}, False),
    ],
)
def test_tracing_is_on_only_when_asked(environ, on) -> None:
    assert tracing_requested(environ) is on


def test_exporters_and_unsupported_ones() -> None:
    assert [type(e).__name__ for e in _exporters({"OTEL_TRACES_EXPORTER": "console,otlp"})] == [
        "ConsoleSpanExporter",
        "OTLPSpanExporter",
    ]
    with pytest.raises(TracingError, match="'zipkin' is not supported"):
        _exporters({"OTEL_TRACES_EXPORTER": "zipkin"})
    with pytest.raises(TracingError, match="'grpc' is not supported"):
        _exporters({"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc"})
