"""The REST shapes of the two documented APIs, declared over the GraphQL types they come from, and the envelopes
(pages, receipts) the routes put around them."""

from __future__ import annotations

from graphql_app.rest.shapes import (
    BOOLEAN,
    DATE,
    INTEGER,
    JSON_OBJECT,
    NUMBER,
    STRING,
    TIMESTAMP,
    UUID,
    Envelope,
    Field,
    ListOf,
    Nullable,
    Shape,
    lower_enum,
)
from schema.enums import (
    CompanySize,
    ComponentLevel,
    ComputationKind,
    ComputationStatus,
    FeedbackRespondent,
    FeedbackStage,
    JobMatchStatus,
    MemberInterest,
    PlacementOutcomeKind,
    QualityTier,
    TaxonomyObjective,
)

# --- the grant ("Matches") API ------------------------------------------------------------------------------------

GRANT = Shape(
    "Grant",
    "A grant of the catalogue (GraphQL `Grant`).",
    {
        "id": Field("id", UUID, "Grant ID."),
        "title": Field("title", STRING, "Title of the call."),
        "description": Field("description", STRING, "What the grant funds."),
        "funder": Field("funder", STRING, "Programme or agency."),
        "countries": Field("countries", ListOf(STRING), "Eligible countries (ISO 3166-1 alpha-2); empty: all."),
        "nace_codes": Field("naceCodes", ListOf(STRING), "Eligible NACE activities; empty: all."),
        "sizes": Field("sizes", ListOf(lower_enum(CompanySize)), "Eligible company sizes; empty: all."),
        "carbon_categories": Field("carbonCategories", ListOf(STRING), "Carbon categories funded."),
        "certifications": Field("certifications", ListOf(STRING), "Certifications recognised (e.g. ISO_14001)."),
        "taxonomy_objectives": Field(
            "taxonomyObjectives", ListOf(lower_enum(TaxonomyObjective)), "EU taxonomy objectives pursued."
        ),
        "is_carbon_focused": Field("isCarbonFocused", BOOLEAN, "Carbon-focused grants get a 1.2× score bonus."),
        "deadline": Field("deadline", Nullable(TIMESTAMP), "Closing time; null for rolling calls."),
        "amount_min": Field("amountMin", Nullable(NUMBER), "Smallest award, in `currency`."),
        "amount_max": Field("amountMax", Nullable(NUMBER), "Largest award, in `currency`."),
        "currency": Field("currency", STRING, "ISO 4217 currency of the amounts."),
        "url": Field("url", Nullable(STRING), "Where to read the call and apply."),
        "days_left": Field("daysLeft", Nullable(INTEGER), "Whole days until the deadline; null for rolling calls."),
        "is_open": Field("isOpen", BOOLEAN, "Whether applications are still accepted."),
        "created_at": Field("createdAt", TIMESTAMP, "When the grant was added."),
        "updated_at": Field("updatedAt", TIMESTAMP, "When the grant was last changed."),
    },
)

_SCORES = {
    "score": Field("score", NUMBER, "Weighted total score (0-1)."),
    "rule_score": Field("ruleScore", NUMBER, "Rule-based component (0-1)."),
    "semantic_score": Field("semanticScore", NUMBER, "Semantic similarity component (0-1)."),
    "recency_score": Field("recencyScore", NUMBER, "Recency/urgency component (0-1)."),
    "collaborative_score": Field("collaborativeScore", NUMBER, "Collaborative filtering (0-1)."),
    "carbon_score": Field("carbonScore", NUMBER, "Carbon alignment component (0-1)."),
    "match_reasons": Field("matchReasons", ListOf(STRING), "Human-readable match explanations."),
    "score_breakdown": Field("scoreBreakdown", JSON_OBJECT, "Full score breakdown details."),
}

MATCH = Shape(
    "MatchResponse",
    "A persisted company ↔ grant match (GraphQL `GrantMatch`).",
    {
        "id": Field("id", UUID, "Match record ID."),
        "company_id": Field("company.id", UUID, "Company ID."),
        "grant_id": Field("grant.id", UUID, "Grant ID."),
        **_SCORES,
        "is_viewed": Field("isViewed", BOOLEAN, "Whether the user has viewed this match."),
        "is_saved": Field("isSaved", BOOLEAN, "Whether the user has saved this match."),
        "is_dismissed": Field("isDismissed", BOOLEAN, "Whether the user has dismissed this match."),
        "created_at": Field("createdAt", TIMESTAMP, "ISO 8601 creation timestamp."),
        "updated_at": Field("updatedAt", TIMESTAMP, "ISO 8601 last update timestamp."),
        "grant": Field("grant", GRANT, "Full grant details."),
    },
)

MATCH_RESULT = Shape(
    "MatchResultResponse",
    "A company ↔ grant match computed now, not stored (GraphQL `LiveGrantMatch`).",
    {"grant": Field("grant", GRANT, "Full grant details."), **_SCORES},
)

