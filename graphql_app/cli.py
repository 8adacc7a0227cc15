"""`matchgraph` — serve, work, migrate, mint tokens, load demo data, manage computations, export the schema."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import logging
import os
import signal
import sys
from pathlib import Path

from graphql_app.settings import load_settings

ROLES = ("MEMBER", "ORG_USER", "ORG_ADMIN", "PLATFORM_ADMIN")
#: Mirrors of graphql_app.services.computation_admin.STATUSES and the kinds it runs (kept import-free: fast --help).
COMPUTATION_STATES = ("QUEUED", "RUNNING", "SUCCEEDED", "FAILED", "CANCELLED")
COMPUTATION_KINDS = ("GRANT_MATCHES", "JOB_MATCHES", "MATCH_EXPLANATION")


def _print_banner(settings) -> None:
    url = f"http://{settings.host}:{settings.port}/graphql"
    print(
        f"\nMatchgraph is serving GraphQL at {url}"
        + (" (open it in a browser for GraphiQL)" if settings.graphiql else "")
    )
    print(f"REST adapters: http://{settings.host}:{settings.port}/api/docs (OpenAPI: /api/openapi.json)")
    base = f"http://{settings.host}:{settings.port}"
    metrics = f", metrics: {base}/metrics" if settings.metrics else ""
    print(f"Health: {base}/livez (alive), {base}/readyz (ready){metrics}")
    if settings.embedded:
        print(f"Embedded PostgreSQL data: {settings.data_dir / 'pgdata'}")
    print("Get a token:  matchgraph token --tenant acme-ventures --role ORG_ADMIN")
    print('Then send it: Authorization: Bearer <token>  (GraphiQL: "Headers" tab)\n', flush=True)


def cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from graphql_app.app import create_app, open_services

    settings = load_settings()
    if args.host:
        settings = dataclasses.replace(settings, host=args.host)
    if args.port:
        settings = dataclasses.replace(settings, port=args.port)
    if args.no_worker:
        settings = dataclasses.replace(settings, run_worker=False)

    async def seed() -> None:
        from graphql_app.demo.seed import seed_demo

        services = await open_services(settings)
        try:
            await seed_demo(services, only_if_empty=True)
        finally:  # in this loop: its connections cannot be closed from another one
            await services.db.dispose()

    loop_kind = "uvloop" if _has("uvloop") else "asyncio"
    # Services open inside the server's own event loop (the lifespan); --demo seeds first in a short-lived loop.
    if args.demo:
        asyncio.run(seed())
    failures: list[BaseException] = []

    def stop_after_failed_start(exc: BaseException) -> None:
        failures.append(exc)
        server.should_exit = True

    if settings.tracing:
        from graphql_app.tracing import TracingError, configure

        try:
            configure("matchgraph")
        except TracingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
    app = create_app(settings, on_start_failure=stop_after_failed_start)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            loop=loop_kind,
            http="httptools" if _has("httptools") else "h11",
            log_level=os.environ.get("MATCHGRAPH_LOG_LEVEL", "info").lower(),
            log_config=None,  # uvicorn's loggers go through ours (text or JSON, graphql_app.logs)
            access_log=False,  # graphql_app.logs.RequestLog writes one line per request, with its request id
            lifespan="on",
            ws_max_size=settings.max_body_bytes,  # a WebSocket message is held to the request body limit
        )
    )
    _print_banner(settings)
    server.run()
    if failures:
        print(f"error: Matchgraph could not start: {failures[0]}", file=sys.stderr)
        return 1
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Consume computations until SIGTERM/SIGINT (no HTTP, no embedding model)."""

    from graphql_app.clock import Clock
    from graphql_app.db.engine import Database
    from graphql_app.db.setup import DatabaseSetupError, migrate, resolve_database_url
    from graphql_app.jobs.schedules import scheduler as scheduled_jobs
    from graphql_app.jobs.worker import ComputationWorker
    from graphql_app.services.webhooks import WebhookPolicy

    settings = load_settings()
    if settings.tracing:
        from graphql_app.tracing import TracingError, configure

        try:
            configure("matchgraph-worker")
        except TracingError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    async def run() -> None:
        url = await resolve_database_url(settings)
        if settings.embedded:
            await migrate(url)
        db = Database(
            url, pool_size=max(2, args.concurrency), statement_timeout=settings.worker_statement_timeout_seconds
        )
        if settings.tracing:
            from graphql_app.tracing import instrument_database

            instrument_database(db)
        worker = ComputationWorker(
            db,
            Clock(),
            concurrency=args.concurrency,
            heartbeat_timeout=settings.worker_heartbeat_seconds,
            trace_jobs=settings.tracing,
            webhooks=WebhookPolicy.from_settings(settings),
        )
        scheduler = scheduled_jobs(db, Clock(), settings)

        def stop() -> None:
            worker.stop()
            scheduler.stop()

        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop)  # one handler per signal: a second call would replace the first
        supervisor = None
        if settings.embedded:
            from graphql_app.db.embedded import embedded_server, supervise

            supervisor = asyncio.create_task(supervise(embedded_server(settings.data_dir), db.reset_connections))
        if args.metrics_port:
            from prometheus_client import start_http_server

            start_http_server(args.metrics_port, addr=args.metrics_host)
        print(f"Matchgraph worker consuming computations (concurrency {args.concurrency}).", flush=True)
        scheduling = asyncio.create_task(scheduler.run(), name="scheduler")
        try:
            await worker.run()
        finally:
            scheduler.stop()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(scheduling, 10)
            if supervisor is not None:
                supervisor.cancel()
            await db.dispose()

    try:
        asyncio.run(run())
    except DatabaseSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None


