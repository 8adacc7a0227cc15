"""`PlacementOutcome` and `PlacementFeedback`: what happened after a placement."""

from __future__ import annotations

import datetime as dt

import strawberry
from sqlalchemy.engine import Row

from schema.enums import FeedbackRespondent, FeedbackStage, PlacementOutcomeKind


@strawberry.type(description="The recorded outcome of a match.")
class PlacementOutcome:
    outcome: PlacementOutcomeKind = strawberry.field(description="What happened.")
    start_date: dt.date | None = strawberry.field(description="When the placement started.")
    end_date: dt.date | None = strawberry.field(description="When it ended, if it did.")
    notes: str = strawberry.field(description="Free-text notes.")
    recorded_at: dt.datetime = strawberry.field(description="When it was (last) recorded.")

    @classmethod
    def from_row(cls, row: Row) -> PlacementOutcome:
        return cls(
            outcome=PlacementOutcomeKind(row.outcome),
            start_date=row.start_date,
            end_date=row.end_date,
            notes=row.notes,
            recorded_at=row.updated_at,
        )


@strawberry.type(description="Feedback on a placement at one stage, by the member or the organisation.")
class PlacementFeedback:
    id: strawberry.ID = strawberry.field(description="The feedback's UUID.")
    stage: FeedbackStage = strawberry.field(description="30, 90 or 180 days after the start.")
    respondent: FeedbackRespondent = strawberry.field(description="Who gave it.")
    rating: int = strawberry.field(description="1 (poor) to 5 (excellent).")
    comments: str = strawberry.field(description="Free text.")
    submitted_at: dt.datetime = strawberry.field(description="When it was given.")

    @classmethod
    def from_row(cls, row: Row) -> PlacementFeedback:
        return cls(
            id=str(row.id),
            stage=FeedbackStage(row.stage),
            respondent=FeedbackRespondent(row.respondent),
            rating=row.rating,
            comments=row.comments,
            submitted_at=row.created_at,
        )
