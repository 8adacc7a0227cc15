import { createHash } from "node:crypto";
import type { CodegenConfig } from "@graphql-codegen/cli";

// Typed documents for the React example's operations, checked against the committed schema.
// A server that is running will do as well: schema: "http://127.0.0.1:8000/graphql" (introspection is on by default).
const config: CodegenConfig = {
  schema: "../../schema.graphql",
  documents: ["../react-apollo/src/**/*.{graphql,jsx}"],
  generates: {
    "./src/gql/": {
      preset: "client",
      // Matchgraph's custom scalars travel as ISO 8601 strings and plain JSON.
      config: { scalars: { Date: "string", DateTime: "string", JSON: "unknown" } },
      presetConfig: {
        // Also write persisted-documents.json, {hash: document} for `matchgraph trust-documents`, and put each
        // document's hash in its `__meta__.hash`: plain SHA-256 hex, what `extensions.persistedQuery` carries.
        persistedDocuments: {
          hashAlgorithm: (document: string) => createHash("sha256").update(document).digest("hex"),
        },
      },
    },
  },
};

export default config;
