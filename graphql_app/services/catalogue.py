"""Companies and grants: validated writes with embeddings, and scoped reads."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, and_, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app import access
from graphql_app import validation as v
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import companies, grant_matches, grants
from graphql_app.errors import BadUserInput, not_found
from graphql_app.matching.alerts import GRANT_CHANGED
from graphql_app.matching.embeddings import Embedder, company_text, grant_text
from graphql_app.matching.nace import nace_code_name
from graphql_app.matching.vocabulary import size_for_headcount
from graphql_app.services.grant_fanout import queue_grant_fanout

COMPANY_TEXT_FIELDS = ("name", "description", "nace_codes", "carbon_categories")
#: Columns read for the API (embeddings stay in the database).
COMPANY_COLUMNS = [c for c in companies.c if c.name != "embedding"]
GRANT_COLUMNS = [c for c in grants.c if c.name != "embedding"]
GRANT_TEXT_FIELDS = ("title", "description", "funder", "carbon_categories")
_LISTS = {"nace_codes": [], "carbon_categories": [], "certifications": [], "taxonomy_objectives": []}
COMPANY_DEFAULTS: dict[str, Any] = {"description": "", "employees": None, **_LISTS}
GRANT_DEFAULTS: dict[str, Any] = {
    "description": "",
    "funder": "",
    "url": None,
    "countries": [],
    "sizes": [],
    "is_carbon_focused": False,
    "deadline": None,
    "currency": "EUR",
    "amount_min": None,
    "amount_max": None,
    **_LISTS,
}


def _validate_sustainability(fields: dict[str, Any]) -> dict[str, Any]:
    """Carbon categories, certifications and taxonomy objectives: shared by companies and grants."""
    checks = {
        "carbon_categories": v.carbon_categories,
        "certifications": v.certifications,
        "taxonomy_objectives": v.taxonomy_objectives,
    }
    return {name: check(fields[name] or []) for name, check in checks.items() if name in fields}


def validate_company(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate and normalise company fields (GraphQL input already converted to snake_case)."""
    out: dict[str, Any] = {}
    if "name" in fields or not partial:
        out["name"] = v.non_blank(fields.get("name"), "name", 300)
    if "country" in fields or not partial:
        out["country"] = v.country_code(fields.get("country"))
    if "nace_codes" in fields:
        out["nace_codes"] = v.nace_codes(fields["nace_codes"] or [])
    if "description" in fields:
        out["description"] = (fields["description"] or "").strip()
    if "employees" in fields:
        employees = fields["employees"]
        if employees is not None and employees < 0:
            raise BadUserInput("employees must not be negative.", field="employees")
        out["employees"] = employees
    if fields.get("size") is not None:
        out["size"] = v.sizes([fields["size"]], "size")[0]
    if out.get("employees") is not None:
        derived = size_for_headcount(out["employees"])
        if "size" in out and out["size"] != derived:
            raise BadUserInput(
                f"size {out['size']} does not fit {out['employees']} employees (EU class {derived}).",
                field="size",
            )
        out["size"] = derived
    if not partial and "size" not in out:
        raise BadUserInput("Give the company's size or its number of employees.", field="size")
    out.update(_validate_sustainability(fields))
    if not partial:
        for name, default in COMPANY_DEFAULTS.items():
            out.setdefault(name, default)
    return out


