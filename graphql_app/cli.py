"""`matchgraph` — serve, migrate, mint tokens, load demo data, export the schema."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import sys
from pathlib import Path

from graphql_app.settings import load_settings

ROLES = ("MEMBER", "ORG_USER", "ORG_ADMIN", "PLATFORM_ADMIN")


def _print_banner(settings) -> None:
    url = f"http://{settings.host}:{settings.port}/graphql"
    print(
        f"\nMatchgraph is serving GraphQL at {url}"
        + (" (open it in a browser for GraphiQL)" if settings.graphiql else "")
    )
    print(f"REST adapters: http://{settings.host}:{settings.port}/api/docs (OpenAPI: /api/openapi.json)")
    print(f"Health check: http://{settings.host}:{settings.port}/healthz")
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
    app = create_app(settings)
    _print_banner(settings)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        loop=loop_kind,
        http="httptools" if _has("httptools") else "h11",
        log_level=os.environ.get("MATCHGRAPH_LOG_LEVEL", "info").lower(),
        lifespan="on",
        ws_max_size=settings.max_body_bytes,  # a WebSocket message is held to the request body limit
    )
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    """Consume computations until SIGTERM/SIGINT (no HTTP, no embedding model)."""

    from graphql_app.clock import Clock
    from graphql_app.db.engine import Database
    from graphql_app.db.setup import migrate, resolve_database_url
    from graphql_app.jobs.worker import ComputationWorker

    settings = load_settings()

    async def run() -> None:
        url = await resolve_database_url(settings)
        if settings.embedded:
            await migrate(url)
        db = Database(
            url, pool_size=max(2, args.concurrency), statement_timeout=settings.worker_statement_timeout_seconds
        )
        worker = ComputationWorker(
            db, Clock(), concurrency=args.concurrency, heartbeat_timeout=settings.worker_heartbeat_seconds
        )
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, worker.stop)
        supervisor = None
        if settings.embedded:
            from graphql_app.db.embedded import embedded_server, supervise

            supervisor = asyncio.create_task(supervise(embedded_server(settings.data_dir), db.reset_connections))
        print(f"Matchgraph worker consuming computations (concurrency {args.concurrency}).", flush=True)
        try:
            await worker.run()
        finally:
            if supervisor is not None:
                supervisor.cancel()
            await db.dispose()

    asyncio.run(run())
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

    exp = sub.add_parser("export-schema", help="Write the GraphQL schema (SDL).")
    exp.add_argument("--output", default="schema.graphql", help="File, or - for stdout (default schema.graphql).")
    exp.set_defaults(func=cmd_export_schema)
    return parser


def _exit_on_sigterm(signum, frame) -> None:
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("MATCHGRAPH_LOG_LEVEL", "INFO").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
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
