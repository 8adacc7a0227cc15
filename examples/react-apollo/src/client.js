import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { GraphQLWsLink } from "@apollo/client/link/subscriptions";
import { OperationTypeNode } from "graphql";
import { createClient } from "graphql-ws";

// Where Matchgraph serves GraphQL: `VITE_MATCHGRAPH_URL=... npm run dev` to point elsewhere.
export const GRAPHQL_URL = import.meta.env.VITE_MATCHGRAPH_URL ?? "http://127.0.0.1:8000/graphql";

/** An Apollo Client for one token: subscriptions over WebSocket (graphql-ws), everything else over HTTP. */
export function makeClient(token) {
  // Over HTTP the token is a header; over WebSocket it travels in the `connection_init` payload.
  const http = new HttpLink({ uri: GRAPHQL_URL, headers: { Authorization: `Bearer ${token}` } });
  const socket = createClient({
    url: GRAPHQL_URL.replace(/^http/, "ws"),
    connectionParams: { Authorization: `Bearer ${token}` },
  });
  const client = new ApolloClient({
    cache: new InMemoryCache(),
    link: ApolloLink.split(
      ({ operationType }) => operationType === OperationTypeNode.SUBSCRIPTION,
      new GraphQLWsLink(socket),
      http,
    ),
  });
  const dispose = () => {
    client.stop();
    socket.dispose();
  };
  return { client, dispose };
}
