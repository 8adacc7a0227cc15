"""Liveness, readiness and metrics endpoints.

* ``GET /livez`` — the process runs and its event loop answers: 200, always (nothing else is checked, so an
  orchestrator restarts only a process that is really stuck).
* ``GET /readyz`` — the process can serve everything: started, database reachable, migrations at head, event
  listener connected, embedding model loaded. 200 or 503, with each check's state.
* ``GET /healthz`` — ``/readyz`` without the embedding model: the process serves reads and writes that do not
  embed (fields that embed wait for the model, bounded, or answer ``SERVICE_UNAVAILABLE``). Kept for existing
  load balancers and scripts.
* ``GET /metrics`` — Prometheus text format, when ``MATCHGRAPH_METRICS`` is on; with ``MATCHGRAPH_METRICS_TOKEN``
  only to ``Authorization: Bearer <token>``.
"""

from __future__ import annotations

import asyncio
import hmac
import logging

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from graphql_app import metrics
from graphql_app.db.setup import migration_head, migration_revision

logger = logging.getLogger(__name__)

#: Seconds a check may take before it counts as failed.
CHECK_TIMEOUT = 2.0


async def livez(request: Request) -> JSONResponse:
    return JSONResponse({"status": "alive"})


async def readyz(request: Request) -> JSONResponse:
    return await _readiness(request, include_model=True)


async def healthz(request: Request) -> JSONResponse:
    return await _readiness(request, include_model=False)


async def _readiness(request: Request, *, include_model: bool) -> JSONResponse:
    checks = await readiness_checks(request.app.state, include_model=include_model)
    ready = all(value in ("ok", "on first use") for value in checks.values())
    body = {"status": "ok" if ready else "unavailable", **checks}
    return JSONResponse(body, status_code=200 if ready else 503)


async def readiness_checks(app_state, *, include_model: bool) -> dict[str, str]:
    """Each check's state: ``ok`` or what is wrong."""
    startup = app_state.startup
    if startup.state in ("starting", "failed"):
        checks = {"startup": startup.state, "database": "unknown", "migrations": "unknown", "eventListener": "unknown"}
        if include_model:
            checks["embeddingModel"] = "unknown"
        return checks
    services = app_state.services
    checks = {"startup": "ok"}
    try:
        async with services.db.reader() as conn:
            revision = await asyncio.wait_for(migration_revision(conn), CHECK_TIMEOUT)
        checks["database"] = "ok"
        head = migration_head()
        checks["migrations"] = "ok" if revision == head else f"at {revision}, expected {head}"
    except Exception as exc:
        logger.warning("readiness: database check failed: %r", exc)
        checks["database"], checks["migrations"] = "unreachable", "unknown"
    events = services.events
    checks["eventListener"] = "ok" if events is not None and events.connected else "disconnected"
    if include_model:
        state = services.embedder_state
        preloads = services.settings.preloads_embedding_model
        checks["embeddingModel"] = "on first use" if state == "not loaded" and not preloads else state
    return checks


async def metrics_endpoint(request: Request) -> Response:
    """The Prometheus exposition, with the gauges read at scrape (queue, pools, subscribers) brought up to date."""
    settings = request.app.state.settings
    if settings.metrics_token:
        expected = f"Bearer {settings.metrics_token}".encode()
        given = (request.headers.get("authorization") or "").encode()
        if not hmac.compare_digest(given, expected):
            return Response("metrics need Authorization: Bearer <MATCHGRAPH_METRICS_TOKEN>\n", status_code=401)
    if request.app.state.startup.state in ("ok", "not started"):
        await update_scrape_gauges(request.app.state)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


QUEUE_STATE = text(
    "SELECT status::text AS status, count(*) AS jobs,"
    " coalesce(extract(epoch FROM now() - min(created) FILTER (WHERE status = 'queued')), 0) AS oldest"
    " FROM pgqueuer GROUP BY status"
)


async def update_scrape_gauges(app_state) -> None:
    services = app_state.services
    pools = {"api": services.db, **getattr(app_state, "extra_pools", {})}
    for name, db in pools.items():
        for pool, (in_use, idle) in db.pool_connections().items():
            metrics.DB_POOL_CONNECTIONS.labels(f"{name}_{pool}", "in_use").set(in_use)
            metrics.DB_POOL_CONNECTIONS.labels(f"{name}_{pool}", "idle").set(idle)
    metrics.EVENT_SUBSCRIBERS.set(services.events.subscriber_count if services.events is not None else 0)
    metrics.EMBEDDING_MODEL_LOADED.set(1 if services.embedder is not None else 0)
    try:
        async with services.db.reader() as conn:
            rows = (await asyncio.wait_for(conn.execute(QUEUE_STATE), CHECK_TIMEOUT)).all()
    except Exception as exc:
        logger.warning("metrics: could not read the queue: %r", exc)
        return
    by_status = {row.status: row for row in rows}
    for status in ("queued", "picked"):
        row = by_status.get(status)
        metrics.QUEUE_JOBS.labels(status).set(row.jobs if row else 0)
    queued = by_status.get("queued")
    metrics.QUEUE_OLDEST_AGE.set(float(queued.oldest) if queued else 0.0)