SCORE_BUCKET = Shape(
    "ScoreBucket",
    "Matches with lower ≤ score < upper (the last bucket includes 1).",
    {
        "lower": Field("lower", NUMBER, "Inclusive lower bound."),
        "upper": Field("upper", NUMBER, "Upper bound (exclusive, except 1.0)."),
        "count": Field("count", INTEGER, "How many matches fall in it."),
    },
)

STATS = Shape(
    "MatchStats",
    "Statistics of the stored matches of open grants (GraphQL `GrantMatchStats`).",
    {
        "total": Field("total", INTEGER, "Stored matches whose grant is still open."),
        "saved": Field("saved", INTEGER, "Of those, saved."),
        "dismissed": Field("dismissed", INTEGER, "Of those, dismissed."),
        "viewed": Field("viewed", INTEGER, "Of those, viewed."),
        "average_score": Field("averageScore", Nullable(NUMBER), "Mean score; null without matches."),
        "top_score": Field("topScore", Nullable(NUMBER), "Highest score; null without matches."),
        "histogram": Field("histogram", ListOf(SCORE_BUCKET), "Ten buckets of width 0.1 over 0..1."),
    },
)

MATCH_PAGE = Envelope(
    "MatchPage",
    "A page of persisted matches.",
    {
        "items": (ListOf(MATCH), "The matches of this page, best first."),
        "total": (INTEGER, "How many matches the whole filtered list has."),
        "page": (INTEGER, "This page's number (from 1)."),
        "page_size": (INTEGER, "Items per page."),
    },
)

MATCH_RESULT_PAGE = Envelope(
    "MatchResultPage",
    "A page of matches computed now.",
    {
        "items": (ListOf(MATCH_RESULT), "The matches of this page, best first."),
        "total": (INTEGER, "How many grants match above the threshold."),
        "company_id": (UUID, "Company ID."),
    },
)

REFRESH_RESULT = Envelope(
    "RefreshResult",
    "What a recalculation computed (and stored, when asked to).",
    {
        "items": (ListOf(MATCH_RESULT), "The best matches, best first."),
        "total": (INTEGER, "How many matches `items` holds."),
        "company_id": (UUID, "Company ID."),
        "saved": (BOOLEAN, "Whether the matches were persisted."),
        "candidate_count": (INTEGER, "Open grants the company is eligible for that were scored."),
    },
)

CALCULATION_RESULT = Envelope(
    "CalculationResult",
    "A finished match calculation.",
    {
        "task_id": (UUID, "The computation's ID (GraphQL `Computation.id`)."),
        "status": (lower_enum(ComputationStatus), "Always `succeeded`: the answer waits for the calculation."),
        "company_id": (UUID, "Company ID."),
        "matches_count": (Nullable(INTEGER), "How many matches were stored."),
    },
)

STATS_RESULT = Envelope(
    "MatchStatsResponse",
    "Match statistics of one company, or of the whole tenant.",
    {
        "company_id": (Nullable(UUID), "The company, or null for the whole tenant."),
        **{key: (item.value, item.description) for key, item in STATS.fields.items()},
    },
)

# --- the talent ("Matches") API -----------------------------------------------------------------------------------

BELONGING_LEVELS = Shape(
    "BelongingLevels",
    "Level of each belonging component.",
    {
        "authenticity": Field("authenticity", lower_enum(ComponentLevel), "Can they be themselves here."),
        "acceptance": Field("acceptance", lower_enum(ComponentLevel), "Will the team take them in."),
        "complementarity": Field("complementarity", lower_enum(ComponentLevel), "Do they add what the team lacks."),
    },
)

JOB_MATCH = Shape(
    "JobMatchResponse",
    "A member ↔ job match (GraphQL `JobMatch`): quality tier and belonging components, no numbers.",
    {
        "id": Field("id", UUID, "Match UUID."),
        "member_id": Field("member.id", UUID, "Member UUID."),
        "job_id": Field("job.id", UUID, "Job UUID."),
        "org_id": Field("organisation.id", UUID, "UUID of the organisation offering the job."),
        "match_quality": Field("qualityTier", lower_enum(QualityTier), "Belonging probability tier."),
        "match_status": Field("status", lower_enum(JobMatchStatus), "The organisation's progress with the match."),
        "computed_at": Field("updatedAt", TIMESTAMP, "When its scores (or its status) last changed."),
        "belonging_components": Field("belongingLevels", BELONGING_LEVELS, "Level of each belonging component."),
        "member_interest": Field("memberInterest", Nullable(lower_enum(MemberInterest)), "The member's interest."),
        "model_version": Field("modelVersion", INTEGER, "Version of the organisation's weights used (0: defaults)."),
        "created_at": Field("createdAt", TIMESTAMP, "When the match was first computed."),
    },
)

