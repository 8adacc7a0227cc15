// The README's "frontend page" query through Apollo Client 4 with automatic persisted queries (APQ).
// Prints the data as JSON on stdout, and every HTTP request Apollo made as one JSON line on stderr.
//
//   MATCHGRAPH_TOKEN=... node node/apollo-frontend-page.mjs <companyId> [minScore, default 0.5]
//
// APQ: Apollo first sends only the document's SHA-256 (here as a GET, which CDNs can cache). A server that does
// not know it yet answers PERSISTED_QUERY_NOT_FOUND; Apollo then POSTs text and hash, and the server stores the
// document. From then on, any process sending the hash alone gets the data.
import { createHash } from "node:crypto";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";

const url = process.env.MATCHGRAPH_URL ?? "http://127.0.0.1:8000/graphql";
const token = process.env.MATCHGRAPH_TOKEN;
const [companyId, minScore = "0.5"] = process.argv.slice(2);
if (!token || !companyId) {
  console.error("usage: MATCHGRAPH_TOKEN=<token> node apollo-frontend-page.mjs <companyId> [minScore]");
  process.exit(2);
}

const COMPANY_MATCHES = gql`
  query CompanyMatches($companyId: ID!, $minScore: Float, $after: String) {
    grantMatches(companyId: $companyId, status: ACTIVE, minScore: $minScore, first: 20, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id score semanticScore ruleScore carbonScore collaborativeScore recencyScore
          matchReasons isViewed isSaved isDismissed
          grant { id title funder deadline daysLeft isCarbonFocused amountMax currency url }
          company { id name country size }
        }
      }
    }
  }
`;

// fetch, wrapped to show the APQ exchange: did the request carry the query text, the hash, and what came back?
async function loggingFetch(input, init = {}) {
  const params = new URL(input).searchParams;
  const body = typeof init.body === "string" ? JSON.parse(init.body) : {};
  const extensions = body.extensions ?? JSON.parse(params.get("extensions") ?? "{}");
  const response = await fetch(input, init);
  const result = await response.clone().json();
  console.error(
    JSON.stringify({
      method: init.method ?? "GET",
      sentQuery: Boolean(body.query ?? params.get("query")),
      sentHash: extensions.persistedQuery?.sha256Hash ?? null,
      status: response.status,
      data: Boolean(result.data),
      errors: (result.errors ?? []).map((error) => error.extensions?.code ?? error.message),
    }),
  );
  return response;
}

const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new PersistedQueryLink({
    sha256: (text) => createHash("sha256").update(text).digest("hex"),
    useGETForHashedQueries: true,
  }).concat(new HttpLink({ uri: url, headers: { Authorization: `Bearer ${token}` }, fetch: loggingFetch })),
});

try {
  const { data } = await client.query({
    query: COMPANY_MATCHES,
    variables: { companyId, minScore: Number(minScore) },
  });
  console.log(JSON.stringify(data, null, 2));
} catch (error) {
  console.error(error.message); // CombinedGraphQLErrors, ServerError or a network error
  process.exitCode = 1;
} finally {
  client.stop();
}
