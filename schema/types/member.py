"""The `Member` type: a platform user looking for work."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from schema.connections import Connection
from schema.enums import JobMatchStatus
from schema.types.job_match import JobMatch, job_match_args, job_match_connection
from schema.types.traits import TraitScore, trait_scores


@strawberry.type(description="A member: a platform user looking for work.")
class Member:
    id: strawberry.ID = strawberry.field(description="The member's UUID (the `member_id` token claim).")
    display_name: str = strawberry.field(description="Name shown to organisations.")
    headline: str = strawberry.field(description="One line about them.")
    bio: str = strawberry.field(description="About them, in their words.")
    skills: list[str] = strawberry.field(description="Skills (lower-case).")
    values: list[str] = strawberry.field(description="What they value (lower-case words).")
    traits: list[TraitScore] = strawberry.field(description="Work-style traits, 0..1.")
    profile_completeness: float | None = strawberry.field(description="How complete the profile is, 0..1.")
    created_at: datetime = strawberry.field(description="When the profile was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    db_id: strawberry.Private[uuid.UUID]

    @strawberry.field(description="This member's matches you may see, by belonging probability.")
    async def matches(
        self,
        info: Info,
        status: Annotated[JobMatchStatus | None, strawberry.argument(description="Only this status.")] = None,
        first: Annotated[int, strawberry.argument(description="Page size, 1–100.")] = 20,
        after: Annotated[str | None, strawberry.argument(description="Cursor to continue after.")] = None,
    ) -> Connection[JobMatch]:
        key = job_match_args(info, self.db_id, None, status, first, after)
        return job_match_connection(await info.context.loaders.job_matches_by_member.load(key))

    @classmethod
    def from_row(cls, row: Row) -> Member:
        return cls(
            id=str(row.id),
            db_id=row.id,
            display_name=row.display_name,
            headline=row.headline,
            bio=row.bio,
            skills=list(row.skills),
            values=list(row._mapping["values"]),
            traits=trait_scores(row.traits),
            profile_completeness=row.profile_completeness,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
