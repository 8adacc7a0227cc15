"""Smoke run of bench.grant_fanout on tiny inputs (its own throw-away embedded Postgres)."""

from bench import grant_fanout


def test_grant_fanout_bench_runs(capsys):
    assert grant_fanout.main(["--companies", "40", "--grants", "4", "--rounds", "1", "--no-save"]) == 0
    out = capsys.readouterr().out
    assert "one grant, cold" in out and "SUCCEEDED" in out
