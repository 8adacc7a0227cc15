"""Durable background computations: the PgQueuer queue, the worker, and completion events."""
