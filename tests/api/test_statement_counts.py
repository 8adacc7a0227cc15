"""One request, few statements: a page reads its grants and companies in its own statement, nested lists go
through per-request DataLoaders (see bench/README.md)."""

from __future__ import annotations

from graphql_app.db.engine import count_statements
from tests.api.factories import calculate, create_company, create_grants, grant_input

FRONTEND_PAGE = """
query($c: ID!, $first: Int!) {
  grantMatches(companyId: $c, first: $first) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id score semanticScore ruleScore carbonScore collaborativeScore recencyScore matchReasons
      isViewed isSaved isDismissed createdAt
      grant { id title funder deadline isCarbonFocused amountMax currency }
      company { id name country size }
    } }
  }
}"""

DEEP = """
query($first: Int!) {
  companies(first: 10) { edges { node { name
    grantMatches(first: $first) { totalCount edges { node { score grant { title } company { name } } } }
  } } }
}"""


async def _matched_company(as_platform_admin, as_admin, grant_count: int, name: str) -> str:
    company = await create_company(as_admin, name=name)
    await calculate(as_admin, company["id"])
    return company["id"]


async def test_frontend_page_takes_the_same_few_statements_for_20_and_100_matches(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input(f"Call {i:03d}") for i in range(120)])
    company_id = await _matched_company(as_platform_admin, as_admin, 120, "Solar Engineering GmbH")
    counts = {}
    for first in (20, 100):
        with count_statements() as log:
            data = await as_admin.data(FRONTEND_PAGE, {"c": company_id, "first": first})
        assert len(data["grantMatches"]["edges"]) == first
        assert all(e["node"]["grant"]["title"] and e["node"]["company"]["name"] for e in data["grantMatches"]["edges"])
        counts[first] = log.count
    assert counts[20] == counts[100] == 1, counts  # the plan's statement, or the resolvers' page with its joins


async def test_nested_company_matches_are_batched_across_companies(as_platform_admin, as_admin):
    await create_grants(as_platform_admin, [grant_input(f"Call {i:03d}") for i in range(30)])
    for i in range(4):
        await _matched_company(as_platform_admin, as_admin, 30, f"Company {i}")
    counts = {}
    for first in (5, 25):
        with count_statements() as log:
            data = await as_admin.data(DEEP, {"first": first})
        companies = data["companies"]["edges"]
        assert len(companies) == 4
        assert all(len(c["node"]["grantMatches"]["edges"]) == first for c in companies)
        counts[first] = log.count
    # compiled: one statement; resolvers: the companies page + one batched match-page query (grants, companies joined)
    assert counts[5] == counts[25] <= 2, counts


async def test_writes_are_counted_with_their_transaction(as_platform_admin):
    with count_statements() as log:
        await as_platform_admin.data('mutation { createGrant(input: {title: "Counted"}) { id } }')
    assert log.statements[0] == "BEGIN" and log.statements[-1] == "COMMIT"
    assert any(s.startswith("INSERT INTO grants") for s in log.statements)