def validate_grant(fields: dict[str, Any], *, partial: bool) -> dict[str, Any]:
    """Validate and normalise grant fields."""
    out: dict[str, Any] = {}
    if "title" in fields or not partial:
        out["title"] = v.non_blank(fields.get("title"), "title", 500)
    for name in ("description", "funder"):
        if name in fields:
            out[name] = (fields[name] or "").strip()
    if "url" in fields:
        url = (fields["url"] or "").strip() or None
        if url and not url.startswith(("https://", "http://")):
            raise BadUserInput("url must be an http(s) URL.", field="url")
        out["url"] = url
    if "countries" in fields:
        out["countries"] = v.country_codes(fields["countries"] or [])
    if "nace_codes" in fields:
        out["nace_codes"] = v.nace_codes(fields["nace_codes"] or [])
    if "sizes" in fields:
        out["sizes"] = v.sizes(fields["sizes"] or [])
    out.update(_validate_sustainability(fields))
    if "is_carbon_focused" in fields:
        out["is_carbon_focused"] = bool(fields["is_carbon_focused"])
    if "deadline" in fields:
        out["deadline"] = v.deadline(fields["deadline"])
    if "currency" in fields and fields["currency"] is not None:
        out["currency"] = v.currency_code(fields["currency"])
    for name in ("amount_min", "amount_max"):
        if name in fields:
            out[name] = v.amount(fields[name], v.camel_case(name))
    lo, hi = out.get("amount_min"), out.get("amount_max")
    if lo is not None and hi is not None and lo > hi:
        raise BadUserInput("amountMin must not exceed amountMax.", field="amountMin")
    if not partial:
        for name, default in GRANT_DEFAULTS.items():
            out.setdefault(name, default)
    return out


def _company_embedding_text(row: dict[str, Any]) -> str:
    names = [nace_code_name(code) or code for code in row.get("nace_codes") or []]
    return company_text(row["name"], row.get("description") or "", names, row.get("carbon_categories") or [])


def _grant_embedding_text(row: dict[str, Any]) -> str:
    return grant_text(
        row["title"],
        row.get("description") or "",
        row.get("funder") or "",
        row.get("carbon_categories") or [],
    )


async def _encode(embedder: Embedder, texts: Sequence[str]) -> list[list[float]]:
    vectors = await asyncio.to_thread(embedder.encode, list(texts))
    return list(vectors)


def visible_company_conditions(principal: Principal, company_id: uuid.UUID) -> list:
    """The company ``company_id``, if the principal may see it (``access.tenant_rows``)."""
    return [companies.c.id == company_id, access.tenant_rows(companies, principal)]


async def visible_company(
    conn: AsyncConnection, principal: Principal, company_id: uuid.UUID, *, lock: bool = False
) -> Row:
    """A company the principal may see (its row, locked when asked); NOT_FOUND otherwise."""
    query = select(companies).where(*visible_company_conditions(principal, company_id))
    row = (await conn.execute(query.with_for_update() if lock else query)).first()
    if row is None:
        raise not_found("Company", company_id)
    return row


async def get_company(db: Database, principal: Principal, company_id: uuid.UUID) -> Row:
    async with db.reader() as conn:
        return await visible_company(conn, principal, company_id)


def companies_list(principal: Principal, country: str | None) -> Select:
    """The viewer's companies (optionally of one country), by name."""
    conditions = [access.tenant_rows(companies, principal)]
    if country is not None:
        conditions.append(companies.c.country == country)
    return select(*COMPANY_COLUMNS).where(*conditions).order_by(*access.companies_order(companies))


def grants_list(now: datetime, include_closed: bool) -> Select:
    """The catalogue by deadline (soonest first, rolling calls last); open grants unless ``include_closed``."""
    conditions = [] if include_closed else [access.open_grants(grants, now)]
    return select(*GRANT_COLUMNS).where(*conditions).order_by(*access.catalogue_order(grants))


async def get_grant(db: Database, grant_id: uuid.UUID) -> Row:
    async with db.reader() as conn:
        row = (await conn.execute(select(*GRANT_COLUMNS).where(grants.c.id == grant_id))).first()
    if row is None:
        raise not_found("Grant", grant_id)
    return row


async def create_companies(
    db: Database, embedder: Embedder, tenant_id: str, items: Sequence[dict[str, Any]]
) -> list[Row]:
    """Validate, embed (one batch) and insert companies in one transaction."""
    rows = [validate_company(item, partial=False) for item in items]
    vectors = await _encode(embedder, [_company_embedding_text(r) for r in rows])
    values = [{**r, "tenant_id": tenant_id, "embedding": vec} for r, vec in zip(rows, vectors, strict=True)]
    async with db.transaction() as conn:
        result = await conn.execute(insert(companies).returning(*companies.c), values)
        return list(result)


