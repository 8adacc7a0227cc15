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
    CANCELLED = strawberry.enum_value("CANCELLED", description="Stopped by an operator; may be retried.")


@strawberry.enum(description="What a computation computes.")
class ComputationKind(enum.Enum):
    GRANT_MATCHES = strawberry.enum_value("GRANT_MATCHES", description="Grant matches of one company.")
    GRANT_FANOUT = strawberry.enum_value(
        "GRANT_FANOUT",
        description="Created or changed grants scored against every company (queued by grant imports and edits).",
    )
    JOB_MATCHES = strawberry.enum_value("JOB_MATCHES", description="Job matches of a job, a member, or one pair.")
    MATCH_EXPLANATION = strawberry.enum_value("MATCH_EXPLANATION", description="The explanation of one job match.")


@strawberry.enum(description="A role a token may carry.")
class Role(enum.Enum):
    MEMBER = "MEMBER"
    ORG_USER = "ORG_USER"
    ORG_ADMIN = "ORG_ADMIN"
    PLATFORM_ADMIN = "PLATFORM_ADMIN"


@strawberry.enum(description="Where an organisation is with a job match (the transition table in docs/matching.md).")
class JobMatchStatus(enum.Enum):
    PENDING_REVIEW = strawberry.enum_value("PENDING_REVIEW", description="New; the organisation has not acted.")
    ORG_INTERESTED = strawberry.enum_value("ORG_INTERESTED", description="The organisation wants to talk.")
    ORG_DECLINED = strawberry.enum_value("ORG_DECLINED", description="The organisation passed (final).")
    INTERVIEWING = strawberry.enum_value("INTERVIEWING", description="Interviews are under way.")
    OFFERED = strawberry.enum_value("OFFERED", description="An offer was made.")
    PLACED = strawberry.enum_value("PLACED", description="The member started the job (final).")
    WITHDRAWN = strawberry.enum_value("WITHDRAWN", description="Withdrawn from an open state (final).")


@strawberry.enum(description="The member's own interest in a match.")
class MemberInterest(enum.Enum):
    INTERESTED = "INTERESTED"
    NOT_INTERESTED = "NOT_INTERESTED"


@strawberry.enum(description="Belonging probability tier: EXCEPTIONAL ≥ 0.80, STRONG ≥ 0.65, MODERATE ≥ 0.50.")
class QualityTier(enum.Enum):
    EXCEPTIONAL = "EXCEPTIONAL"
    STRONG = "STRONG"
    MODERATE = "MODERATE"
    DEVELOPING = "DEVELOPING"


@strawberry.enum(description="Level of one belonging component: HIGH ≥ 0.80, STRONG ≥ 0.65, MODERATE ≥ 0.50.")
class ComponentLevel(enum.Enum):
    HIGH = "HIGH"
    STRONG = "STRONG"
    MODERATE = "MODERATE"
    DEVELOPING = "DEVELOPING"


@strawberry.enum(description="What happened after a match (feeds the organisation's learned weights).")
class PlacementOutcomeKind(enum.Enum):
    HIRED = strawberry.enum_value("HIRED", description="Hired (success).")
    NOT_HIRED = strawberry.enum_value("NOT_HIRED", description="Not hired (failure).")
    WITHDREW = strawberry.enum_value("WITHDREW", description="The member withdrew (no signal).")
    LEFT_EARLY = strawberry.enum_value("LEFT_EARLY", description="Hired but left early (failure).")
    RETAINED = strawberry.enum_value("RETAINED", description="Hired and stayed (success).")


@strawberry.enum(description="When feedback is due after the placement start.")
class FeedbackStage(enum.Enum):
    DAY_30 = "DAY_30"
    DAY_90 = "DAY_90"
    DAY_180 = "DAY_180"


@strawberry.enum(description="Who gave feedback.")
class FeedbackRespondent(enum.Enum):
    MEMBER = "MEMBER"
    ORGANISATION = "ORGANISATION"


@strawberry.enum(description="Why a company is told about a grant.")
class GrantAlertReason(enum.Enum):
    NEW_GRANT = strawberry.enum_value("NEW_GRANT", description="A new grant fits the company.")
    GRANT_CHANGED = strawberry.enum_value("GRANT_CHANGED", description="A grant that fits the company changed.")
    DEADLINE_APPROACHING = strawberry.enum_value(
        "DEADLINE_APPROACHING", description="A saved match's grant closes within the reminder window."
    )


@strawberry.enum(description="An event a webhook can subscribe to (payloads in docs/webhooks.md).")
class WebhookEvent(enum.Enum):
    GRANT_ALERT = strawberry.enum_value("GRANT_ALERT", description="A company of the organisation got a grant alert.")
    COMPUTATION_COMPLETED = strawberry.enum_value(
        "COMPUTATION_COMPLETED",
        description="A computation of the organisation reached SUCCEEDED, FAILED or CANCELLED.",
    )


@strawberry.enum(description="Where a webhook delivery is.")
class WebhookDeliveryStatus(enum.Enum):
    PENDING = strawberry.enum_value("PENDING", description="Not delivered yet; an attempt is queued.")
    DELIVERED = strawberry.enum_value("DELIVERED", description="The endpoint answered with a 2xx status.")
    FAILED = strawberry.enum_value("FAILED", description="Given up: attempts used up, or the URL is not allowed.")
