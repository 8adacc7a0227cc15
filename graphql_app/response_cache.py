"""An opt-in cache of read-query responses (`MATCHGRAPH_RESPONSE_CACHE=true`).

Keyed by the operation (text + operation name), its variables and the caller's identity (subject, tenant,
roles, member id), so one caller's answer is never served to another. Every entry remembers the *data
version* current when its execution started and is served only while that version is unchanged. The version
moves on:

* every mutation executed by this process (before it runs and after it finishes), which also NOTIFYs the
  other processes (they invalidate when the notice arrives, a few milliseconds after the commit);
* every computation event and every change NOTIFY from another process (via the events hub);

so a write made through any Matchgraph process, or a background computation finishing, invalidates every
entry at once. A response computed while a write was happening carries the older version and is never served.
Entries also expire after ``ttl`` seconds, which bounds staleness after writes made around Matchgraph
(e.g. SQL run by hand). Only error-free query results are cached.
"""

from __future__ import annotations

import functools
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from graphql import OperationDefinitionNode, parse

from graphql_app.auth import Principal
from graphql_app.db.notifications import CHANGES_CHANNEL
from graphql_app.metrics import RESPONSE_CACHE_LOOKUPS

__all__ = ["CHANGES_CHANNEL", "ResponseCache", "operation_kind"]


@functools.lru_cache(maxsize=1024)
def operation_kind(query: str | None, operation_name: str | None) -> str | None:
    """'query', 'mutation' or 'subscription' for the operation a request runs (None if it cannot tell)."""
    if not query:
        return None
    try:
        document = parse(query)
    except Exception:
        return None
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is not None:
        operations = [d for d in operations if d.name and d.name.value == operation_name]
    return operations[0].operation.value if len(operations) == 1 else None


class ResponseCache:
    """A bounded LRU of responses, valid while the data version they were computed at is current."""

    def __init__(self, *, ttl: float = 30.0, max_entries: int = 10_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self.version = 0
        self._entries: OrderedDict[str, tuple[int, float, Any]] = OrderedDict()
        self.hits = self.misses = 0

    @staticmethod
    def key(query: str, operation_name: str | None, variables: dict | None, principal: Principal) -> str:
        identity = [principal.subject, principal.tenant_id, sorted(principal.roles), str(principal.member_id)]
        material = json.dumps([query, operation_name, variables or {}, identity], sort_keys=True, default=str)
        return hashlib.sha256(material.encode()).hexdigest()

    def get(self, key: str) -> Any | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            RESPONSE_CACHE_LOOKUPS.labels("miss").inc()
            return None
        version, stored_at, result = entry
        if version != self.version or time.monotonic() - stored_at > self.ttl:
            del self._entries[key]
            self.misses += 1
            RESPONSE_CACHE_LOOKUPS.labels("miss").inc()
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        RESPONSE_CACHE_LOOKUPS.labels("hit").inc()
        return result

    def put(self, key: str, version: int, result: Any) -> None:
        if version != self.version:
            return  # the data changed while this was computed
        self._entries[key] = (version, time.monotonic(), result)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    async def get_or_compute(
        self, key: str, compute: Callable[[], Awaitable[Any]], *, keep: Callable[[Any], bool]
    ) -> Any:
        """The entry for ``key``, or ``compute()``'s result, stored when ``keep(result)`` holds and the data
        version did not move while it was computed."""
        cached = self.get(key)
        if cached is not None:
            return cached
        version = self.version
        result = await compute()
        if keep(result):
            self.put(key, version, result)
        return result

    def invalidate(self) -> None:
        """The data changed: nothing cached so far may be served."""
        self.version += 1
        self._entries.clear()
