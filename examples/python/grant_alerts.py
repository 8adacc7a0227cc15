"""Follow a company's grant alerts over WebSocket with Python's `gql`; optionally import a grant that fits it.

Prints each update as one JSON line: the unread count first, then each alert as it arrives. With
``MATCHGRAPH_ADMIN_TOKEN`` (a PLATFORM_ADMIN token) it imports, once subscribed, a grant written for the company
(its country, size, activity and carbon categories) and exits 0 when that grant's alert arrives — the alert was
raised by the server's background fan-out and pushed to this subscription. Without it, it listens until Ctrl-C.

    MATCHGRAPH_TOKEN=<org token> MATCHGRAPH_ADMIN_TOKEN=<platform admin token> python grant_alerts.py <companyId>

Needs ``gql[httpx,websockets]``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from datetime import UTC, datetime, timedelta

from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

ALERTS = gql(
    """subscription Alerts($companyId: ID!) {
  grantAlerts(companyId: $companyId) {
    unreadCount
    alert { id reason score grant { id title deadline amountMax currency } }
  }
}"""
)
COMPANY = gql(
    "query Company($id: ID!) { company(id: $id) { name country size naceCodes carbonCategories description } }"
)
CREATE_GRANT = gql("mutation Import($input: GrantInput!) { createGrant(input: $input) { id title } }")


async def execute(url: str, token: str, document, variables: dict) -> dict:
    transport = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=transport) as session:
        return await session.execute(document, variable_values=variables)


def grant_for(company: dict) -> dict:
    """A new call written for the company, closing in 30 days."""
    return {
        "title": f"Green transition call {uuid.uuid4().hex[:6]} for {company['country']} {company['size'].lower()}s",
        "description": f"Funding for projects like these: {company['description']}",
        "funder": "Matchgraph demo agency",
        "countries": [company["country"]],
        "sizes": [company["size"]],
        "naceCodes": company["naceCodes"][:3],
        "carbonCategories": company["carbonCategories"],
        "isCarbonFocused": True,
        "deadline": (datetime.now(UTC) + timedelta(days=30)).isoformat(),
        "amountMin": 100000,
        "amountMax": 1500000,
        "currency": "EUR",
    }


async def follow(url: str, token: str, admin_token: str | None, company_id: str) -> int:
    ws = WebsocketsTransport(
        url=url.replace("http", "ws", 1),
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    imported: str | None = None
    async with Client(transport=ws) as session:
        async for result in session.subscribe(ALERTS, variable_values={"companyId": company_id}):
            update = result["grantAlerts"]
            print(json.dumps(update), flush=True)
            if admin_token and imported is None:
                # Subscribed (the unread count came first): now import a grant that fits the company.
                company = (await execute(url, token, COMPANY, {"id": company_id}))["company"]
                created = await execute(url, admin_token, CREATE_GRANT, {"input": grant_for(company)})
                imported = created["createGrant"]["id"]
                print(json.dumps({"imported": created["createGrant"]}), flush=True)
            elif imported and update["alert"] and update["alert"]["grant"]["id"] == imported:
                return 0
    return 1


def main() -> int:
    url = os.environ.get("MATCHGRAPH_URL", "http://127.0.0.1:8000/graphql")
    token = os.environ.get("MATCHGRAPH_TOKEN")
    if not token or len(sys.argv) != 2:
        print(
            "usage: MATCHGRAPH_TOKEN=<token> [MATCHGRAPH_ADMIN_TOKEN=<token>] python grant_alerts.py <companyId>",
            file=sys.stderr,
        )
        return 2
    try:
        return asyncio.run(follow(url, token, os.environ.get("MATCHGRAPH_ADMIN_TOKEN"), sys.argv[1]))
    except KeyboardInterrupt:
        return 0
    except Exception as error:  # gql raises TransportQueryError with the GraphQL errors, or a connection error
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
