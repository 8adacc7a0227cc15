import { useEffect, useState } from "react";
import { gql } from "@apollo/client";
import { ApolloProvider, skipToken, useMutation, useQuery, useSubscription } from "@apollo/client/react";
import { GRAPHQL_URL, makeClient } from "./client.js";

const COMPANIES = gql`
  query Companies {
    companies(first: 50) { edges { node { id name } } }
  }
`;

// The README's "frontend page": one request, one SQL statement on the server.
const COMPANY_MATCHES = gql`
  query CompanyMatches($companyId: ID!, $after: String) {
    grantMatches(companyId: $companyId, status: ACTIVE, minScore: 0.5, first: 20, after: $after) {
      totalCount
      pageInfo { hasNextPage endCursor }
      edges {
        node {
          id score matchReasons isSaved
          grant { id title funder deadline daysLeft amountMax currency url }
          company { id name country }
        }
      }
    }
  }
`;

const CALCULATE = gql`
  mutation Calculate($companyId: ID!) {
    calculateGrantMatches(companyId: $companyId) { id status progress }
  }
`;

// The current state first, then every change; the server completes it after SUCCEEDED or FAILED.
const FOLLOW = gql`
  subscription Follow($id: ID!) {
    computation(id: $id) { id status progress resultCount error }
  }
`;

export default function App() {
  const [token, setToken] = useState(() => localStorage.getItem("matchgraph-token") ?? "");
  const [client, setClient] = useState(null);

  // One client per token; the old one (and its WebSocket) goes away when the token changes.
  useEffect(() => {
    if (!token) return undefined;
    const { client, dispose } = makeClient(token);
    setClient(client);
    return () => {
      setClient(null);
      dispose();
    };
  }, [token]);

  function saveToken(event) {
    event.preventDefault();
    const value = new FormData(event.currentTarget).get("token").trim();
    localStorage.setItem("matchgraph-token", value);
    setToken(value);
  }

  return (
    <main>
      <h1>Grant matches</h1>
      <form onSubmit={saveToken}>
        <input name="token" defaultValue={token} placeholder="Bearer token (matchgraph token …)" />{" "}
        <button type="submit">Use token</button> <small>{GRAPHQL_URL}</small>
      </form>
      {client && (
        <ApolloProvider client={client}>
          <CompanyPicker />
        </ApolloProvider>
      )}
    </main>
  );
}

function CompanyPicker() {
  const { data, error } = useQuery(COMPANIES);
  const [companyId, setCompanyId] = useState("");
  if (error) return <p className="error">{error.message}</p>;
  if (!data) return <p>Loading companies…</p>;
  const companies = data.companies.edges.map((edge) => edge.node);
  const selected = companyId || companies[0]?.id;
  return (
    <>
      <p>
        Company:{" "}
        <select value={selected} onChange={(event) => setCompanyId(event.target.value)}>
          {companies.map((company) => (
            <option key={company.id} value={company.id}>
              {company.name}
            </option>
          ))}
        </select>
      </p>
      {selected && <CompanyMatches key={selected} companyId={selected} />}
    </>
  );
}

function CompanyMatches({ companyId }) {
  const matches = useQuery(COMPANY_MATCHES, { variables: { companyId } });
  const [calculate, started] = useMutation(CALCULATE);
  const [computationId, setComputationId] = useState(null);
  const followed = useSubscription(
    FOLLOW,
    computationId
      ? {
          variables: { id: computationId },
          onData: ({ data }) => {
            if (data.data?.computation.status === "SUCCEEDED") matches.refetch();
          },
        }
      : skipToken,
  );

  async function recompute() {
    const { data } = await calculate({ variables: { companyId } }).catch(() => ({})); // error: see `started`
    if (data) setComputationId(data.calculateGrantMatches.id);
  }

  const computation = followed.data?.computation ?? started.data?.calculateGrantMatches;
  const running = computation && !["SUCCEEDED", "FAILED"].includes(computation.status);
  const page = matches.data?.grantMatches;
  return (
    <section>
      <button onClick={recompute} disabled={started.loading || running}>
        Recompute
      </button>{" "}
      {computation && (
        <span>
          {computation.status} <progress value={computation.progress ?? 0} max={1} />{" "}
          {computation.status === "SUCCEEDED" && `${computation.resultCount} matches stored`}
          {computation.error}
        </span>
      )}
      {[matches.error, started.error, followed.error].filter(Boolean).map((error) => (
        <p key={error.message} className="error">
          {error.message}
        </p>
      ))}
      {page && (
        <table>
          <caption>{page.totalCount} active matches with a score of at least 0.5</caption>
          <thead>
            <tr>
              <th>Score</th>
              <th>Grant</th>
              <th>Funder</th>
              <th>Days left</th>
              <th>Company</th>
            </tr>
          </thead>
          <tbody>
            {page.edges.map(({ node }) => (
              <tr key={node.id} title={node.matchReasons.join("\n")}>
                <td>{node.score.toFixed(2)}</td>
                <td>
                  <a href={node.grant.url}>{node.grant.title}</a>
                </td>
                <td>{node.grant.funder}</td>
                <td>{node.grant.daysLeft}</td>
                <td>{node.company.name}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
