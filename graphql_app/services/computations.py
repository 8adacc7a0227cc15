"""Computation records and running grant-match computations.

`calculateGrantMatches` creates a record and runs it. Until background workers land it runs inline in the
request, but the record moves through QUEUED → RUNNING → SUCCEEDED|FAILED exactly as a worker would, so the
API's shape does not change when it is queued instead.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import computations
from graphql_app.db.scoping import scoped
from graphql_app.errors import not_found
from graphql_app.services.grant_matching import (
    STORED_MATCHES_PER_COMPANY,
    lock_company,
    recompute_and_store_matches,
)

logger = logging.getLogger(__name__)

GRANT_MATCHES = "GRANT_MATCHES"


async def create_computation(
    db: Database, principal: Principal, tenant_id: str, kind: str, subject_id: uuid.UUID, parameters: dict
) -> Row:
    async with db.transaction() as conn:
        return (
            await conn.execute(
                insert(computations)
                .values(
                    tenant_id=tenant_id,
                    kind=kind,
                    subject_id=subject_id,
                    parameters=parameters,
                    requested_by=principal.subject,
                )
                .returning(*computations.c)
            )
        ).one()


async def get_computation(db: Database, principal: Principal, computation_id: uuid.UUID) -> Row:
    query = scoped(select(computations).where(computations.c.id == computation_id), computations, principal)
    async with db.reader() as conn:
        row = (await conn.execute(query)).first()
    if row is None:
        raise not_found("Computation", computation_id)
    return row


async def run_grant_match_computation(db: Database, computation_id: uuid.UUID, now: datetime) -> Row:
    """Run a GRANT_MATCHES computation: score the catalogue, store the top matches, record the outcome.

    The matches and the SUCCEEDED state are committed together; on error nothing of the matches is kept and
    the record ends FAILED with the reason.
    """
    async with db.transaction() as conn:
        await conn.execute(
            update(computations)
            .where(computations.c.id == computation_id)
            .values(status="RUNNING", started_at=func.now(), updated_at=func.now())
        )
    try:
        async with db.transaction() as conn:
            record = (await conn.execute(select(computations).where(computations.c.id == computation_id))).one()
            company = await lock_company(conn, record.subject_id)
            if company is None:
                raise LookupError(f"Company {record.subject_id} no longer exists.")
            stored, candidate_count = await recompute_and_store_matches(conn, company, now, STORED_MATCHES_PER_COMPANY)
            return (
                await conn.execute(
                    update(computations)
                    .where(computations.c.id == computation_id)
                    .values(
                        status="SUCCEEDED",
                        progress=1.0,
                        total_count=candidate_count,
                        processed_count=candidate_count,
                        result_count=len(stored),
                        finished_at=func.now(),
                        updated_at=func.now(),
                    )
                    .returning(*computations.c)
                )
            ).one()
    except Exception as exc:
        logger.exception("computation %s failed", computation_id)
        async with db.transaction() as conn:
            return (
                await conn.execute(
                    update(computations)
                    .where(computations.c.id == computation_id)
                    .values(
                        status="FAILED",
                        error=str(exc) or type(exc).__name__,
                        finished_at=func.now(),
                        updated_at=func.now(),
                    )
                    .returning(*computations.c)
                )
            ).one()
