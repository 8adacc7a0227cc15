"""bench.dataset loads a tiny spec exactly, consistently and deterministically (no timing is asserted)."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest

from bench.common import database_on_server
from bench.dataset import DatasetNotEmptyError, DatasetSpec, load_dataset

NOW = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
SPEC = DatasetSpec(
    grants=300, companies=20, matches_per_company=10, jobs=5, members=100, job_matches_per_job=10, seed=11
)
ID_TABLES = ("grants", "companies", "grant_matches", "organisations", "jobs", "members", "job_matches")

SCHEMA_SQL = """
SELECT 'index ' || indexname || ': ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'constraint ' || conrelid::regclass || '.' || conname || ': ' || pg_get_constraintdef(oid)
FROM pg_constraint WHERE connamespace = 'public'::regnamespace
ORDER BY 1
"""


async def _ids(conn) -> dict[str, list[str]]:
    return {t: [str(r[0]) for r in await conn.fetch(f"SELECT id FROM {t} ORDER BY id")] for t in ID_TABLES}


async def test_load_dataset_counts_consistency_determinism_and_refusal(pg_socket_dir):
    pid = os.getpid()
    async with database_on_server(pg_socket_dir, f"bench_dataset_a_{pid}") as db_a:
        conn = await db_a.connect()
        try:
            schema_before = [r[0] for r in await conn.fetch(SCHEMA_SQL)]
            result = await load_dataset(conn, SPEC, now=NOW)

            assert result["counts"] == {
                "grants": 300,
                "companies": 20,
                "grant_matches": 200,
                "organisations": 2,
                "jobs": 5,
                "members": 100,
                "job_matches": 50,
            }
            assert len(result["companies"]) == 20 and len(result["jobs"]) == 5
            assert {tenant for _, tenant in result["companies"]} == {"acme-ventures", "nordic-green"}
            assert set(result["hnsw_indexes"].values()) == {"rebuilt"}
            # Indexes and constraints dropped for the load are all back, as the migrations define them.
            assert [r[0] for r in await conn.fetch(SCHEMA_SQL)] == schema_before

            # Every grant match is on an open grant, carries its company's tenant, one per (company, grant).
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM grant_matches m JOIN grants g ON g.id = m.grant_id "
                    "WHERE g.deadline IS NOT NULL AND g.deadline < $1",
                    NOW,
                )
                == 0
            )
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM grant_matches m JOIN companies c ON c.id = m.company_id "
                    "WHERE m.tenant_id <> c.tenant_id"
                )
                == 0
            )
            per_company = await conn.fetch(
                "SELECT count(*) AS n, count(DISTINCT grant_id) AS d FROM grant_matches GROUP BY company_id"
            )
            assert len(per_company) == 20 and all(r["n"] == r["d"] == 10 for r in per_company)
            assert await conn.fetchval(
                "SELECT bool_and(score BETWEEN 0 AND 1 AND breakdown_figures[cardinality(breakdown_figures)] = score) "
                "FROM grant_matches"
            )

            # Job matches: their job's tenant and organisation, distinct members, values in range.
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM job_matches m JOIN jobs j ON j.id = m.job_id "
                    "WHERE m.tenant_id <> j.tenant_id OR m.organisation_id <> j.organisation_id"
                )
                == 0
            )
            assert (
                await conn.fetchval(
                    "SELECT count(*) FROM jobs j JOIN organisations o ON o.id = j.organisation_id "
                    "WHERE o.tenant_id <> j.tenant_id"
                )
                == 0
            )
            per_job = await conn.fetch(
                "SELECT count(*) AS n, count(DISTINCT member_id) AS d FROM job_matches GROUP BY job_id"
            )
            assert len(per_job) == 5 and all(r["n"] == r["d"] == 10 for r in per_job)
            assert await conn.fetchval(
                "SELECT bool_and(authenticity BETWEEN 0 AND 1 AND acceptance BETWEEN 0 AND 1 "
                "AND complementarity BETWEEN 0 AND 1 AND belonging_probability BETWEEN 0 AND 1 "
                "AND quality_tier IN ('EXCEPTIONAL', 'STRONG', 'MODERATE', 'DEVELOPING') "
                "AND status IN ('PENDING_REVIEW', 'ORG_INTERESTED', 'ORG_DECLINED', 'INTERVIEWING', 'OFFERED', "
                "'PLACED', 'WITHDRAWN') AND (status = 'PLACED') = (placed_at IS NOT NULL)) FROM job_matches"
            )
            ids_a = await _ids(conn)

            # A non-empty database is refused without replace, and left as it was.
            with pytest.raises(DatasetNotEmptyError):
                await load_dataset(conn, SPEC, now=NOW)
            assert await _ids(conn) == ids_a
            # With replace, the same seed gives the same data again.
            replaced = await load_dataset(conn, SPEC, now=NOW, replace=True, rebuild_hnsw=False)
            assert await _ids(conn) == ids_a
            assert set(replaced["hnsw_indexes"].values()) == {"dropped"}
        finally:
            await conn.close()

    async with database_on_server(pg_socket_dir, f"bench_dataset_b_{pid}") as db_b:
        conn = await db_b.connect()
        try:
            again = await load_dataset(conn, SPEC, now=NOW, rebuild_hnsw=False)
            assert await _ids(conn) == ids_a
            assert again["companies"] == result["companies"] and again["jobs"] == result["jobs"]
        finally:
            await conn.close()


def test_spec_presets_and_checks():
    full, small = DatasetSpec.full(), DatasetSpec.small(seed=3)
    assert (full.grants, full.companies, full.matches_per_company) == (100_000, 10_000, 100)
    assert (full.jobs, full.members, full.job_matches_per_job) == (1_000, 100_000, 100)
    assert small.grants == 2_000 and small.seed == 3
    with pytest.raises(ValueError):
        DatasetSpec(members=10, job_matches_per_job=20).check()