async def update_company(
    db: Database, embedder: Embedder, principal: Principal, company_id: uuid.UUID, fields: dict[str, Any]
) -> Row:
    """Apply a partial update; re-embed when text changed; drop matches the change disqualifies."""
    changes = validate_company(fields, partial=True)
    async with db.transaction() as conn:
        current = await visible_company(conn, principal, company_id, lock=True)
        merged = {**current._mapping, **changes}
        if any(k in changes and changes[k] != current._mapping[k] for k in COMPANY_TEXT_FIELDS):
            changes["embedding"] = (await _encode(embedder, [_company_embedding_text(merged)]))[0]
        changes["updated_at"] = func.now()
        row = (
            await conn.execute(
                update(companies).where(companies.c.id == company_id).values(**changes).returning(*companies.c)
            )
        ).one()
        if {"country", "size"} & changes.keys():
            await delete_disqualified_matches(conn, row)
        return row


async def delete_disqualified_matches(conn, company: Row) -> None:
    """Remove stored matches whose grant now excludes the company's country or size."""
    await conn.execute(
        grant_matches.delete().where(
            grant_matches.c.company_id == company.id,
            grant_matches.c.grant_id.in_(
                select(grants.c.id).where(
                    or_(
                        and_(func.cardinality(grants.c.countries) > 0, ~grants.c.countries.any(company.country)),
                        and_(func.cardinality(grants.c.sizes) > 0, ~grants.c.sizes.any(company.size)),
                    )
                )
            ),
        )
    )


async def create_grants(
    db: Database, embedder: Embedder, items: Sequence[dict[str, Any]], fanout_for: Principal | None = None
) -> list[Row]:
    """Validate, embed (one batch) and insert grants in one transaction (imports). With ``fanout_for``, a
    GRANT_FANOUT computation of the new grants is queued in the same transaction, recorded as that caller's."""
    rows = [validate_grant(item, partial=False) for item in items]
    vectors = await _encode(embedder, [_grant_embedding_text(r) for r in rows])
    values = [{**r, "embedding": vec} for r, vec in zip(rows, vectors, strict=True)]
    async with db.transaction() as conn:
        result = list(await conn.execute(insert(grants).returning(*grants.c), values))
        if fanout_for is not None:
            await queue_grant_fanout(conn, fanout_for, [row.id for row in result])
        return result


async def update_grant(
    db: Database,
    embedder: Embedder,
    grant_id: uuid.UUID,
    fields: dict[str, Any],
    fanout_for: Principal | None = None,
) -> Row:
    """Validate and apply a partial update (re-embedding when a text changed); with ``fanout_for``, queue a
    GRANT_FANOUT computation of the grant in the same transaction."""
    changes = validate_grant(fields, partial=True)
    async with db.transaction() as conn:
        current = (await conn.execute(select(grants).where(grants.c.id == grant_id).with_for_update())).first()
        if current is None:
            raise not_found("Grant", grant_id)
        merged = {**current._mapping, **changes}
        lo, hi = merged.get("amount_min"), merged.get("amount_max")
        if lo is not None and hi is not None and lo > hi:
            raise BadUserInput("amountMin must not exceed amountMax.", field="amountMin")
        if any(k in changes and changes[k] != current._mapping[k] for k in GRANT_TEXT_FIELDS):
            changes["embedding"] = (await _encode(embedder, [_grant_embedding_text(merged)]))[0]
        changes["updated_at"] = func.now()
        row = (
            await conn.execute(update(grants).where(grants.c.id == grant_id).values(**changes).returning(*grants.c))
        ).one()
        if fanout_for is not None:
            await queue_grant_fanout(conn, fanout_for, [row.id], GRANT_CHANGED)
        return row


async def search_grants(
    db: Database, embedder: Embedder, query_text: str, limit: int, now: datetime, include_closed: bool = False
) -> list[tuple[Row, float]]:
    """Open grants nearest to ``query_text`` by meaning (pgvector cosine distance, HNSW index)."""
    vector = (await _encode(embedder, [query_text]))[0]
    distance = grants.c.embedding.cosine_distance(vector)
    query = select(grants, (1 - distance).label("similarity")).where(grants.c.embedding.is_not(None))
    if not include_closed:
        query = query.where(access.open_grants(grants, now))
    async with db.reader() as conn:
        result = await conn.execute(query.order_by(distance).limit(limit))
        return [(row, float(row.similarity)) for row in result]