def cmd_migrate(args: argparse.Namespace) -> int:
    from graphql_app.db.setup import DatabaseSetupError, migrate, resolve_database_url

    settings = load_settings()

    async def run() -> None:
        url = await resolve_database_url(settings)
        await migrate(url, args.revision)

    try:
        asyncio.run(run())
    except DatabaseSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Database migrated to {args.revision}.")
    return 0


def cmd_token(args: argparse.Namespace) -> int:
    from graphql_app.auth import mint_token

    settings = load_settings()
    if settings.jwt_algorithm == "HS256" and settings.resolved_jwt_secret(create=False) is None and settings.embedded:
        # A new secret here would sign tokens that no running server accepts.
        print(
            f"error: no development secret at {settings.jwt_secret_file}. Run this command in the directory where "
            "you ran `matchgraph serve` (or set MATCHGRAPH_DATA_DIR to that server's data directory, or "
            "MATCHGRAPH_JWT_SECRET to its secret).",
            file=sys.stderr,
        )
        return 1
    private_key = Path(args.private_key_file).read_text() if args.private_key_file else None
    try:
        token = mint_token(
            settings,
            subject=args.subject or f"dev-{args.role[0].lower()}@{args.tenant}",
            tenant_id=args.tenant,
            roles=args.role,
            member_id=args.member_id,
            ttl_seconds=int(args.hours * 3600),
            private_key=private_key,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(token)
    return 0


def cmd_seed_demo(args: argparse.Namespace) -> int:
    from graphql_app.app import open_services
    from graphql_app.demo.seed import seed_demo

    async def run() -> None:
        services = await open_services(load_settings())
        try:
            await seed_demo(
                services, only_if_empty=not args.force, grant_count=args.grants, company_count=args.companies
            )
        finally:
            await services.db.dispose()

    asyncio.run(run())
    return 0


def cmd_trust_documents(args: argparse.Namespace) -> int:
    """Register a manifest's documents as trusted (all or nothing; every document must validate)."""
    from graphql import GraphQLError, parse, validate

    from graphql_app.db.engine import Database
    from graphql_app.db.setup import DatabaseSetupError, migrate, resolve_database_url
    from graphql_app.services.persisted_documents import ManifestError, documents_of_manifest, trust_documents
    from schema.root import schema

    try:
        documents = documents_of_manifest(Path(args.manifest).read_text())
    except (OSError, ManifestError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for sha256, body in documents.items():
        try:
            errors = validate(schema._schema, parse(body))
        except GraphQLError as exc:
            errors = [exc]
        if errors:
            print(f"error: document {sha256} is not valid against this schema: {errors[0].message}", file=sys.stderr)
            return 1
    settings = load_settings()

    async def run() -> int:
        url = await resolve_database_url(settings)
        if settings.embedded:
            await migrate(url)
        db = Database(url, pool_size=1)
        try:
            return await trust_documents(db, documents, source=Path(args.manifest).name)
        finally:
            await db.dispose()

    try:
        count = asyncio.run(run())
    except DatabaseSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"Trusted {count} documents from {args.manifest}.")
    return 0


#: Exit statuses of `matchgraph computations` (2 is argparse's, for bad arguments).
EXIT_NOT_FOUND = 3
EXIT_WRONG_STATE = 4


def cmd_computations(args: argparse.Namespace) -> int:
    """List, retry or cancel computations (operators)."""
    import json
    import uuid

    from graphql_app.db.engine import Database
    from graphql_app.db.setup import DatabaseSetupError, migrate, resolve_database_url
    from graphql_app.services import computation_admin as admin

    computation_id = None
    if args.action != "list":
        try:
            computation_id = uuid.UUID(args.id)
        except ValueError:
            print(f"error: {args.id!r} is not a computation id (a UUID)", file=sys.stderr)
            return 2
    settings = load_settings()

    async def run():
        url = await resolve_database_url(settings)
        if settings.embedded:
            await migrate(url)
        db = Database(url, pool_size=1)
        try:
            if args.action == "list":
                return await admin.list_computations(
                    db, statuses=tuple(args.state or ()), kinds=tuple(args.kind or ()), limit=args.limit
                )
            if args.action == "retry":
                return await admin.retry_computation(db, computation_id)
            return await admin.cancel_computation(db, computation_id)
        finally:
            await db.dispose()

    try:
        result = asyncio.run(run())
    except DatabaseSetupError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except admin.ComputationNotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_NOT_FOUND
    except admin.WrongState as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_WRONG_STATE
    if args.action == "retry":
        print(f"Computation {result.id} ({result.kind}) is QUEUED again.")
        return 0
    if args.action == "cancel":
        print(f"Computation {result.id} ({result.kind}) is CANCELLED.")
        return 0
    if args.json:
        for row in result:
            print(json.dumps(_computation_json(row)))
        return 0
    if not result:
        print("No computations.")
        return 0
    print(f"{'id':36}  {'kind':17}  {'status':9}  {'progress':>8}  {'tries':>5}  {'created (UTC)':19}  tenant / error")
    for row in result:
        created = row.created_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")
        note = row.tenant_id + (f" / {row.error}" if row.error else "")
        progress = f"{row.progress:.0%}"
        print(f"{row.id!s:36}  {row.kind:17}  {row.status:9}  {progress:>8}  {row.attempts:>5}  {created:19}  {note}")
    return 0


def _computation_json(row) -> dict:
    return {
        "id": str(row.id),
        "kind": row.kind,
        "status": row.status,
        "tenantId": row.tenant_id,
        "progress": row.progress,
        "attempts": row.attempts,
        "error": row.error,
        "createdAt": row.created_at.isoformat(),
        "finishedAt": row.finished_at.isoformat() if row.finished_at else None,
    }


def _upper_choice(choices: tuple[str, ...]):
    def parse(value: str) -> str:
        upper = value.strip().upper()
        if upper not in choices:
            raise argparse.ArgumentTypeError(f"{value!r} is not one of {', '.join(choices)}")
        return upper

    return parse


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def cmd_reembed(args: argparse.Namespace) -> int:
    """Re-embed every stored text with MATCHGRAPH_EMBEDDING_MODEL, then swap the vectors in one transaction."""
    from graphql_app.db.engine import Database
    from graphql_app.db.setup import DatabaseSetupError, migrate, resolve_database_url
    from graphql_app.matching.embeddings import load_embedder
    from graphql_app.services import reembed

    settings = load_settings()

    def bar(source: str, total: int, already: int):
        from tqdm import tqdm

        return tqdm(total=total, initial=already, desc=source, unit="row", file=sys.stderr, dynamic_ncols=True)

    async def run() -> int:
        url = await resolve_database_url(settings)
        if settings.embedded:
            await migrate(url)
        db = Database(url, pool_size=2, statement_timeout=settings.worker_statement_timeout_seconds)
        try:
            current = await reembed.current_model(db)
            if current is not None and current[0] == settings.embedding_model:
                print(f"The stored vectors are {current[0]}'s already: nothing to do.")
                return 0
            try:
                embedder = await asyncio.to_thread(load_embedder, settings.embedding_model)
            except Exception as exc:
                raise reembed.ReembedError(
                    f"cannot load the embedding model {settings.embedding_model!r} (MATCHGRAPH_EMBEDDING_MODEL): {exc}"
                ) from None
            was = f"{current[0]} ({current[1]}-d)" if current else "no recorded model"
            print(f"Re-embedding with {embedder.model_id} ({embedder.dimension}-d); the stored vectors are {was}.")
            embedded = await reembed.stage(db, embedder, batch_size=args.batch_size, progress=bar)
            print("Staged: " + ", ".join(f"{name} {count}" for name, count in embedded.items()) + " newly embedded.")
            if await reembed.prepare_columns(db, embedder):
                print(f"Prepared {embedder.dimension}-d twins of the vector columns and their indexes.")
            if args.stage_only:
                print("Staged only (--stage-only): run `matchgraph reembed` again to finish and swap.")
                return 0
            late = await reembed.swap(db, embedder)
            print(
                "Swapped in one transaction; embedded at the swap (changed or added meanwhile): "
                + ", ".join(f"{name} {count}" for name, count in late.items())
                + f". Restart the API processes with MATCHGRAPH_EMBEDDING_MODEL={embedder.model_id}."
            )
            return 0
        finally:
            await db.dispose()

    try:
        return asyncio.run(run())
    except (DatabaseSetupError, reembed.ReembedError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


def cmd_export_schema(args: argparse.Namespace) -> int:
    from schema.root import schema

    text = schema.as_str() + "\n"
    if args.output == "-":
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text)
        print(f"Wrote {args.output}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="matchgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="Run the API (embedded Postgres unless MATCHGRAPH_DATABASE_URL is set).")
    serve.add_argument("--host", help="Bind address (default 127.0.0.1 or MATCHGRAPH_HOST).")
    serve.add_argument("--port", type=int, help="Port (default 8000 or MATCHGRAPH_PORT).")
    serve.add_argument("--demo", action="store_true", help="Load the demo dataset first if the database is empty.")
    serve.add_argument(
        "--no-worker", action="store_true", help="Do not consume computations here (run `matchgraph worker`s)."
    )
    serve.set_defaults(func=cmd_serve)

    work = sub.add_parser("worker", help="Consume background computations (scale out: run one per machine).")
    work.add_argument(
        "--concurrency",
        type=int,
        default=int(os.environ.get("MATCHGRAPH_WORKER_CONCURRENCY") or 4),
        help="Computations run at once (default 4).",
    )
    work.add_argument(
        "--metrics-port",
        type=int,
        default=int(os.environ.get("MATCHGRAPH_WORKER_METRICS_PORT") or 0),
        help="Serve Prometheus metrics on this port (default off, or MATCHGRAPH_WORKER_METRICS_PORT).",
    )
    work.add_argument(
        "--metrics-host", default="127.0.0.1", help="Bind address of the metrics port (default 127.0.0.1)."
    )
    work.set_defaults(func=cmd_worker)

    mig = sub.add_parser("migrate", help="Apply database migrations.")
    mig.add_argument("--revision", default="head", help="Target revision (default head).")
    mig.set_defaults(func=cmd_migrate)

    tok = sub.add_parser("token", help="Print a development JWT.")
    tok.add_argument("--tenant", required=True, help="tenant_id claim (organisation account).")
    tok.add_argument("--role", action="append", choices=ROLES, required=True, help="Role (repeatable).")
    tok.add_argument("--subject", help="sub claim (default derived from role and tenant).")
    tok.add_argument("--member-id", help="member_id claim (UUID).")
    tok.add_argument("--hours", type=float, default=12, help="Lifetime in hours (default 12).")
    tok.add_argument("--private-key-file", help="PEM private key, for RS256 deployments.")
    tok.set_defaults(func=cmd_token)

    seed = sub.add_parser("seed-demo", help="Load the demo dataset and print a token for each role.")
    seed.add_argument("--force", action="store_true", help="Add the demo data even if the database has data.")
    seed.add_argument("--grants", type=int, default=300, help="How many grants (default 300).")
    seed.add_argument("--companies", type=int, default=200, help="How many companies (default 200).")
    seed.set_defaults(func=cmd_seed_demo)

    trust = sub.add_parser(
        "trust-documents",
        help="Register the documents of a manifest as trusted (MATCHGRAPH_TRUSTED_DOCUMENTS runs only those).",
    )
    trust.add_argument(
        "manifest",
        help="Apollo persisted-query manifest, a {sha256: document} JSON object (GraphQL Code Generator's "
        "persisted documents) or a JSON list of documents.",
    )
    trust.set_defaults(func=cmd_trust_documents)

    comp = sub.add_parser("computations", help="List, retry or cancel background computations (operators).")
    comp_sub = comp.add_subparsers(dest="action", required=True)
    comp_list = comp_sub.add_parser("list", help="The newest computations first.")
    comp_list.add_argument(
        "--state",
        action="append",
        type=_upper_choice(COMPUTATION_STATES),
        help=f"Only this state (repeatable): {', '.join(COMPUTATION_STATES)}.",
    )
    comp_list.add_argument(
        "--kind",
        action="append",
        type=_upper_choice(COMPUTATION_KINDS),
        help=f"Only this kind (repeatable): {', '.join(COMPUTATION_KINDS)}.",
    )
    comp_list.add_argument("--limit", type=_positive, default=50, help="At most this many (default 50).")
    comp_list.add_argument("--json", action="store_true", help="One JSON object per line.")
    comp_retry = comp_sub.add_parser("retry", help="Queue a FAILED or CANCELLED computation again.")
    comp_retry.add_argument("id", help="The computation's id.")
    comp_cancel = comp_sub.add_parser("cancel", help="Cancel a QUEUED or RUNNING computation.")
    comp_cancel.add_argument("id", help="The computation's id.")
    comp.set_defaults(func=cmd_computations)

    emb = sub.add_parser(
        "reembed",
        help="Re-embed every stored text with MATCHGRAPH_EMBEDDING_MODEL (resumable), then swap the vectors at once.",
    )
    emb.add_argument("--batch-size", type=_positive, default=256, help="Rows embedded per batch (default 256).")
    emb.add_argument(
        "--stage-only", action="store_true", help="Compute and keep the new vectors, but do not swap them in yet."
    )
    emb.set_defaults(func=cmd_reembed)

    exp = sub.add_parser("export-schema", help="Write the GraphQL schema (SDL).")
    exp.add_argument("--output", default="schema.graphql", help="File, or - for stdout (default schema.graphql).")
    exp.set_defaults(func=cmd_export_schema)
    return parser


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    from graphql_app.logs import configure_logging

    configure_logging(os.environ.get("MATCHGRAPH_LOG_LEVEL") or "INFO", load_settings().log_format)
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    # SIGTERM before uvicorn (or the worker) installs its own handlers — while the model loads, say — exits like
    # SIGINT: exit handlers run, so the embedded PostgreSQL is stopped when this was its last process.
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    raise SystemExit(main())