EXPLANATION = Shape(
    "MatchExplanation",
    "Why a member and a job fit, in words (GraphQL `MatchExplanation`).",
    {
        "top_strengths": Field("topStrengths", ListOf(STRING), "The member's strongest traits the job wants."),
        "growth_areas": Field("growthAreas", ListOf(STRING), "Traits below the job's target."),
        "belonging_breakdown": Field("belongingBreakdown", BELONGING_LEVELS, "Level of each belonging component."),
        "confidence_statement": Field("confidenceStatement", STRING, "How much to trust this."),
        "summary_text": Field("summaryText", STRING, "One or two sentences."),
        "generated_at": Field("generatedAt", TIMESTAMP, "When it was generated."),
    },
)

EXPLANATION_RESULT = Envelope(
    "MatchExplanationResponse",
    "A match's explanation.",
    {"match_id": (UUID, "Match UUID."), **{key: (f.value, f.description) for key, f in EXPLANATION.fields.items()}},
)

FEEDBACK = Shape(
    "PlacementFeedback",
    "Feedback on a placement at one stage (GraphQL `PlacementFeedback`).",
    {
        "id": Field("id", UUID, "Feedback UUID."),
        "stage": Field("stage", lower_enum(FeedbackStage), "30, 90 or 180 days after the start."),
        "respondent": Field("respondent", lower_enum(FeedbackRespondent), "Who gave it."),
        "rating": Field("rating", INTEGER, "1 (poor) to 5 (excellent)."),
        "comments": Field("comments", STRING, "Free text."),
        "submitted_at": Field("submittedAt", TIMESTAMP, "When it was given."),
    },
)

FEEDBACK_RESULT = Envelope(
    "PlacementFeedbackResponse",
    "Feedback on a placement.",
    {"match_id": (UUID, "Match UUID."), **{key: (f.value, f.description) for key, f in FEEDBACK.fields.items()}},
)

FEEDBACK_LIST = Envelope(
    "PlacementFeedbackList",
    "Every feedback record of a match, oldest first.",
    {
        "match_id": (UUID, "Match UUID."),
        "items": (ListOf(FEEDBACK), "The feedback records."),
        "total": (INTEGER, "How many there are."),
    },
)

OUTCOME = Shape(
    "PlacementOutcome",
    "The recorded outcome of a match (GraphQL `PlacementOutcome`).",
    {
        "outcome": Field("outcome", lower_enum(PlacementOutcomeKind), "What happened."),
        "start_date": Field("startDate", Nullable(DATE), "When the placement started."),
        "end_date": Field("endDate", Nullable(DATE), "When it ended."),
        "notes": Field("notes", STRING, "Free-text notes."),
        "recorded_at": Field("recordedAt", TIMESTAMP, "When it was (last) recorded."),
    },
)

OUTCOME_RESULT = Envelope(
    "PlacementOutcomeResponse",
    "The outcome as recorded, with the match's status.",
    {
        "match_id": (UUID, "Match UUID."),
        "match_status": (lower_enum(JobMatchStatus), "The match's status."),
        **{key: (f.value, f.description) for key, f in OUTCOME.fields.items()},
    },
)

JOB_MATCH_PAGE = Envelope(
    "JobMatchPage",
    "A cursor-paginated page of matches, by belonging probability.",
    {
        "items": (ListOf(JOB_MATCH), "The matches of this page."),
        "total": (INTEGER, "How many matches the whole filtered list has."),
        "next_cursor": (Nullable(STRING), "Pass as `cursor` for the next page; null on the last page."),
        "has_more": (BOOLEAN, "Whether more matches follow."),
    },
)

COMPUTATION_QUEUED = Envelope(
    "ComputationQueued",
    "A queued match computation.",
    {
        "task_id": (UUID, "The computation's ID (follow it with GraphQL `computation(id)`)."),
        "status": (lower_enum(ComputationStatus), "`queued`."),
        "kind": (lower_enum(ComputationKind), "What it computes."),
        "job_id": (Nullable(UUID), "The job, when given."),
        "member_id": (Nullable(UUID), "The member, when given."),
    },
)

EXPLANATION_PENDING = Envelope(
    "ExplanationPending",
    "The explanation is being generated; ask again once the computation has succeeded.",
    {
        "match_id": (UUID, "Match UUID."),
        "task_id": (UUID, "The computation generating it."),
        "status": (lower_enum(ComputationStatus), "The computation's status."),
    },
)


def page_of_matches(connection: dict, page: int, page_size: int) -> dict:
    """The grant API's page envelope around a `GrantMatchConnection`."""
    return {
        "items": [MATCH.convert(edge["node"]) for edge in connection["edges"]],
        "total": connection["totalCount"],
        "page": page,
        "page_size": page_size,
    }


def page_of_job_matches(connection: dict) -> dict:
    """The talent API's cursor page around a `JobMatchConnection`."""
    info = connection["pageInfo"]
    return {
        "items": [JOB_MATCH.convert(edge["node"]) for edge in connection["edges"]],
        "total": connection["totalCount"],
        "next_cursor": info["endCursor"] if info["hasNextPage"] else None,
        "has_more": info["hasNextPage"],
    }
