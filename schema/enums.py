"""GraphQL enums."""

from __future__ import annotations

import enum

import strawberry

from graphql_app.matching.vocabulary import CERTIFICATIONS, TAXONOMY_OBJECTIVES


@strawberry.enum(description="EU company size class (Recommendation 2003/361): <10, <50, <250 staff, else large.")
class CompanySize(enum.Enum):
    MICRO = "MICRO"
    SMALL = "SMALL"
    MEDIUM = "MEDIUM"
    LARGE = "LARGE"


Certification = strawberry.enum(
    enum.Enum("Certification", {name: name for name in CERTIFICATIONS}),
    description="A management-system or sustainability certification a company holds or a grant recognises.",
)

TaxonomyObjective = strawberry.enum(
    enum.Enum("TaxonomyObjective", {name: name for name in TAXONOMY_OBJECTIVES}),
    description="An environmental objective of the EU taxonomy (Regulation (EU) 2020/852, Art. 9).",
)


@strawberry.enum(description="Which stored grant matches to list.")
class GrantMatchStatus(enum.Enum):
    ACTIVE = strawberry.enum_value("ACTIVE", description="Not dismissed (saved or not).")
    SAVED = strawberry.enum_value("SAVED", description="Saved by the company.")
    DISMISSED = strawberry.enum_value("DISMISSED", description="Dismissed by the company.")


@strawberry.enum(description="What a company does with a grant match.")
class GrantMatchAction(enum.Enum):
    SAVE = strawberry.enum_value("SAVE", description="Save it (and un-dismiss it).")
    DISMISS = strawberry.enum_value("DISMISS", description="Dismiss it (and un-save it).")
    RESTORE = strawberry.enum_value("RESTORE", description="Clear both saved and dismissed.")


@strawberry.enum(description="Lifecycle of a computation.")
class ComputationStatus(enum.Enum):
    QUEUED = strawberry.enum_value("QUEUED", description="Accepted, waiting for a worker.")
    RUNNING = strawberry.enum_value("RUNNING", description="A worker is computing it.")
    SUCCEEDED = strawberry.enum_value("SUCCEEDED", description="Finished; results are stored.")
    FAILED = strawberry.enum_value("FAILED", description="Gave up; `error` says why.")


@strawberry.enum(description="What a computation computes.")
class ComputationKind(enum.Enum):
    GRANT_MATCHES = strawberry.enum_value("GRANT_MATCHES", description="Grant matches of one company.")


@strawberry.enum(description="A role a token may carry.")
class Role(enum.Enum):
    MEMBER = "MEMBER"
    ORG_USER = "ORG_USER"
    ORG_ADMIN = "ORG_ADMIN"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"
