"""`MATCHGRAPH_LOG_FORMAT=json` on a real `matchgraph serve`: one JSON object per line, a line per request with its
request id, operation, tenant, status and duration; the request id comes back in `X-Request-Id` (a sane incoming
one is kept, anything else replaced)."""

from __future__ import annotations

import json
import re

import httpx

from tests.processes import Server


def test_json_logs_carry_request_id_operation_tenant_and_duration(live_env, admin_token):
    server = Server({**live_env, "MATCHGRAPH_LOG_FORMAT": "json", "MATCHGRAPH_LOG_LEVEL": "info"}, "--no-worker")
    try:
        query = {"query": "query WhoAmI { me { tenantId } }"}
        auth = {"Authorization": f"Bearer {admin_token}"}
        kept = httpx.post(f"{server.url}/graphql", json=query, headers={**auth, "X-Request-Id": "edge-42.a"})
        assert kept.status_code == 200 and kept.headers["x-request-id"] == "edge-42.a"
        replaced = httpx.post(f"{server.url}/graphql", json=query, headers={**auth, "X-Request-Id": "no spaces <>"})
        assert re.fullmatch(r"[0-9a-f]{32}", replaced.headers["x-request-id"])
        fresh = httpx.get(f"{server.url}/livez")
        assert re.fullmatch(r"[0-9a-f]{32}", fresh.headers["x-request-id"])
    finally:
        output = server.stop()
    records = [json.loads(line) for line in output.splitlines() if line.startswith("{")]
    assert records, output
    assert all({"time", "level", "logger", "message"} <= record.keys() for record in records)
    line = next(r for r in records if r.get("request_id") == "edge-42.a")
    assert line["logger"] == "matchgraph.requests"
    assert (line["method"], line["path"], line["status"]) == ("POST", "/graphql", 200)
    assert (line["operation"], line["tenant"]) == ("WhoAmI", "tenant-a")
    assert isinstance(line["duration_ms"], float | int) and line["duration_ms"] >= 0
    assert any(r.get("request_id") == replaced.headers["x-request-id"] for r in records)
    # Uvicorn's own lines are JSON too (no plain-text lines but the banner on stdout).
    assert any(r["logger"].startswith("uvicorn") for r in records)
