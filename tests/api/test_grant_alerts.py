"""Grant alerts: settings per company, alerts raised by the fan-out and the deadline reminders, the list, marking
read, tenant scoping."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from graphql_app.db.models import grant_alerts
from graphql_app.jobs.schedules import DEADLINE_REMINDERS, Scheduler
from graphql_app.services.grant_alerts import raise_deadline_reminders
from graphql_app.services.grant_fanout import StoredThresholds, fan_out_grant, load_company_columns
from tests.api.factories import create_company, create_grants, deadline_in, grant_input
from tests.api.test_grant_fanout import UPDATE, finish_fanouts
from tests.conftest import TEST_NOW, GraphQLClient, token_for

pytestmark = pytest.mark.grant_fanout

SETTINGS = """mutation($c: ID!, $input: CompanyAlertSettingsInput!) {
  updateCompanyAlertSettings(companyId: $c, input: $input) { id alertMinScore alertCarbonFocusedOnly alertMinAmount }
}"""
ALERTS = """query($c: ID!, $unread: Boolean, $first: Int, $after: String) {
  grantAlerts(companyId: $c, unreadOnly: $unread, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage hasPreviousPage endCursor }
    edges { cursor node { id reason score isRead readAt raisedAt companyId company { name } grant { id title } } }
  }
}"""
MARK = """mutation($c: ID!, $ids: [ID!]) {
  markGrantAlertsRead(companyId: $c, alertIds: $ids) { markedCount unreadCount }
}"""


async def alerts(client: GraphQLClient, company_id: str, **variables) -> dict:
    return (await client.data(ALERTS, {"c": company_id, **variables}))["grantAlerts"]


async def titles(client: GraphQLClient, company_id: str, **variables) -> list[tuple[str, str]]:
    page = await alerts(client, company_id, **variables)
    return [(edge["node"]["grant"]["title"], edge["node"]["reason"]) for edge in page["edges"]]


async def set_alerts(client: GraphQLClient, company_id: str, **settings) -> dict:
    return (await client.data(SETTINGS, {"c": company_id, "input": settings}))["updateCompanyAlertSettings"]


async def alert_rows(services) -> int:
    async with services.db.reader() as conn:
        return (await conn.execute(select(func.count()).select_from(grant_alerts))).scalar_one()


async def test_settings_have_a_documented_default_and_are_set_by_the_companys_organisation(
    as_admin, as_other_tenant, http
):
    company = await create_company(as_admin)
    shown = await as_admin.data(
        "query($c: ID!) { company(id: $c) { alertMinScore alertCarbonFocusedOnly alertMinAmount } }",
        {"c": company["id"]},
    )
    assert shown["company"] == {"alertMinScore": 0.6, "alertCarbonFocusedOnly": False, "alertMinAmount": None}
    org_user = GraphQLClient(http, token_for("tenant-a", ("ORG_USER",)))
    changed = await set_alerts(org_user, company["id"], alertMinScore=0.5, alertMinAmount=100000)
    assert changed["alertMinScore"] == 0.5 and changed["alertMinAmount"] == 100000.0
    # Omitted fields stay; null switches alerts off.
    changed = await set_alerts(org_user, company["id"], alertMinScore=None, alertCarbonFocusedOnly=True)
    assert changed == {
        "id": company["id"],
        "alertMinScore": None,
        "alertCarbonFocusedOnly": True,
        "alertMinAmount": 100000.0,
    }
    bad = await as_admin.execute(SETTINGS, {"c": company["id"], "input": {"alertMinScore": 1.5}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    bad = await as_admin.execute(SETTINGS, {"c": company["id"], "input": {"alertMinAmount": -1}})
    assert bad["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    # Another tenant cannot change (or learn of) the company; a member has no organisation role.
    assert await as_other_tenant.error_code(SETTINGS, {"c": company["id"], "input": {"alertMinScore": 0.1}}) == (
        "NOT_FOUND"
    )
    member = GraphQLClient(http, token_for("tenant-a", ("MEMBER",)))
    assert await member.error_code(SETTINGS, {"c": company["id"], "input": {"alertMinScore": 0.1}}) == "FORBIDDEN"
    unchanged = await as_admin.data("query($c: ID!) { company(id: $c) { alertMinScore } }", {"c": company["id"]})
    assert unchanged["company"]["alertMinScore"] is None


async def test_an_import_alerts_the_companies_it_fits_by_their_settings(
    services, as_platform_admin, as_admin, as_other_tenant
):
    everything = await create_company(as_admin, name="Alerted for everything")
    carbon_only = await create_company(as_admin, name="Carbon-focused only")
    big_only = await create_company(as_admin, name="Large awards only")
    switched_off = await create_company(as_admin, name="Alerts off")
    strict = await create_company(as_other_tenant, name="Very strict", country="DE")
    await set_alerts(as_admin, everything["id"], alertMinScore=0)
    await set_alerts(as_admin, carbon_only["id"], alertMinScore=0, alertCarbonFocusedOnly=True)
    await set_alerts(as_admin, big_only["id"], alertMinScore=0, alertMinAmount=500000)
    await set_alerts(as_admin, switched_off["id"], alertMinScore=None)
    await set_alerts(as_other_tenant, strict["id"], alertMinScore=1)
    created = await create_grants(
        as_platform_admin,
        [
            grant_input("Plain call", amountMax=250000),
            grant_input("Carbon call", isCarbonFocused=True, amountMax=1000000),
            grant_input("No amount", amountMin=None, amountMax=None),
        ],
    )
    await finish_fanouts(services, as_platform_admin)

    assert sorted(await titles(as_admin, everything["id"])) == [
        ("Carbon call", "NEW_GRANT"),
        ("No amount", "NEW_GRANT"),
        ("Plain call", "NEW_GRANT"),
    ]
    assert await titles(as_admin, carbon_only["id"]) == [("Carbon call", "NEW_GRANT")]
    assert await titles(as_admin, big_only["id"]) == [("Carbon call", "NEW_GRANT")]  # unknown amounts don't pass
    assert await titles(as_admin, switched_off["id"]) == []
    assert await titles(as_other_tenant, strict["id"]) == []  # matched, but below its threshold
    page = await alerts(as_admin, everything["id"])
    node = page["edges"][0]["node"]
    assert node["companyId"] == everything["id"] and node["company"]["name"] == "Alerted for everything"
    assert node["isRead"] is False and node["readAt"] is None and 0 < node["score"] <= 1
    assert await alert_rows(services) == 3 + 1 + 1
    # Fanning the same grants out again (a job picked twice) raises nothing new.
    async with services.db.transaction() as conn:
        columns, thresholds = await load_company_columns(conn), await StoredThresholds.load(conn)
        for grant in created:
            result, columns = await fan_out_grant(conn, uuid.UUID(grant["id"]), TEST_NOW, columns, thresholds)
            assert result.stored and result.alerts == 0
    assert await alert_rows(services) == 5


async def test_the_list_pages_marks_read_and_a_changed_grant_alerts_again(services, as_platform_admin, as_admin):
    company = await create_company(as_admin)
    await set_alerts(as_admin, company["id"], alertMinScore=0)
    created = await create_grants(as_platform_admin, [grant_input(f"Call {i}") for i in range(5)])
    await finish_fanouts(services, as_platform_admin)

    first = await alerts(as_admin, company["id"], first=2)
    assert first["totalCount"] == 5 and first["pageInfo"]["hasNextPage"] is True
    rest = await alerts(as_admin, company["id"], first=10, after=first["pageInfo"]["endCursor"])
    assert rest["pageInfo"] == {"hasNextPage": False, "hasPreviousPage": True, "endCursor": rest["edges"][-1]["cursor"]}
    ids = [e["node"]["id"] for e in first["edges"] + rest["edges"]]
    assert len(set(ids)) == 5

    marked = await as_admin.data(MARK, {"c": company["id"], "ids": ids[:2]})
    assert marked["markGrantAlertsRead"] == {"markedCount": 2, "unreadCount": 3}
    unread = await alerts(as_admin, company["id"], unread=True)
    assert unread["totalCount"] == 3 and {e["node"]["id"] for e in unread["edges"]} == set(ids[2:])
    assert (await as_admin.data(MARK, {"c": company["id"], "ids": ids[:2]}))["markGrantAlertsRead"]["markedCount"] == 0

    # A changed grant raises GRANT_CHANGED: newest first, unread.
    await as_platform_admin.data(UPDATE, {"id": created[0]["id"], "input": {"deadline": deadline_in(45)}})
    await finish_fanouts(services, as_platform_admin)
    newest = (await alerts(as_admin, company["id"], first=1))["edges"][0]["node"]
    assert (newest["grant"]["title"], newest["reason"], newest["isRead"]) == ("Call 0", "GRANT_CHANGED", False)
    # Changed again after being read: the same alert, raised again and unread.
    await as_admin.data(MARK, {"c": company["id"], "ids": [newest["id"]]})
    await as_platform_admin.data(UPDATE, {"id": created[0]["id"], "input": {"deadline": deadline_in(40)}})
    await finish_fanouts(services, as_platform_admin)
    again = (await alerts(as_admin, company["id"], first=1))["edges"][0]["node"]
    assert again["id"] == newest["id"] and again["isRead"] is False and again["raisedAt"] > newest["raisedAt"]

    everything = await as_admin.data(MARK, {"c": company["id"]})
    assert everything["markGrantAlertsRead"]["unreadCount"] == 0
    assert (await alerts(as_admin, company["id"], unread=True))["totalCount"] == 0


async def test_alerts_are_tenant_scoped(services, as_platform_admin, as_admin, as_other_tenant):
    company = await create_company(as_admin)
    theirs = await create_company(as_other_tenant, name="Other tenant's company")
    await set_alerts(as_admin, company["id"], alertMinScore=0)
    await set_alerts(as_other_tenant, theirs["id"], alertMinScore=0)
    await create_grants(as_platform_admin, [grant_input("Call")])
    await finish_fanouts(services, as_platform_admin)
    (mine,) = (await alerts(as_admin, company["id"]))["edges"]
    (other,) = (await alerts(as_other_tenant, theirs["id"]))["edges"]

    assert await as_other_tenant.error_code(ALERTS, {"c": company["id"]}) == "NOT_FOUND"
    assert await as_other_tenant.error_code(MARK, {"c": company["id"]}) == "NOT_FOUND"
    # Another company's alert id under one's own company: NOT_FOUND, and nothing is marked.
    assert await as_admin.error_code(MARK, {"c": company["id"], "ids": [mine["node"]["id"], other["node"]["id"]]}) == (
        "NOT_FOUND"
    )
    assert (await alerts(as_admin, company["id"], unread=True))["totalCount"] == 1
    assert (await alerts(as_other_tenant, theirs["id"], unread=True))["totalCount"] == 1
    assert await as_admin.error_code(ALERTS, {"c": company["id"], "after": "bogus"}) == "BAD_USER_INPUT"
    assert await as_admin.error_code(ALERTS, {"c": "not-a-uuid"}) == "BAD_USER_INPUT"


async def test_deadline_reminders_are_raised_once_per_saved_match(services, as_platform_admin, as_admin):
    company = await create_company(as_admin)
    quiet = await create_company(as_admin, name="Alerts off")
    await set_alerts(as_admin, company["id"], alertMinScore=1)  # no new-grant alerts: only the reminders
    await set_alerts(as_admin, quiet["id"], alertMinScore=None)
    soon, later, unsaved, dismissed = await create_grants(
        as_platform_admin,
        [
            grant_input("Closes in 5 days", deadline=deadline_in(5)),
            grant_input("Closes in 20 days", deadline=deadline_in(20)),
            grant_input("Closes in 3 days, not saved", deadline=deadline_in(3)),
            grant_input("Closes in 2 days, dismissed", deadline=deadline_in(2)),
        ],
    )
    await finish_fanouts(services, as_platform_admin)
    save = "mutation($c: ID!, $g: ID!) { setGrantMatchSaved(companyId: $c, grantId: $g, saved: true) { isSaved } }"
    dismiss = (
        "mutation($c: ID!, $g: ID!) { setGrantMatchDismissed(companyId: $c, grantId: $g, dismissed: true) { id } }"
    )
    for grant in (soon, later, dismissed):
        await as_admin.data(save, {"c": company["id"], "g": grant["id"]})
    await as_admin.data(save, {"c": quiet["id"], "g": soon["id"]})
    await as_admin.data(dismiss, {"c": company["id"], "g": dismissed["id"]})

    assert await raise_deadline_reminders(services.db, TEST_NOW, 7) == 1
    assert await titles(as_admin, company["id"]) == [("Closes in 5 days", "DEADLINE_APPROACHING")]
    assert await titles(as_admin, quiet["id"]) == []
    assert await raise_deadline_reminders(services.db, TEST_NOW, 7) == 0  # once per match
    # Later, the other saved match enters the window; the first is not raised again, even once read.
    await as_admin.data(MARK, {"c": company["id"]})
    assert await raise_deadline_reminders(services.db, TEST_NOW + timedelta(days=14), 7) == 1
    assert await titles(as_admin, company["id"]) == [
        ("Closes in 20 days", "DEADLINE_APPROACHING"),
        ("Closes in 5 days", "DEADLINE_APPROACHING"),
    ]
    assert unsaved["id"]  # never saved: never reminded


async def test_the_scheduler_raises_reminders_on_its_cron_schedule(services, as_platform_admin, as_admin):
    company = await create_company(as_admin)
    (grant,) = await create_grants(as_platform_admin, [grant_input("Closes in 3 days", deadline=deadline_in(3))])
    await finish_fanouts(services, as_platform_admin)
    await as_admin.data(
        "mutation($c: ID!, $g: ID!) { setGrantMatchSaved(companyId: $c, grantId: $g, saved: true) { isSaved } }",
        {"c": company["id"], "g": grant["id"]},
    )
    scheduler = Scheduler(services.db, services.clock, days=7, expression="* * * * * */1")  # every second
    running = asyncio.create_task(scheduler.run())
    try:
        deadline = asyncio.get_running_loop().time() + 20
        while ("Closes in 3 days", "DEADLINE_APPROACHING") not in await titles(as_admin, company["id"]):
            assert asyncio.get_running_loop().time() < deadline, "no reminder raised by the scheduler"
            await asyncio.sleep(0.2)
    finally:
        scheduler.stop()
        await asyncio.wait_for(running, 15)
    assert scheduler.rounds >= 1
    async with services.db.reader() as conn:
        scheduled = (
            await conn.execute(
                text("SELECT count(*) FROM pgqueuer_schedules WHERE entrypoint = :e"), {"e": DEADLINE_REMINDERS}
            )
        ).scalar_one()
    assert scheduled == 1  # recorded in the database, where every worker process shares it
