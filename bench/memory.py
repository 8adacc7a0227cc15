"""Resident memory of each kind of Matchgraph process, idle and after work (see bench/README.md).

Against a throw-away embedded Postgres with the frontend dataset (grants with embeddings, companies, matches):

* ``serve --no-worker`` — an API process: idle after start-up; after pages and live scoring (no model needed);
  after a ``searchGrants`` (the embedding model loads on first use).
* ``serve`` — the same with the in-process computation worker.
* ``worker`` — a computation worker: idle; after a grant-match computation it ran.

RSS is the process's own (``psutil``); the live-scoring worker processes (``MATCHGRAPH_SCORING_PROCESSES``) are
reported apart as ``children``.

    python -m bench.memory
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.common import (
    ServerSubprocess,
    free_port,
    machine_info,
    markdown_table,
    temp_embedded_database,
    utc_now,
    write_results,
)
from bench.frontend_page import JWT_SECRET, load_frontend_dataset, matchgraph_command, request_body, tokens_for
from bench.live_interference import live_body

MB = 1024 * 1024


def _rss(pid: int) -> dict[str, float]:
    process = psutil.Process(pid)
    children = process.children(recursive=True)
    return {
        "rss_mb": round(process.memory_info().rss / MB, 1),
        "children_rss_mb": round(sum(child.memory_info().rss for child in children) / MB, 1),
    }


def _env(bench_db, log_dir: Path) -> dict[str, str]:
    return {
        **os.environ,
        "MATCHGRAPH_DATABASE_URL": bench_db.url,
        "MATCHGRAPH_JWT_SECRET": JWT_SECRET,
        "MATCHGRAPH_DATA_DIR": str(log_dir),
        "MATCHGRAPH_LOG_LEVEL": "warning",
        "MATCHGRAPH_RATE_LIMIT": "1000000/minute",
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
    }


def _post(client: httpx.Client, url: str, body: bytes | dict, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if isinstance(body, dict):
        response = client.post(url, json=body, headers=headers)
    else:
        response = client.post(url, content=body, headers=headers)
    payload = response.json()
    assert response.status_code == 200 and not payload.get("errors"), payload
    return payload["data"]


def _api(name: str, argv: list[str], env: dict, log_dir: Path) -> ServerSubprocess:
    port = free_port()
    server = ServerSubprocess(
        name, [*matchgraph_command(), *argv, "--host", "127.0.0.1", "--port", str(port)], env, port, log_dir
    )
    server.wait_ready(lambda client, base: client.get(base + "/healthz").status_code == 200, timeout=180)
    return server


def measure_api(name: str, argv: list[str], env: dict, log_dir: Path, jobs, tokens) -> dict[str, Any]:
    server = _api(name, argv, env, log_dir)
    try:
        time.sleep(3)  # the scoring pool's processes start in the background
        out: dict[str, Any] = {"idle": _rss(server.pid)}
        url = server.base_url + "/graphql"
        with httpx.Client(timeout=120) as client:
            for company_id, tenant in jobs[:50]:
                _post(client, url, request_body(company_id, 20), tokens[tenant])
            for company_id, tenant in jobs[:10]:
                _post(client, url, live_body(company_id), tokens[tenant])
            out["after_pages_and_live"] = _rss(server.pid)
            company_id, tenant = jobs[0]
            _post(
                client,
                url,
                {"query": '{ searchGrants(text: "solar panels for farms", first: 5) { similarity } }'},
                tokens[tenant],
            )
            out["after_search"] = _rss(server.pid)
        return out
    finally:
        server.stop()


def measure_worker(env: dict, log_dir: Path, jobs, tokens) -> dict[str, Any]:
    api = _api("api-for-worker", ["serve", "--no-worker"], env, log_dir)
    worker = ServerSubprocess("worker", [*matchgraph_command(), "worker"], env, 0, log_dir)
    try:
        time.sleep(8)  # start-up: connect, LISTEN
        if worker.proc.poll() is not None:
            raise RuntimeError(worker.log_tail())
        out: dict[str, Any] = {"idle": _rss(worker.pid)}
        url = api.base_url + "/graphql"
        company_id, tenant = jobs[0]
        with httpx.Client(timeout=120) as client:
            started = _post(
                client,
                url,
                {"query": f'mutation {{ calculateGrantMatches(companyId: "{company_id}") {{ id }} }}'},
                tokens[tenant],
            )["calculateGrantMatches"]
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                state = _post(
                    client, url, {"query": f'{{ computation(id: "{started["id"]}") {{ status }} }}'}, tokens[tenant]
                )["computation"]["status"]
                if state in ("SUCCEEDED", "FAILED"):
                    break
                time.sleep(0.5)
        out["after_a_computation"] = _rss(worker.pid)
        out["computation_status"] = state
        return out
    finally:
        worker.stop()
        api.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "memory",
        "command": "python -m bench.memory " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
    }
    async with temp_embedded_database("memory") as bench_db:
        dataset = await load_frontend_dataset(bench_db, args.grants, args.companies)
        jobs = dataset.pop("jobs")
        results["dataset"] = dataset
        tokens = tokens_for({tenant for _, tenant in jobs})
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-memory-"))
        env = _env(bench_db, log_dir)
        try:
            results["serve --no-worker"] = await asyncio.to_thread(
                measure_api, "api", ["serve", "--no-worker"], env, log_dir, jobs, tokens
            )
            results["serve"] = await asyncio.to_thread(measure_api, "serve", ["serve"], env, log_dir, jobs, tokens)
            results["worker"] = await asyncio.to_thread(measure_worker, env, log_dir, jobs, tokens)
        finally:
            shutil.rmtree(log_dir, ignore_errors=True)
    return results


def render_markdown(results: dict[str, Any]) -> str:
    rows = []
    for kind in ("serve --no-worker", "serve", "worker"):
        for state, rss in results[kind].items():
            if isinstance(rss, dict):
                rows.append(
                    [f"`{kind}`", state.replace("_", " "), f"{rss['rss_mb']:.0f}", f"{rss['children_rss_mb']:.0f}"]
                )
    return markdown_table(["process", "state", "RSS MB", "its live-scoring processes, RSS MB"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=100)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(render_markdown(results))
    if not args.no_save:
        print(f"saved {write_results('memory', results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
