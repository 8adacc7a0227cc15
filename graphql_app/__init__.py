"""Matchgraph: a GraphQL API that matches companies to grants and members to jobs."""

__version__ = "0.1.0"
