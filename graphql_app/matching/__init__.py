"""Pure scoring code: plain data in, plain data out. No GraphQL, no SQL."""
