"""The `JobMatch` type: a member ↔ job match with belonging tier, levels, status, explanation, feedback, outcome."""

from __future__ import annotations

import uuid
from typing import Annotated

import strawberry
from sqlalchemy.engine import Row
from strawberry.types import Info

from graphql_app.matching.belonging import component_level
from graphql_app.services.pages import MatchCursor, MatchPage
from schema.connections import Connection, page_connection
from schema.enums import ComponentLevel, JobMatchStatus, MemberInterest, QualityTier
from schema.permissions import IsPlatformAdmin
from schema.types.computation import Computation
from schema.types.match import Match
from schema.types.match_explanation import ExplanationPending, ExplanationResult, MatchExplanation
from schema.types.placement import PlacementFeedback, PlacementOutcome
from schema.types.traits import BelongingLevels, BelongingScores


@strawberry.type(
    description="A match of a member and a job. Numbers are for platform admins; others see tiers and levels."
)
class JobMatch(Match):
    quality_tier: QualityTier = strawberry.field(description="Belonging tier.")
    belonging_levels: BelongingLevels = strawberry.field(description="Level of each belonging component.")
    status: JobMatchStatus = strawberry.field(description="The organisation's progress with this match.")
    member_interest: MemberInterest | None = strawberry.field(description="The member's interest, once given.")
    model_version: int = strawberry.field(description="Version of the organisation's weights used (0 = defaults).")
    row: strawberry.Private[Row]

    @strawberry.field(
        description="The numbers: probability, components, weights (platform admins only).",
        permission_classes=[IsPlatformAdmin],
    )
    def scores(self) -> BelongingScores | None:
        r = self.row
        return BelongingScores(
            probability=r.belonging_probability,
            authenticity=r.authenticity,
            acceptance=r.acceptance,
            complementarity=r.complementarity,
            weights=list(r.belonging_weights),
        )

    @strawberry.field(description="The member.")
    async def member(self, info: Info) -> Annotated[Member, strawberry.lazy("schema.types.member")]:  # noqa: F821
        from schema.types.member import Member

        return Member.from_row(await info.context.loaders.member_by_id.load(self.row.member_id))

    @strawberry.field(description="The job.")
    async def job(self, info: Info) -> Annotated[Job, strawberry.lazy("schema.types.job")]:  # noqa: F821
        from schema.types.job import Job

        return Job.from_row(await info.context.loaders.job_by_id.load(self.row.job_id))

    @strawberry.field(description="The organisation offering the job.")
    async def organisation(self, info: Info) -> Annotated[Organisation, strawberry.lazy("schema.types.organisation")]:  # noqa: F821
        from schema.types.organisation import Organisation

        return Organisation.from_row(await info.context.loaders.organisation_by_id.load(self.row.organisation_id))

    @strawberry.field(description="The cached explanation, or (the first time) the computation generating it.")
    async def explanation(self, info: Info) -> ExplanationResult:
        if self.row.explanation is not None:
            return MatchExplanation.from_json(self.row.explanation, self.row.explanation_generated_at)
        record = await info.context.loaders.explanation_computation_by_match.load(self.row.id)
        return ExplanationPending(computation=Computation.from_row(record))

    @strawberry.field(description="Feedback given on the placement, oldest first.")
    async def feedback(self, info: Info) -> list[PlacementFeedback]:
        return [PlacementFeedback.from_row(r) for r in await info.context.loaders.feedback_by_match.load(self.row.id)]

    @strawberry.field(description="The recorded outcome, if any.")
    async def outcome(self, info: Info) -> PlacementOutcome | None:
        row = await info.context.loaders.outcome_by_match.load(self.row.id)
        return PlacementOutcome.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: Row) -> JobMatch:
        return cls(
            id=str(row.id),
            created_at=row.created_at,
            updated_at=row.updated_at,
            quality_tier=QualityTier(row.quality_tier),
            belonging_levels=BelongingLevels(
                authenticity=ComponentLevel(component_level(row.authenticity)),
                acceptance=ComponentLevel(component_level(row.acceptance)),
                complementarity=ComponentLevel(component_level(row.complementarity)),
            ),
            status=JobMatchStatus(row.status),
            member_interest=MemberInterest(row.member_interest) if row.member_interest else None,
            model_version=row.model_version,
            row=row,
        )


def job_match_connection(page: MatchPage) -> Connection[JobMatch]:
    return page_connection(
        page,
        [JobMatch.from_row(row) for row in page.rows],
        [MatchCursor(row.belonging_probability, row.id).encode() for row in page.rows],
    )


def job_match_args(info: Info, parent_id: uuid.UUID, quality, status, first, after):
    """Loader key for `Job.matches` / `Member.matches`."""
    from graphql_app import validation
    from graphql_app.services.job_match_pages import JobMatchFilter
    from graphql_app.services.pages import PageRequest

    flt = JobMatchFilter(quality.value if quality else None, status.value if status else None)
    page = PageRequest(validation.page_size(first), MatchCursor.decode(after) if after else None)
    return (parent_id, flt, page)
