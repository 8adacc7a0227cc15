"""Start a grant-match computation over HTTP, then follow it over WebSocket with Python's `gql`.

Prints each state as one JSON line; exits 0 after SUCCEEDED, 1 with a message otherwise.

    MATCHGRAPH_TOKEN=... python follow_computation.py <companyId>

Needs ``gql[httpx,websockets]``. The same flow as ``../node/follow-computation.mjs``.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys

from gql import Client, gql
from gql.transport.httpx import HTTPXAsyncTransport
from gql.transport.websockets import WebsocketsTransport

CALCULATE = gql("mutation Calculate($companyId: ID!) { calculateGrantMatches(companyId: $companyId) { id status } }")
FOLLOW = gql("subscription Follow($id: ID!) { computation(id: $id) { id status progress resultCount error } }")


async def follow(url: str, token: str, company_id: str) -> dict:
    # 1. Start the computation: an ordinary GraphQL POST.
    http = HTTPXAsyncTransport(url=url, headers={"Authorization": f"Bearer {token}"})
    async with Client(transport=http) as session:
        started = await session.execute(CALCULATE, variable_values={"companyId": company_id})
    computation_id = started["calculateGrantMatches"]["id"]

    # 2. Follow it over WebSocket (graphql-transport-ws): the token travels in `connection_init`.
    ws = WebsocketsTransport(
        url=url.replace("http", "ws", 1),
        init_payload={"Authorization": f"Bearer {token}"},
        subprotocols=[WebsocketsTransport.GRAPHQLWS_SUBPROTOCOL],
    )
    last: dict = {}
    async with Client(transport=ws) as session:
        # The current state first, every change after it; the server completes after SUCCEEDED or FAILED.
        async for result in session.subscribe(FOLLOW, variable_values={"id": computation_id}):
            last = result["computation"]
            print(json.dumps(last), flush=True)
    return last


def main() -> int:
    url = os.environ.get("MATCHGRAPH_URL", "http://127.0.0.1:8000/graphql")
    token = os.environ.get("MATCHGRAPH_TOKEN")
    if not token or len(sys.argv) != 2:
        print("usage: MATCHGRAPH_TOKEN=<token> python follow_computation.py <companyId>", file=sys.stderr)
        return 2
    try:
        last = asyncio.run(follow(url, token, sys.argv[1]))
    except Exception as error:  # gql raises TransportQueryError with the GraphQL errors, or a connection error
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    if last.get("status") != "SUCCEEDED":
        print(f"computation ended {last.get('status')}: {last.get('error')}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
