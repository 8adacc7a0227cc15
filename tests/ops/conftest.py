"""Fixtures of the operations tests: the real-process ones of tests/ws, and reading Prometheus text."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

from tests.ws.conftest import admin_token, live_env, platform_token, processes

__all__ = ["admin_token", "live_env", "platform_token", "processes", "sample"]


def sample(exposition: str, name: str, **labels: str) -> float | None:
    """The value of one sample of a Prometheus text exposition (None: no such sample)."""
    for family in text_string_to_metric_families(exposition):
        for sample_ in family.samples:
            if sample_.name == name and all(sample_.labels.get(k) == v for k, v in labels.items()):
                return sample_.value
    return None
