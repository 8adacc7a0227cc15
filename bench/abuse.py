"""Abuse benchmark: the attacks of tests/security/test_query_limits.py against a server with the request limits on
("after", default settings) and one with them switched off as far as settings allow ("before").

A throw-away embedded Postgres gets bench.frontend_page's dataset (COPY; 5,000 grants, 200 companies × 40 stored
matches by default). Two ``matchgraph serve --no-worker`` processes run against it on 127.0.0.1. For each attack
and each server the attack request is sent back to back for a short window (bounded in count, each request with
a client timeout), while a separate probe process GETs ``/healthz`` every 20 ms. Reported: the attack's latency,
HTTP status and ``extensions.code``; ``/healthz`` latency percentiles during the attack and with no attack; the
server's RSS before, after and at its peak (psutil, sampled by the probe).

    python -m bench.abuse            # ~70 s
    python -m bench.abuse --quick    # tiny dataset, 0.3 s windows, 5 MiB variable (~40 s)

Some protections have no setting and stay on in "before": the repeated-field check
(``RequestLimits.max_repeated_fields`` = 20), the argument string length (``max_string_length`` = 100,000),
the per-field input limits and the statement timeout (15 s). The report says which attacks they refuse there.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import psutil

from bench.common import (
    BenchDatabase,
    ServerSubprocess,
    fmt_ms,
    free_port,
    healthz_ok,
    machine_info,
    markdown_table,
    ms_since,
    percentiles,
    report,
    temp_embedded_database,
    utc_now,
)
from bench.frontend_page import load_frontend_dataset, matchgraph_command

SEED = 7
JWT_SECRET = "bench-abuse-secret-" + "a" * 40
TENANT = "acme-ventures"
MIB = 1024 * 1024

#: "before": every request limit that has a setting, switched off (or as good as).
LIMITS_OFF = {
    "MATCHGRAPH_MAX_TOKENS": "100000000",
    "MATCHGRAPH_MAX_DEPTH": "1000",
    "MATCHGRAPH_MAX_ALIASES": "100000000",
    "MATCHGRAPH_MAX_COST": "1000000000000",
    "MATCHGRAPH_MAX_BODY_BYTES": "1000000000",
    "MATCHGRAPH_RATE_LIMIT": "",  # empty: no per-caller budget of expensive operations
}
#: Protections "before" cannot switch off (no setting), as the report states them.
ALWAYS_ON = (
    "repeated fields: at most 20 selections of one response key per selection set (RequestLimits.max_repeated_fields)",
    "argument strings: at most 100,000 characters, literal or variable (RequestLimits.max_string_length)",
    "per-field input limits (text lengths, list lengths) in the resolvers",
    "statement timeout: 15 s (MATCHGRAPH_STATEMENT_TIMEOUT, left at its default on both servers)",
)


# --- the attacks ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sizes:
    variable_mb: int = 50
    literal_mb: int = 1


@dataclass(frozen=True)
class Attack:
    name: str
    what: str
    anonymous: bool
    expected_after: str  # the code "after" answers with
    body: Callable[[str, Sizes], bytes]  # (a real company id, sizes) → the POST body


def _query(document: str, variables: dict[str, Any] | None = None) -> bytes:
    return orjson.dumps({"query": document, **({"variables": variables} if variables else {})})


NESTED_LISTS = (
    "{ companies(first: 40) { edges { node { grantMatches(first: 40) { edges { node { company {"
    " grantMatches(first: 40) { edges { node { company { name } } } } } } } } } } } }"
)
FRAGMENT_BOMB = (
    "{ ...F0 }"
    + "".join(f" fragment F{i} on Query {{ ...F{i + 1} ...F{i + 1} }}" for i in range(30))
    + " fragment F30 on Query { me { subject } }"
)


def _variable_body(_company: str, sizes: Sizes) -> bytes:
    """A JSON array of short strings as one variable, ``variable_mb`` MiB in all (each string is short, so the
    string-length check does not stop it; the variable is declared and unused, which validation reports)."""
    item = b'"abcdefgh",'  # 11 bytes
    head = b'{"query": "query Abuse($tags: [String!]) { me { subject } }", "variables": {"tags": ['
    count = (sizes.variable_mb * MIB - len(head)) // len(item)
    return head + item * count + b'"end"]}}'


def _literal_body(_company: str, sizes: Sizes) -> bytes:
    text = "a" * (sizes.literal_mb * MIB)
    return _query('{ searchGrants(text: "' + text + '", first: 1) { similarity } }')


ATTACKS: tuple[Attack, ...] = (
    Attack(
        "nested lists",
        "companies(first: 40) → grantMatches(first: 40) → company → grantMatches(first: 40) → company { name }",
        False,
        "QUERY_TOO_COMPLEX",
        lambda _c, _s: _query(NESTED_LISTS),
    ),
    Attack(
        "1,000 repeated fields",
        "`me { subject }` 1,000 times in one selection set, anonymous",
        True,
        "QUERY_TOO_COMPLEX",
        lambda _c, _s: _query("{" + " me { subject }" * 1000 + " }"),
    ),
    Attack(
        "10,000 aliases",
        "`a0: __typename` … `a9999: __typename`, anonymous",
        True,
        "DOCUMENT_TOO_LARGE",
        lambda _c, _s: _query("{" + "".join(f" a{i}: __typename" for i in range(10_000)) + " }"),
    ),
    Attack(
        "60 live scorings",
        "60 aliases of `liveGrantMatches(companyId: <a real company>) { totalCount }`",
        False,
        "TOO_MANY_ALIASES",
        lambda company, _s: _query(
            "{" + "".join(f' l{i}: liveGrantMatches(companyId: "{company}") {{ totalCount }}' for i in range(60)) + " }"
        ),
    ),
    Attack(
        "big JSON variable",
        "a JSON array of short strings as one variable (body of `variable_mb` MiB)",
        False,
        "PAYLOAD_TOO_LARGE",
        _variable_body,
    ),
    Attack(
        "big string literal",
        '`searchGrants(text: "aaa…")` with a `literal_mb` MiB string literal, anonymous',
        True,
        "DOCUMENT_TOO_LARGE",
        _literal_body,
    ),
    Attack(
        "fragment bomb",
        "30 levels of fragments each spreading the next twice (2^30 `me { subject }`)",
        False,
        "QUERY_TOO_COMPLEX",
        lambda _c, _s: _query(FRAGMENT_BOMB),
    ),
)


# --- the /healthz probe (its own process, so the attacking client never delays it) ---------------------------


def _probe_loop(conn: Any) -> None:
    """Entry point of the probe process: on ("start", url, interval_s, timeout_s, pid) GET ``url`` every
    ``interval_s`` (sequentially, one keep-alive connection) and sample the server's RSS every 10 ms (in a thread,
    so a blocked server is sampled too) until "stop", then send back what it measured."""
    import threading

    def sample_rss(server: psutil.Process, stop: threading.Event, peak: list[int]) -> None:
        while not stop.is_set():
            with suppress(psutil.Error):
                peak[0] = max(peak[0], server.memory_info().rss)
            stop.wait(0.01)

    with httpx.Client() as client:
        while True:
            message = conn.recv()
            if message[0] != "start":
                return
            _, url, interval, timeout, pid = message
            stop, peak = threading.Event(), [0]
            sampler = threading.Thread(target=sample_rss, args=(psutil.Process(pid), stop, peak), daemon=True)
            sampler.start()
            latencies: list[float] = []
            statuses: Counter = Counter()
            while True:
                started = time.perf_counter()
                try:
                    status: int | str = client.get(url, timeout=timeout).status_code
                except httpx.HTTPError as exc:
                    status = type(exc).__name__
                latencies.append(ms_since(started))
                statuses[str(status)] += 1
                if conn.poll(max(0.0, interval - (time.perf_counter() - started))):
                    conn.recv()
                    break
            stop.set()
            sampler.join()
            conn.send({"latencies_ms": latencies, "statuses": dict(statuses), "rss_peak": peak[0]})


class Probe:
    """A spawned process probing ``/healthz`` while told to."""

    def __init__(self, interval_s: float, timeout_s: float) -> None:
        self.interval_s = interval_s
        self.timeout_s = timeout_s
        ctx = multiprocessing.get_context("spawn")
        self._conn, child = ctx.Pipe()
        self._proc = ctx.Process(target=_probe_loop, args=(child,), daemon=True, name="healthz-probe")
        self._proc.start()

    def start(self, server: ServerSubprocess) -> None:
        self._conn.send(("start", server.base_url + "/healthz", self.interval_s, self.timeout_s, server.pid))

    def stop(self) -> dict[str, Any]:
        self._conn.send(("stop",))
        if not self._conn.poll(self.timeout_s + 10):
            raise RuntimeError("the /healthz probe did not report")
        return self._conn.recv()

    def close(self) -> None:
        with suppress(OSError, BrokenPipeError):
            self._conn.send(("quit",))
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.terminate()
            self._proc.join(5)


# --- the servers ---------------------------------------------------------------------------------------------


class Target:
    """One ``matchgraph serve --no-worker`` ("after" or "before"); ``restart()`` replaces a wedged process."""

    def __init__(self, name: str, bench_db: BenchDatabase, log_dir: Path, extra_env: dict[str, str]) -> None:
        self.name = name
        self.extra_env = extra_env
        self.env = {
            **os.environ,
            "MATCHGRAPH_DATABASE_URL": bench_db.url,
            "MATCHGRAPH_JWT_SECRET": JWT_SECRET,
            "MATCHGRAPH_DATA_DIR": str(log_dir),
            "MATCHGRAPH_LOG_LEVEL": "warning",
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
            **extra_env,
        }
        self.log_dir = log_dir
        self.restarts = 0
        self.server = self._spawn()

    def _spawn(self) -> ServerSubprocess:
        port = free_port()
        argv = [*matchgraph_command(), "serve", "--no-worker", "--host", "127.0.0.1", "--port", str(port)]
        suffix = f"-{self.restarts}" if self.restarts else ""
        return ServerSubprocess(self.name + suffix, argv, self.env, port, self.log_dir)

    def wait_ready(self) -> float:
        return self.server.wait_ready(healthz_ok, timeout=180.0)

    def restart(self) -> None:
        self.server.stop()
        self.restarts += 1
        self.server = self._spawn()
        self.wait_ready()

    def stop(self) -> None:
        self.server.stop()


def mint_org_user_token() -> str:
    """An ORG_USER token from ``matchgraph token`` (the servers' secret in the environment)."""
    env = {**os.environ, "MATCHGRAPH_JWT_SECRET": JWT_SECRET, "MATCHGRAPH_DATABASE_URL": "postgresql://unused"}
    argv = [*matchgraph_command(), "token", "--tenant", TENANT, "--role", "ORG_USER", "--subject", "attacker@bench"]
    return subprocess.run(argv, env=env, check=True, capture_output=True, text=True, timeout=60).stdout.strip()


def usable(server: ServerSubprocess, timeout: float) -> bool:
    """``/healthz`` answers 200 and a trivial query answers, within ``timeout`` seconds."""
    try:
        with httpx.Client(timeout=timeout) as client:
            ok = client.get(server.base_url + "/healthz").status_code == 200
            body = client.post(server.base_url + "/graphql", json={"query": "{ __typename }"}).json()
            return ok and body.get("data") == {"__typename": "Query"}
    except (httpx.HTTPError, ValueError):
        return False


# --- one attack against one server ---------------------------------------------------------------------------


def _outcome(response: httpx.Response) -> tuple[str, int]:
    """``extensions.code`` of the first error, or "answered" (data, no errors); and the response size."""
    size = len(response.content)
    try:
        payload = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return "not JSON", size
    errors = payload.get("errors") if isinstance(payload, dict) else None
    if errors:
        return str(errors[0].get("extensions", {}).get("code", "no code")), size
    return "answered", size


def run_attack(
    target: Target, probe: Probe, attack: Attack, body: bytes, token: str, cfg: argparse.Namespace
) -> dict[str, Any]:
    """Send ``attack`` back to back for ``cfg.window`` s (at most ``cfg.max_requests`` times, each with a client
    timeout) while the probe measures ``/healthz``; a timeout ends the run and the server is given time to recover
    or restarted."""
    server = target.server
    headers = {"Content-Type": "application/json"}
    anonymous = attack.anonymous and not cfg.token_for_all
    if not anonymous:
        headers["Authorization"] = f"Bearer {token}"
    proc = psutil.Process(server.pid)
    rss_before = proc.memory_info().rss
    latencies: list[float] = []
    outcomes: Counter = Counter()
    statuses: Counter = Counter()
    sizes: list[int] = []
    timed_out = False
    probe.start(server)
    started = time.perf_counter()
    # A new connection per attack request: a refused 413 closes it, and nothing is reused across attacks.
    with httpx.Client(timeout=cfg.attack_timeout) as client:
        while True:
            t = time.perf_counter()
            try:
                response = client.post(server.base_url + "/graphql", content=body, headers=headers)
                code, size = _outcome(response)
                statuses[str(response.status_code)] += 1
                outcomes[code] += 1
                sizes.append(size)
            except httpx.TimeoutException:
                timed_out = True
                outcomes["timeout"] += 1
            except httpx.HTTPError as exc:
                outcomes[type(exc).__name__] += 1
            latencies.append(ms_since(t))
            if timed_out or len(latencies) >= cfg.max_requests or time.perf_counter() - started >= cfg.window:
                break
    window_s = time.perf_counter() - started
    probed = probe.stop()
    rss_after = proc.memory_info().rss if proc.is_running() else None
    recovered_s: float | None = None
    restarted = False
    if timed_out:
        t = time.perf_counter()
        if usable(server, cfg.recover_timeout):
            recovered_s = round(time.perf_counter() - t, 2)
        else:
            target.restart()
            restarted = True
    still_usable = restarted or usable(target.server, 10.0)
    health = probed["latencies_ms"]
    return {
        "attack": attack.name,
        "server": target.name,
        "anonymous": anonymous,
        "requests": len(latencies),
        "window_s": round(window_s, 3),
        "status": dict(statuses),
        "outcome": dict(outcomes),
        "expected_code_after": attack.expected_after,
        "response_bytes": max(sizes) if sizes else None,
        "latency_ms": percentiles(latencies, (50,)),
        "latencies_ms": [round(x, 2) for x in latencies],
        "healthz_ms": percentiles(health, (50, 99)),
        "healthz_probes": len(health),
        "healthz_latencies_ms": [round(x, 2) for x in health],
        "healthz_status": probed["statuses"],
        "rss_mb": {
            "before": round(rss_before / MIB, 1),
            "after": None if rss_after is None else round(rss_after / MIB, 1),
            "peak": round(max(probed["rss_peak"], rss_before, rss_after or 0) / MIB, 1),
        },
        "timed_out": timed_out,
        "recovered_after_timeout_s": recovered_s,
        "restarted": restarted,
        "usable_after": still_usable,
    }


def baseline(target: Target, probe: Probe, seconds: float) -> dict[str, Any]:
    probe.start(target.server)
    time.sleep(seconds)
    probed = probe.stop()
    rss = psutil.Process(target.server.pid).memory_info().rss
    return {
        "healthz_ms": percentiles(probed["latencies_ms"], (50, 99)),
        "healthz_probes": len(probed["latencies_ms"]),
        "healthz_status": probed["statuses"],
        "rss_mb": round(rss / MIB, 1),
    }


# --- the run -------------------------------------------------------------------------------------------------


def attack_servers(bench_db: BenchDatabase, company_id: str, cfg: argparse.Namespace, log_dir: Path) -> dict[str, Any]:
    """Start both servers, take the baselines, run every selected attack against each; stop everything."""
    sizes = Sizes(variable_mb=cfg.variable_mb, literal_mb=cfg.literal_mb)
    attacks = [a for a in ATTACKS if not cfg.attacks or a.name in cfg.attacks]
    bodies = {a.name: a.body(company_id, sizes) for a in attacks}
    token = mint_org_user_token()
    targets: dict[str, Target] = {}
    probe = Probe(cfg.probe_interval, cfg.attack_timeout + cfg.recover_timeout)
    out: dict[str, Any] = {"body_bytes": {name: len(b) for name, b in bodies.items()}}
    try:
        for name in cfg.servers:
            targets[name] = Target(name, bench_db, log_dir, {} if name == "after" else LIMITS_OFF)
        out["startup_s"] = {name: t.wait_ready() for name, t in targets.items()}
        out["baseline"] = {name: baseline(t, probe, cfg.baseline) for name, t in targets.items()}
        runs = []
        for attack in attacks:
            for name, target in targets.items():
                result = run_attack(target, probe, attack, bodies[attack.name], token, cfg)
                runs.append(result)
                print(f"  {attack.name} / {name}: {_outcome_cell(result)}, {fmt_ms(result['latency_ms']['max'])} ms")
        out["runs"] = runs
        out["restarts"] = {name: t.restarts for name, t in targets.items()}
    except Exception:
        for target in targets.values():
            print(f"--- {target.server.log_path.name} ---\n{target.server.log_tail()}", file=sys.stderr)
        raise
    finally:
        for target in targets.values():
            target.stop()
        probe.close()
    return out


async def measure(bench_db: BenchDatabase, cfg: argparse.Namespace) -> dict[str, Any]:
    """Load the dataset into ``bench_db`` and attack the servers (everything started here is stopped here)."""
    dataset = await load_frontend_dataset(
        bench_db, cfg.grants, cfg.companies, matches_per_company=cfg.matches, seed=cfg.seed
    )
    jobs = dataset.pop("jobs")
    company_id = next(cid for cid, tenant in jobs if tenant == TENANT)
    log_dir = Path(tempfile.mkdtemp(prefix="mg-bench-abuse-"))
    try:
        attacked = await asyncio.to_thread(attack_servers, bench_db, company_id, cfg, log_dir)
    finally:
        shutil.rmtree(log_dir, ignore_errors=True)
    settings = {
        "after": "defaults",
        "before": LIMITS_OFF,
        "always_on": list(ALWAYS_ON),
        "window_s": cfg.window,
        "max_requests": cfg.max_requests,
        "attack_timeout_s": cfg.attack_timeout,
        "probe_interval_s": cfg.probe_interval,
        "token_for_all": cfg.token_for_all,
    }
    return {"settings": settings, "dataset": dataset, "live_scoring_company": company_id, **attacked}


async def run(cfg: argparse.Namespace) -> dict[str, Any]:
    results: dict[str, Any] = {
        "benchmark": "abuse",
        "command": "python -m bench.abuse " + " ".join(sys.argv[1:]),
        "started_at": utc_now().isoformat(timespec="seconds"),
        "machine": machine_info(),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "attacks": {a.name: a.what for a in ATTACKS},
    }
    async with temp_embedded_database() as bench_db:
        results["postgres"] = await bench_db.server_facts()
        results |= await measure(bench_db, cfg)
    results["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    return results


# --- report --------------------------------------------------------------------------------------------------


def _outcome_cell(run: dict[str, Any]) -> str:
    status = "/".join(run["status"]) or "–"
    codes = ", ".join(f"{code}" + (f" ×{n}" if len(run["outcome"]) > 1 else "") for code, n in run["outcome"].items())
    if "answered" in run["outcome"] and run["response_bytes"]:
        codes += f" ({run['response_bytes'] / 1024:,.0f} KiB)"
    return f"{status} {codes}"


def _mb(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def render_markdown(results: dict[str, Any]) -> str:
    d = results["dataset"]
    out = [
        f"### Attacks: {d['grants']:,} grants, {d['companies']} companies × {d['matches_per_company']} stored matches\n"
    ]
    rows = []
    for name, b in results["baseline"].items():
        h = b["healthz_ms"]
        rows.append(
            [
                "(no attack)",
                name,
                "–",
                "–",
                "–",
                f"{fmt_ms(h['p50'])} / {fmt_ms(h['p99'])} / {fmt_ms(h['max'])} ({b['healthz_probes']})",
                _mb(b["rss_mb"]),
            ]
        )
    for r in results["runs"]:
        lat, h, rss = r["latency_ms"], r["healthz_ms"], r["rss_mb"]
        note = " (timeout; restarted)" if r["restarted"] else " (timeout)" if r["timed_out"] else ""
        rows.append(
            [
                r["attack"] + (" (anonymous)" if r["anonymous"] else ""),
                r["server"],
                r["requests"],
                _outcome_cell(r) + note,
                f"{fmt_ms(lat['p50'])} / {fmt_ms(lat['max'])}",
                f"{fmt_ms(h['p50'])} / {fmt_ms(h['p99'])} / {fmt_ms(h['max'])} ({r['healthz_probes']})",
                f"{_mb(rss['before'])} → {_mb(rss['after'])} (peak {_mb(rss['peak'])})",
            ]
        )
    out.append(
        markdown_table(
            [
                "attack",
                "server",
                "requests",
                "HTTP status, code",
                "attack ms (p50 / max)",
                "/healthz ms during (p50 / p99 / max, probes)",
                "server RSS MB (before → after, peak)",
            ],
            rows,
        )
    )
    s = results["settings"]
    out.append(
        f"\nEach attack is sent back to back for {s['window_s']} s (at most {s['max_requests']} requests, client "
        f"timeout {s['attack_timeout_s']} s each) while a separate process GETs `/healthz` every "
        f"{s['probe_interval_s'] * 1000:.0f} ms. Bodies: "
        + ", ".join(f"{k} {v / 1024:,.0f} KiB" for k, v in results["body_bytes"].items())
        + f". Server start-up {results['startup_s']} s; restarts {results['restarts']}.\n"
    )
    out.append('Not switchable in "before": ' + "; ".join(s["always_on"]) + ".\n")
    return "\n".join(out)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.abuse", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny dataset, short windows, 5 MB variable (~40 s)")
    parser.add_argument("--grants", type=int, default=5000)
    parser.add_argument("--companies", type=int, default=200)
    parser.add_argument("--matches", type=int, default=40, help="stored matches per company")
    parser.add_argument("--window", type=float, default=3.0, help="seconds each attack is repeated for")
    parser.add_argument("--max-requests", type=int, default=1000, help="attack requests per window at most")
    parser.add_argument("--attack-timeout", type=float, default=30.0, help="client timeout of one attack request")
    parser.add_argument("--recover-timeout", type=float, default=30.0, help="wait for a server after a timeout")
    parser.add_argument("--probe-interval", type=float, default=0.02, help="seconds between /healthz probes")
    parser.add_argument("--baseline", type=float, default=3.0, help="seconds of /healthz probing with no attack")
    parser.add_argument("--variable-mb", type=int, default=50, help="MiB of the big-variable body")
    parser.add_argument("--literal-mb", type=int, default=1, help="MiB of the string literal")
    parser.add_argument(
        "--token-for-all", action="store_true", help="send the anonymous attacks with the ORG_USER token too"
    )
    parser.add_argument("--servers", nargs="+", choices=("after", "before"), default=["after", "before"])
    parser.add_argument("--attacks", nargs="+", choices=[a.name for a in ATTACKS], help="only these attacks")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--no-save", action="store_true", help="do not write bench/results/*.json")
    parser.add_argument(
        "--save-as", help="results file name before the date (default abuse, or abuse-quick with --quick)"
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.grants, args.companies, args.matches = 200, 10, 5
        args.window, args.max_requests, args.baseline = 0.3, 20, 0.5
        args.attack_timeout, args.recover_timeout = 20.0, 20.0
        args.variable_mb = 5  # still over the 4 MiB default body limit
    return args


def main(argv: list[str] | None = None) -> int:
    cfg = parse_args(argv)
    started = time.perf_counter()
    results = asyncio.run(run(cfg))
    report(
        results,
        render_markdown,
        started,
        None if cfg.no_save else cfg.save_as or ("abuse-quick" if cfg.quick else "abuse"),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
