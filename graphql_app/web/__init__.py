"""The HTTP and WebSocket edge: the GraphQL view, origins, compression, persisted documents, GraphiQL."""
