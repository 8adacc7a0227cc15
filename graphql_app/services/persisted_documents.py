"""Persisted GraphQL documents: statements for the store shared by every API process.

Documents are keyed by the SHA-256 (lower-case hex) of their exact text. Clients register documents through
automatic persisted queries (untrusted); an operator trusts documents from a manifest (``matchgraph
trust-documents``), and in trusted-documents mode only those run.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass

from sqlalchemy import select, true
from sqlalchemy.dialects.postgresql import insert

from graphql_app.db.engine import Database
from graphql_app.db.models import persisted_documents

SHA256_HEX = re.compile(r"^[0-9a-f]{64}$")


def document_hash(body: str) -> str:
    """The key of a document: SHA-256 of its UTF-8 text, lower-case hex (what Apollo's clients send)."""
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class StoredDocument:
    body: str
    trusted: bool


async def find_document(db: Database, sha256: str) -> StoredDocument | None:
    """The stored document with this hash, if any."""
    async with db.reader() as conn:
        row = (
            await conn.execute(
                select(persisted_documents.c.body, persisted_documents.c.trusted).where(
                    persisted_documents.c.sha256 == sha256
                )
            )
        ).first()
    return None if row is None else StoredDocument(row.body, row.trusted)


async def store_document(db: Database, sha256: str, body: str, *, source: str = "apq") -> None:
    """Register a client's document (automatic persisted queries); a known hash is left as it is."""
    async with db.transaction() as conn:
        await conn.execute(
            insert(persisted_documents)
            .values(sha256=sha256, body=body, trusted=False, source=source)
            .on_conflict_do_nothing(index_elements=["sha256"])
        )


async def trust_documents(db: Database, documents: dict[str, str], *, source: str) -> int:
    """Mark documents trusted (inserting those not yet stored), all in one transaction; returns how many."""
    if not documents:
        return 0
    rows = [{"sha256": h, "body": body, "trusted": True, "source": source} for h, body in documents.items()]
    statement = insert(persisted_documents).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["sha256"], set_={"trusted": true(), "source": statement.excluded.source}
    )
    async with db.transaction() as conn:
        await conn.execute(statement)
    return len(rows)


class ManifestError(ValueError):
    """A manifest that cannot be trusted as a whole (nothing is registered)."""


def documents_of_manifest(text: str) -> dict[str, str]:
    """``{sha256: body}`` of a persisted-document manifest.

    Accepted: Apollo's ``apollo-persisted-query-manifest`` (``{"format": …, "operations": [{"id", "body"}]}``,
    from ``@apollo/generate-persisted-query-manifest``) and the ``{hash: body}`` map that GraphQL Code
    Generator's client preset writes (``persistedDocuments``), or any list of document strings. A given id must
    be the SHA-256 of its body; anything else refuses the whole manifest.
    """
    try:
        manifest = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(f"The manifest is not JSON: {exc}.") from exc
    if isinstance(manifest, dict) and manifest.get("format") == "apollo-persisted-query-manifest":
        operations = manifest.get("operations")
        if not isinstance(operations, list):
            raise ManifestError("An Apollo manifest needs an `operations` list.")
        entries = []
        for position, operation in enumerate(operations):
            if not isinstance(operation, dict) or not isinstance(operation.get("body"), str):
                raise ManifestError(f"Operation {position} of the manifest has no `body` string.")
            entries.append((operation.get("id"), operation["body"]))
    elif isinstance(manifest, dict):
        entries = list(manifest.items())
    elif isinstance(manifest, list):
        entries = [(None, body) for body in manifest]
    else:
        raise ManifestError("A manifest is an Apollo manifest, a {hash: document} object or a list of documents.")
    documents: dict[str, str] = {}
    for given_id, body in entries:
        if not isinstance(body, str) or not body.strip():
            raise ManifestError(f"The document {given_id or ''} is not a non-empty string.".replace("  ", " "))
        sha256 = document_hash(body)
        if given_id is not None:
            normalised = str(given_id).lower().removeprefix("sha256:")
            if normalised != sha256:
                raise ManifestError(
                    f"The id {given_id} is not the SHA-256 of its document ({sha256}); "
                    "generate the manifest with SHA-256 hashes."
                )
        documents[sha256] = body
    return documents
