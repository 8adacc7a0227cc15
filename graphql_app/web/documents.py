"""Which GraphQL document a request runs: its own text, or a persisted document named by its hash.

Every document also passes the length limit here, the first thing any transport does with it.

One rule for every transport (HTTP POST and GET, batches, SSE, both WebSocket protocols):

* **Automatic persisted queries** (Apollo's protocol, ``extensions.persistedQuery = {version: 1, sha256Hash}``):
  a hash-only request runs the stored document or answers ``PERSISTED_QUERY_NOT_FOUND``; the client then sends
  text and hash together, and the server checks the hash and stores the document (authenticated callers, valid
  documents only) in PostgreSQL, where every API process finds it.
* **Trusted documents** (``MATCHGRAPH_TRUSTED_DOCUMENTS``): only documents an operator registered from a manifest
  run, named by hash or sent as text whose hash is registered; anything else is ``PERSISTED_QUERY_NOT_IN_LIST``.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from graphql import GraphQLError, GraphQLSchema, parse, validate

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.errors import (
    BadUserInput,
    DocumentNotTrusted,
    PersistedQueryNotFound,
    PersistedQueryNotSupported,
)
from graphql_app.limits import RequestLimits, check_document_length
from graphql_app.services.persisted_documents import (
    SHA256_HEX,
    StoredDocument,
    document_hash,
    find_document,
    store_document,
)


class DocumentResolver:
    """Resolves the document of a request, registering and checking persisted documents."""

    def __init__(
        self,
        db: Database,
        schema: GraphQLSchema,
        *,
        persisted_queries: bool = True,
        trusted_only: bool = False,
        cache_size: int = 2_000,
        limits: RequestLimits | None = None,
    ) -> None:
        self.db = db
        self.schema = schema
        self.limits = limits or RequestLimits()
        self.persisted_queries = persisted_queries
        self.trusted_only = trusted_only
        self.cache_size = cache_size
        self._known: OrderedDict[str, StoredDocument] = OrderedDict()  # hash → stored document (found ones only)

    async def document(self, query: Any, extensions: Any, principal: Principal | None) -> Any:
        """The text to execute. ``query`` comes back unchanged when no rule applies (the caller reports a
        missing or malformed query as it always does). A document over the length limit is refused here, before
        anything lexes it."""
        check_document_length(self.limits, query)
        persisted = extensions.get("persistedQuery") if isinstance(extensions, dict) else None
        if persisted is None:
            if self.trusted_only and isinstance(query, str):
                await self._require_trusted(document_hash(query))
            return query
        if not (self.persisted_queries or self.trusted_only):
            raise PersistedQueryNotSupported()
        sha256 = _requested_hash(persisted)
        if query is None:
            stored = await self._lookup(sha256)
            if stored is None or (self.trusted_only and not stored.trusted):
                raise PersistedQueryNotFound()
            return stored.body
        if not isinstance(query, str) or document_hash(query) != sha256:
            raise BadUserInput("The persisted query's sha256Hash is not the SHA-256 of the query sent with it.")
        if self.trusted_only:
            await self._require_trusted(sha256)
        elif principal is not None and await self._lookup(sha256) is None and self._is_valid(query):
            await store_document(self.db, sha256, query)
            self._remember(sha256, StoredDocument(query, trusted=False))
        return query

    async def _require_trusted(self, sha256: str) -> None:
        stored = await self._lookup(sha256)
        if stored is None or not stored.trusted:
            raise DocumentNotTrusted(
                "This server runs only trusted documents, and this document is not one of them.", sha256Hash=sha256
            )

    async def _lookup(self, sha256: str) -> StoredDocument | None:
        stored = self._known.get(sha256)
        if stored is not None:
            self._known.move_to_end(sha256)
            return stored
        stored = await find_document(self.db, sha256)
        if stored is not None:
            self._remember(sha256, stored)
        return stored

    def _remember(self, sha256: str, stored: StoredDocument) -> None:
        self._known[sha256] = stored
        if len(self._known) > self.cache_size:
            self._known.popitem(last=False)

    def _is_valid(self, query: str) -> bool:
        """Only documents that parse and validate are worth storing (the request still reports the errors)."""
        try:
            return not validate(self.schema, parse(query))
        except GraphQLError:
            return False


def _requested_hash(persisted: Any) -> str:
    if not isinstance(persisted, dict) or persisted.get("version") != 1:
        raise BadUserInput("extensions.persistedQuery must be {version: 1, sha256Hash: <SHA-256 hex>}.")
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not SHA256_HEX.match(sha256.lower()):
        raise BadUserInput("extensions.persistedQuery.sha256Hash must be 64 hexadecimal digits.")
    return sha256.lower()
