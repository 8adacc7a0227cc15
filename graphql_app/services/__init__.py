"""Application services: SQL plus orchestration, shared by resolvers, the CLI and background workers."""
