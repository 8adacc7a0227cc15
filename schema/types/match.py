"""The `Match` interface shared by grant and job matches."""

from __future__ import annotations

from datetime import datetime

import strawberry


@strawberry.interface(description="A scored, explained pairing (company ↔ grant, member ↔ job).")
class Match:
    id: strawberry.ID = strawberry.field(description="The match's UUID.")
    created_at: datetime = strawberry.field(description="When the match was first computed.")
    updated_at: datetime = strawberry.field(description="When its scores or state last changed.")
