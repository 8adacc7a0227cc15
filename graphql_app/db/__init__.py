"""Database access: embedded Postgres, engines, table models."""
