"""The new-grant fan-out: grant imports and edits score the grants against every company of every tenant."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from graphql_app.db.models import companies, computations, grant_matches
from graphql_app.matching.breakdown import FIGURE_COUNT
from graphql_app.services.grant_fanout import StoredThresholds, write_matches
from graphql_app.services.grant_matching import SCORE_COLUMNS, STORED_MATCHES_PER_COMPANY
from tests.api.factories import (
    calculate,
    create_company,
    create_grants,
    deadline_in,
    grant_input,
    wait_for_computation,
)

pytestmark = pytest.mark.grant_fanout

MATCHES = """query($c: ID) { grantMatches(companyId: $c, first: 100) { totalCount
  edges { node { score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
                 scoreBreakdown isSaved grant { id title } } } } }"""
UPDATE = "mutation($id: ID!, $input: GrantUpdateInput!) { updateGrant(id: $id, input: $input) { id } }"


async def matches(client, company_id):
    data = await client.data(MATCHES, {"c": company_id})
    return {edge["node"]["grant"]["title"]: edge["node"] for edge in data["grantMatches"]["edges"]}


async def fanouts(services) -> list:
    async with services.db.reader() as conn:
        rows = await conn.execute(
            select(computations).where(computations.c.kind == "GRANT_FANOUT").order_by(computations.c.created_at)
        )
        return rows.all()


async def finish_fanouts(services, platform_admin) -> list[dict]:
    return [await wait_for_computation(platform_admin, str(row.id)) for row in await fanouts(services)]


async def test_an_import_is_scored_against_every_tenants_companies_as_the_company_side_would(
    services, as_platform_admin, as_admin, as_other_tenant
):
    german = await create_company(as_admin, name="Solar Engineering GmbH", country="DE", employees=35)
    french = await create_company(as_other_tenant, name="Éolien SARL", country="FR", employees=35)
    await create_grants(
        as_platform_admin,
        [
            grant_input("Open to all"),
            grant_input("German only", countries=["DE"]),
            grant_input("Large firms only", sizes=["LARGE"]),
        ],
    )
    (done,) = await finish_fanouts(services, as_platform_admin)
    assert done["kind"] == "GRANT_FANOUT" and done["status"] == "SUCCEEDED"
    assert done["progress"] == 1.0 and done["totalCount"] == 3 and done["resultCount"] == 3

    fanned_de, fanned_fr = await matches(as_admin, german["id"]), await matches(as_other_tenant, french["id"])
    assert set(fanned_de) == {"Open to all", "German only"} and set(fanned_fr) == {"Open to all"}
    # The company side's own computation gives the very same scores and reasons.
    await calculate(as_admin, german["id"])
    await calculate(as_other_tenant, french["id"])
    assert await matches(as_admin, german["id"]) == fanned_de
    assert await matches(as_other_tenant, french["id"]) == fanned_fr


async def test_an_edit_rescores_keeps_flags_and_drops_matches_that_stop_fitting(
    services, as_platform_admin, as_admin, as_other_tenant
):
    german = await create_company(as_admin, name="Solar Engineering GmbH", country="DE", employees=35)
    peer = await create_company(as_admin, name="Wind Engineering GmbH", country="DE", employees=35)
    french = await create_company(as_other_tenant, name="Éolien SARL", country="FR", employees=35)
    open_grant, closing = await create_grants(
        as_platform_admin, [grant_input("Open to all"), grant_input("Soon closed")]
    )
    await finish_fanouts(services, as_platform_admin)
    saved = await as_admin.data(
        "mutation($c: ID!, $g: ID!) { setGrantMatchSaved(companyId: $c, grantId: $g, saved: true) { isSaved } }",
        {"c": german["id"], "g": open_grant["id"]},
    )
    assert saved["setGrantMatchSaved"]["isSaved"] is True

    await as_platform_admin.data(UPDATE, {"id": open_grant["id"], "input": {"countries": ["DE"]}})
    await as_platform_admin.data(UPDATE, {"id": closing["id"], "input": {"deadline": deadline_in(-1)}})
    results = await finish_fanouts(services, as_platform_admin)
    assert [r["status"] for r in results] == ["SUCCEEDED"] * 3

    assert await matches(as_other_tenant, french["id"]) == {}  # no longer eligible, and the other grant closed
    fanned = await matches(as_admin, german["id"])
    assert set(fanned) == {"Open to all"} and fanned["Open to all"]["isSaved"] is True
    peer_fanned = await matches(as_admin, peer["id"])
    assert "Saved by 1 similar company" in peer_fanned["Open to all"]["matchReasons"]  # peer signal, fan-out side
    await calculate(as_admin, peer["id"])
    recomputed = (await matches(as_admin, peer["id"]))["Open to all"]
    assert recomputed["matchReasons"] == peer_fanned["Open to all"]["matchReasons"]
    assert recomputed["score"] == pytest.approx(peer_fanned["Open to all"]["score"], abs=1e-12)


def test_a_new_match_is_stored_only_among_the_companys_best():
    company = uuid.uuid4()
    thresholds = StoredThresholds({company: [0.5] * STORED_MATCHES_PER_COMPANY})
    assert thresholds.admits(uuid.uuid4(), 0.01)  # a company with no stored matches takes any
    assert not thresholds.admits(company, 0.5) and thresholds.admits(company, 0.51)
    thresholds.record(company, 0.9)
    assert len(thresholds.best[company]) == STORED_MATCHES_PER_COMPANY and thresholds.best[company][-1] == 0.9


async def test_new_matches_copied_while_a_company_side_run_stored_one_are_upserted_instead(
    services, as_platform_admin, as_admin
):
    """The fan-out copies new matches; when a company's own recomputation stored one of them meanwhile, the copy
    meets the unique (company, grant) key: its savepoint is rolled back and every new match is upserted instead,
    keeping that match's flags and losing none of the others."""
    raced = await create_company(as_admin, name="Solar Engineering GmbH", country="DE", employees=35)
    other = await create_company(as_admin, name="Wind Engineering GmbH", country="DE", employees=35)
    (grant,) = await create_grants(as_platform_admin, [grant_input("Open to all")])
    await finish_fanouts(services, as_platform_admin)
    await as_admin.data(
        "mutation($c: ID!, $g: ID!) { setGrantMatchSaved(companyId: $c, grantId: $g, saved: true) { isSaved } }",
        {"c": raced["id"], "g": grant["id"]},
    )
    async with services.db.transaction() as conn:
        await conn.execute(grant_matches.delete().where(grant_matches.c.company_id == uuid.UUID(other["id"])))
        tenant = (
            await conn.execute(select(companies.c.tenant_id).where(companies.c.id == uuid.UUID(raced["id"])))
        ).scalar_one()

    def row(company_id: str, score: float) -> tuple:
        values = {
            "score": score,
            "semantic_score": score,
            "rule_score": score,
            "carbon_score": score,
            "collaborative_score": 0.5,
            "recency_score": 1.0,
            "match_reasons": ["Open to all countries"],
            "breakdown_figures": [score] * FIGURE_COUNT,
            "carbon_bonus_applied": False,
            "days_left_at_scoring": 30,
        }
        return (tenant, uuid.UUID(company_id), uuid.UUID(grant["id"]), *(values[c] for c in SCORE_COLUMNS))

    new_rows = [row(other["id"], 0.25), row(raced["id"], 0.75)]  # the second is already stored: the race
    async with services.db.transaction() as conn:
        await write_matches(conn, uuid.UUID(grant["id"]), [0, 1], [], lambda chunk: [new_rows[i] for i in chunk])

    stored = {
        **await matches(as_admin, raced["id"]),
        **{"other": (await matches(as_admin, other["id"]))["Open to all"]},
    }
    assert stored["Open to all"]["score"] == 0.75 and stored["Open to all"]["isSaved"] is True
    assert stored["other"]["score"] == 0.25 and stored["other"]["isSaved"] is False
    assert stored["other"]["scoreBreakdown"]["total"] == 0.25 and stored["other"]["scoreBreakdown"]["daysLeft"] == 30
