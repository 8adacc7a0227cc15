"""The `Organisation` type: the organisation behind a tenant."""

from __future__ import annotations

import uuid
from datetime import datetime

import strawberry
from sqlalchemy.engine import Row

from graphql_app.matching.belonging import DEFAULT_BELONGING_WEIGHTS
from schema.permissions import IsPlatformAdmin
from schema.types.traits import TraitNorm


@strawberry.type(description="An organisation (one per organisation account) with its culture and team norms.")
class Organisation:
    id: strawberry.ID = strawberry.field(description="The organisation's UUID.")
    tenant_id: str = strawberry.field(description="Its organisation account.")
    name: str = strawberry.field(description="Name.")
    values: list[str] = strawberry.field(description="What it values (lower-case words).")
    culture_statement: str = strawberry.field(description="How it works, in its own words.")
    team_trait_norms: list[TraitNorm] = strawberry.field(description="The team's work-style norms.")
    team_skills: list[str] = strawberry.field(description="Skills the team already has.")
    model_version: int = strawberry.field(description="Version of its learned belonging weights (0 = defaults).")
    created_at: datetime = strawberry.field(description="When it was created.")
    updated_at: datetime = strawberry.field(description="Last change.")
    weights: strawberry.Private[tuple[float, float, float]]
    db_id: strawberry.Private[uuid.UUID]

    @strawberry.field(
        description="Belonging weights in force (authenticity, acceptance, complementarity); platform admins only.",
        permission_classes=[IsPlatformAdmin],
    )
    def belonging_weights(self) -> list[float] | None:
        return list(self.weights)

    @classmethod
    def from_row(cls, row: Row) -> Organisation:
        return cls(
            id=str(row.id),
            db_id=row.id,
            tenant_id=row.tenant_id,
            name=row.name,
            values=list(row._mapping["values"]),
            culture_statement=row.culture_statement,
            team_trait_norms=[
                TraitNorm(trait=t, mean=n["mean"], tolerance=n["tolerance"])
                for t, n in sorted((row.team_trait_norms or {}).items())
            ],
            team_skills=list(row.team_skills),
            model_version=row.model_version,
            weights=tuple(row.belonging_weights) if row.belonging_weights else DEFAULT_BELONGING_WEIGHTS,
            created_at=row.created_at,
            updated_at=row.updated_at,
        )
