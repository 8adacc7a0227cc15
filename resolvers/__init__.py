"""Root-field resolvers by area: arguments in, one service call, rows out as GraphQL types."""
