// Start a grant-match computation over HTTP, then follow it over WebSocket with the `graphql-ws` client
// (the protocol Apollo, urql and Relay use). Prints each state as one JSON line; exits 0 after SUCCEEDED.
//
//   MATCHGRAPH_TOKEN=... node node/follow-computation.mjs <companyId>
import { createClient } from "graphql-ws";
import WebSocket from "ws"; // Node 20 has no global WebSocket

const url = process.env.MATCHGRAPH_URL ?? "http://127.0.0.1:8000/graphql";
const token = process.env.MATCHGRAPH_TOKEN;
const companyId = process.argv[2];
if (!token || !companyId) {
  console.error("usage: MATCHGRAPH_TOKEN=<token> node follow-computation.mjs <companyId>");
  process.exit(2);
}

const CALCULATE = `mutation Calculate($companyId: ID!) {
  calculateGrantMatches(companyId: $companyId) { id status }
}`;
const FOLLOW = `subscription Follow($id: ID!) {
  computation(id: $id) { id status progress resultCount error }
}`;

async function main() {
  // 1. Start the computation: an ordinary GraphQL POST.
  const response = await fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ query: CALCULATE, variables: { companyId } }),
  });
  const { data, errors } = await response.json();
  if (errors) throw new Error(`calculateGrantMatches failed: ${JSON.stringify(errors)}`);
  const { id } = data.calculateGrantMatches;

  // 2. Follow it over WebSocket: the token travels in `connection_init`, not in a header.
  const client = createClient({
    url: url.replace(/^http/, "ws"),
    webSocketImpl: WebSocket,
    connectionParams: { Authorization: `Bearer ${token}` },
    lazy: true,
    retryAttempts: 0,
  });
  try {
    // The server sends the current state first, every change after it, then completes after SUCCEEDED/FAILED.
    let last;
    for await (const result of client.iterate({ query: FOLLOW, variables: { id } })) {
      if (result.errors) throw new Error(`subscription failed: ${JSON.stringify(result.errors)}`);
      last = result.data.computation;
      console.log(JSON.stringify(last));
    }
    if (last?.status !== "SUCCEEDED") throw new Error(`computation ended ${last?.status}: ${last?.error}`);
  } finally {
    await client.dispose();
  }
}

main().catch((error) => {
  // graphql-ws rejects with a protocol `error` message's GraphQL errors (an array: an invalid document) or the
  // socket's CloseEvent (4403: a missing or invalid token).
  if (error instanceof Error) console.error(error.message);
  else if (Array.isArray(error)) console.error(`subscription failed: ${JSON.stringify(error)}`);
  else console.error(`WebSocket closed: ${error?.code} ${error?.reason}`);
  process.exit(1);
});
