"""The app answers over HTTP: GraphiQL, auth (health: tests/ops/test_health.py)."""

from __future__ import annotations

from tests.api.factories import calculate, create_company, create_grants, grant_input


async def test_graphiql_is_served_to_browsers(http):
    response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_end_to_end_match(as_platform_admin, as_admin):
    grants = await create_grants(
        as_platform_admin,
        [grant_input("Solar Boost"), grant_input("Water Reuse", carbonCategories=["water_management"])],
    )
    company = await create_company(as_admin)
    computation = await calculate(as_admin, company["id"])
    assert computation["status"] == "SUCCEEDED"
    assert computation["resultCount"] == 2
    data = await as_admin.data(
        "query($c: ID!) { grantMatches(companyId: $c) { totalCount edges { node { score grant { title } } } } }",
        {"c": company["id"]},
    )
    titles = [e["node"]["grant"]["title"] for e in data["grantMatches"]["edges"]]
    assert titles[0] == "Solar Boost" and set(titles) == {g["title"] for g in grants}
