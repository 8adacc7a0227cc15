"""The `Computation` type: the durable record of a (background) computation."""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

import strawberry
from sqlalchemy.engine import Row

from schema.enums import ComputationKind, ComputationStatus
from schema.scalars import JSON


@strawberry.type(description="A computation a client started; poll it or subscribe to it.")
class Computation:
    id: strawberry.ID = strawberry.field(description="The computation's UUID.")
    kind: ComputationKind = strawberry.field(description="What it computes.")
    status: ComputationStatus = strawberry.field(description="Where it is in its lifecycle.")
    progress: float = strawberry.field(description="Share done, 0..1.")
    total_count: int | None = strawberry.field(description="Items to process, once known.")
    processed_count: int = strawberry.field(description="Items processed so far.")
    result_count: int | None = strawberry.field(description="Results stored (e.g. matches), once finished.")
    subject_id: strawberry.ID | None = strawberry.field(description="What it is about (e.g. the company id).")
    parameters: JSON = strawberry.field(description="The arguments it was started with.")
    error: str | None = strawberry.field(description="Why it failed, when it did.")
    attempts: int = strawberry.field(description="How many times a worker has started it (more than 1 after a crash).")
    requested_by: str = strawberry.field(description="Subject (`sub`) of the token that started it.")
    created_at: datetime = strawberry.field(description="When it was requested.")
    started_at: datetime | None = strawberry.field(description="When a worker started it.")
    finished_at: datetime | None = strawberry.field(description="When it reached SUCCEEDED, FAILED or CANCELLED.")
    updated_at: datetime = strawberry.field(description="Last change.")

    @classmethod
    def from_row(cls, row: Row) -> Computation:
        return cls(
            id=str(row.id),
            kind=ComputationKind(row.kind),
            status=ComputationStatus(row.status),
            progress=row.progress,
            total_count=row.total_count,
            processed_count=row.processed_count,
            result_count=row.result_count,
            subject_id=str(row.subject_id) if row.subject_id else None,
            parameters=row.parameters,
            error=row.error,
            attempts=row.attempts,
            requested_by=row.requested_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            updated_at=row.updated_at,
        )


#: The latest events' objects, by the identity of the row they were made from (kept alive alongside).
_SHARED: OrderedDict[int, tuple[Row, Computation]] = OrderedDict()


def shared_computation(row: Row) -> Computation:
    """One ``Computation`` per event row: every subscriber of an event gets the same object, so the event is
    executed once per audience (``schema.execution``)."""
    entry = _SHARED.get(id(row))
    if entry is not None and entry[0] is row:
        return entry[1]
    computation = Computation.from_row(row)
    _SHARED[id(row)] = (row, computation)
    while len(_SHARED) > 32:
        _SHARED.popitem(last=False)
    return computation
