"""Start-up time and memory of an API process (`matchgraph serve --no-worker`), see bench/README.md.

Against a throw-away embedded Postgres with the frontend dataset, each run starts a fresh process and measures:

* seconds from spawn to the first 200 from ``/livez`` (alive) and from ``/readyz`` (database, migrations, event
  listener and the embedding model, which loads in the background at start);
* RSS once ready and idle (the process's own; its live-scoring process apart);
* RSS under the frontend load: page-20 requests from ``--concurrency`` clients, sampled every 50 ms (peak), and
  the throughput.

    python -m bench.startup --runs 3
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
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
from bench.frontend_page import load_frontend_dataset, matchgraph_command, request_body, tokens_for
from bench.memory import MB, _env, _rss


def _wait_for(client: httpx.Client, url: str, process: ServerSubprocess, started: float, timeout: float) -> float:
    while True:
        if process.proc.poll() is not None:
            raise RuntimeError(f"{process.name} exited:\n{process.log_tail()}")
        try:
            if client.get(url).status_code == 200:
                return round(time.perf_counter() - started, 2)
        except httpx.HTTPError:
            pass
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{url} not 200 after {timeout} s:\n{process.log_tail()}")
        time.sleep(0.02)


class RssSampler:
    """Peak RSS of one process (and, apart, of its children) sampled in a thread."""

    def __init__(self, pid: int, interval: float = 0.05) -> None:
        self.process = psutil.Process(pid)
        self.interval = interval
        self.peak = self.children_peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.process.memory_info().rss)
            children = sum(c.memory_info().rss for c in self.process.children(recursive=True))
            self.children_peak = max(self.children_peak, children)
            self._stop.wait(self.interval)


async def _load(url: str, jobs, tokens, requests: int, concurrency: int) -> float:
    """Requests per second of ``requests`` page-20 requests from ``concurrency`` clients."""
    queue: asyncio.Queue = asyncio.Queue()
    for i in range(requests):
        queue.put_nowait(jobs[i % len(jobs)])

    async def client_loop(http: httpx.AsyncClient) -> None:
        while not queue.empty():
            company_id, tenant = queue.get_nowait()
            headers = {"Authorization": f"Bearer {tokens[tenant]}", "Content-Type": "application/json"}
            response = await http.post(url, content=request_body(company_id, 20), headers=headers)
            assert response.status_code == 200 and b'"errors"' not in response.content, response.text[:300]

    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        await asyncio.gather(*(client_loop(http) for _ in range(concurrency)))
    return round(requests / (time.perf_counter() - started), 1)


def one_run(env: dict, log_dir: Path, jobs, tokens, args: argparse.Namespace, index: int) -> dict[str, Any]:
    port = free_port()
    argv = [*matchgraph_command(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
    server = ServerSubprocess(f"api-{index}", argv, env, port, log_dir)
    started = server._started
    try:
        with httpx.Client(timeout=5) as client:
            livez = _wait_for(client, f"{server.base_url}/livez", server, started, 120)
            readyz = _wait_for(client, f"{server.base_url}/readyz", server, started, 180)
        time.sleep(args.settle)  # the live-scoring process starts in the background
        out: dict[str, Any] = {"livez_s": livez, "readyz_s": readyz, "idle": _rss(server.pid)}
        with RssSampler(server.pid) as sampler:
            throughput = asyncio.run(_load(f"{server.base_url}/graphql", jobs, tokens, args.requests, args.concurrency))
        out["under_load"] = {
            "peak_rss_mb": round(sampler.peak / MB, 1),
            "children_peak_rss_mb": round(sampler.children_peak / MB, 1),
            "requests_per_s": throughput,
        }
        out["after_load"] = _rss(server.pid)
        return out
    finally:
        server.stop()


async def run(args: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "startup",
        "command": "python -m bench.startup " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load": {"requests": args.requests, "concurrency": args.concurrency, "page": "frontend page, first: 20"},
    }
    async with temp_embedded_database("startup") as bench_db:
        dataset = await load_frontend_dataset(bench_db, args.grants, args.companies)
        jobs = dataset.pop("jobs")
        results["dataset"] = dataset
        tokens = tokens_for({tenant for _, tenant in jobs})
        log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-startup-"))
        env = _env(bench_db, log_dir)
        try:
            results["runs"] = [
                await asyncio.to_thread(one_run, env, log_dir, jobs, tokens, args, i) for i in range(args.runs)
            ]
        finally:
            shutil.rmtree(log_dir, ignore_errors=True)
    return results


def render_markdown(results: dict[str, Any]) -> str:
    runs = results["runs"]

    def med(values) -> float:
        return statistics.median(values)

    rows = [
        ["to `/livez` 200", f"{med(r['livez_s'] for r in runs):.2f} s", ", ".join(f"{r['livez_s']:.2f}" for r in runs)],
        [
            "to `/readyz` 200",
            f"{med(r['readyz_s'] for r in runs):.2f} s",
            ", ".join(f"{r['readyz_s']:.2f}" for r in runs),
        ],
        [
            "RSS, ready and idle",
            f"{med(r['idle']['rss_mb'] for r in runs):.0f} MB",
            ", ".join(f"{r['idle']['rss_mb']:.0f}" for r in runs),
        ],
        [
            "RSS peak under the page load",
            f"{med(r['under_load']['peak_rss_mb'] for r in runs):.0f} MB",
            ", ".join(f"{r['under_load']['peak_rss_mb']:.0f}" for r in runs),
        ],
        [
            "RSS after the load",
            f"{med(r['after_load']['rss_mb'] for r in runs):.0f} MB",
            ", ".join(f"{r['after_load']['rss_mb']:.0f}" for r in runs),
        ],
        [
            "its live-scoring process, RSS peak",
            f"{med(r['under_load']['children_peak_rss_mb'] for r in runs):.0f} MB",
            ", ".join(f"{r['under_load']['children_peak_rss_mb']:.0f}" for r in runs),
        ],
        [
            "page-20 throughput under the load",
            f"{med(r['under_load']['requests_per_s'] for r in runs):.0f} req/s",
            ", ".join(f"{r['under_load']['requests_per_s']:.0f}" for r in runs),
        ],
    ]
    return markdown_table(["measure", "median", "each run"], rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--grants", type=int, default=2000)
    parser.add_argument("--companies", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--requests", type=int, default=400, help="page requests of the load (default 400)")
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--settle", type=float, default=3.0, help="seconds idle before measuring idle RSS")
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    parser.add_argument("--results-name", default="startup", help="results file bench/results/NAME-<date>.json")
    args = parser.parse_args(argv)
    results = asyncio.run(run(args))
    print(render_markdown(results))
    if not args.no_save:
        print(f"saved {write_results(args.results_name, results)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
