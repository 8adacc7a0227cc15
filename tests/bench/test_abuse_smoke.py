"""bench.abuse end to end in its quick mode against the "after" server (default limits): every attack is refused
with its documented code, /healthz is probed while the attacks are in flight, and the server stays usable."""

from __future__ import annotations

import os

from bench import abuse
from bench.common import database_on_server


async def test_quick_abuse_bench_refuses_every_attack_after(pg_socket_dir):
    cfg = abuse.parse_args(["--quick", "--servers", "after"])
    async with database_on_server(pg_socket_dir, f"bench_abuse_smoke_{os.getpid()}") as bench_db:
        results = await abuse.measure(bench_db, cfg)

    assert results["baseline"]["after"]["healthz_probes"] > 0
    assert results["restarts"] == {"after": 0}
    runs = {run["attack"]: run for run in results["runs"]}
    assert set(runs) == {attack.name for attack in abuse.ATTACKS}
    expected = {
        "nested lists": "QUERY_TOO_COMPLEX",
        "1,000 repeated fields": "QUERY_TOO_COMPLEX",
        "10,000 aliases": "DOCUMENT_TOO_LARGE",
        "60 live scorings": "TOO_MANY_ALIASES",
        "big JSON variable": "PAYLOAD_TOO_LARGE",
        "big string literal": "DOCUMENT_TOO_LARGE",
        "fragment bomb": "QUERY_TOO_COMPLEX",
    }
    for name, code in expected.items():
        run = runs[name]
        assert run["server"] == "after" and run["expected_code_after"] == code
        assert run["requests"] >= 1 and run["outcome"] == {code: run["requests"]}, run
        assert run["status"] == {"413" if code == "PAYLOAD_TOO_LARGE" else "200": run["requests"]}, run
        assert not run["timed_out"] and run["usable_after"], run
        assert run["healthz_probes"] >= 1 and set(run["healthz_status"]) == {"200"}, run
        assert run["rss_mb"]["peak"] >= run["rss_mb"]["before"] > 0

    table = abuse.render_markdown(results)
    assert "| nested lists | after | " in table and "PAYLOAD_TOO_LARGE" in table
