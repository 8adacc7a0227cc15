"""The `Job` type: an opening in an organisation."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from schema.connections import Connection
from schema.enums import JobMatchStatus, QualityTier
from schema.types.job_match import JobMatch, job_match_args, job_match_connection
from schema.types.organisation import Organisation
from schema.types.traits import RequiredSkill, TraitScore, trait_scores


@strawberry.type(description="A job in an organisation.")
class Job:
    id: strawberry.ID = strawberry.field(description="The job's UUID.")
    title: str = strawberry.field(description="Title.")
    description: str = strawberry.field(description="What the job is.")
    required_skills: list[RequiredSkill] = strawberry.field(description="Required skills and their weights.")
    desired_traits: list[TraitScore] = strawberry.field(description="Work-style targets, 0..1.")
    is_open: bool = strawberry.field(description="Open jobs are matched against members.")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    db_id: strawberry.Private[uuid.UUID]
    organisation_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="The organisation offering it.")
    async def organisation(self, info: Info) -> Organisation:
        return Organisation.from_row(await info.context.loaders.organisation_by_id.load(self.organisation_id))

    @strawberry.field(description="Matches for this job you may see, by belonging probability.")
    async def matches(
        self,
        info: Info,
        quality: Annotated[QualityTier | None, strawberry.argument(description="Only this tier.")] = None,
        status: Annotated[JobMatchStatus | None, strawberry.argument(description="Only this status.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    ) -> Connection[JobMatch]:
        key = job_match_args(info, self.db_id, quality, status, first, after)
        return job_match_connection(await info.context.loaders.job_matches_by_job.load(key))

    @classmethod
    def from_row(cls, row: Row) -> Job:
        return cls(
            id=str(row.id),
            db_id=row.id,
            organisation_id=row.organisation_id,
            title=row.title,
            description=row.description,
            required_skills=[RequiredSkill(skill=k, weight=w) for k, w in sorted((row.required_skills or {}).items())],
            desired_traits=trait_scores(row.desired_traits),
            is_open=row.is_open,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
