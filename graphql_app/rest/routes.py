"""The route table: every route of the two documented REST APIs, each a stored GraphQL document (or a short
sequence of them) with its argument and result mapping. The HTTP endpoints and the OpenAPI document are both
generated from this table.

The grant ("Matches") API lives under ``/api/grants``, the talent ("Matches") API under ``/api/talent``: their
paths collide. Within each API, literal paths come before the ones they would otherwise be captured by
(``/matches/stats`` before ``/matches/{company_id}``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from graphql_app.rest import documents
from graphql_app.rest.errors import RestError, bad_input
from graphql_app.rest.execution import Call
from graphql_app.rest.mapping import (
    CALCULATION_RESULT,
    COMPUTATION_QUEUED,
    EXPLANATION,
    EXPLANATION_PENDING,
    EXPLANATION_RESULT,
    FEEDBACK,
    FEEDBACK_LIST,
    FEEDBACK_RESULT,
    JOB_MATCH,
    JOB_MATCH_PAGE,
    MATCH,
    MATCH_PAGE,
    MATCH_RESULT,
    MATCH_RESULT_PAGE,
    OUTCOME,
    OUTCOME_RESULT,
    REFRESH_RESULT,
    STATS,
    STATS_RESULT,
    page_of_job_matches,
    page_of_matches,
)
from graphql_app.rest.params import Param, page_param, page_size_param
from graphql_app.rest.shapes import Envelope, Shape, enum_values
from schema.enums import (
    FeedbackStage,
    GrantMatchAction,
    GrantMatchStatus,
    JobMatchStatus,
    PlacementOutcomeKind,
    QualityTier,
)

#: A numbered page is reached by walking the cursor-paginated GraphQL list; pages starting after this many items
#: are refused (400) rather than walked: use GraphQL's cursors for lists that long.
MAX_PAGE_OFFSET = 10_000
#: Page size of each step of that walk (the GraphQL lists' maximum).
WALK_STEP = 100


@dataclass(frozen=True)
class Api:
    """One of the two documented APIs: where it is mounted and how OpenAPI groups it."""

    prefix: str
    tag: str
    description: str


GRANTS = Api(
    "/api/grants",
    "grants",
    "The company ↔ grant Matches API: persisted matches, real-time matches, user interactions. Every route needs "
    "an organisation role (ORG_USER, ORG_ADMIN, PLATFORM_ADMIN) and sees the caller's tenant only.",
)
TALENT = Api(
    "/api/talent",
    "talent",
    "The member ↔ job Matches API: match results, belonging quality tiers, status, outcomes and feedback.",
)


@dataclass(frozen=True)
class Answer:
    """What a route answers: a status and a JSON body (``None``: no body)."""

    status: int
    body: Any = None


@dataclass(frozen=True)
class Reply:
    """A documented successful answer."""

    status: int
    description: str
    schema: Shape | Envelope | None = None


@dataclass(frozen=True)
class RestRoute:
    """One REST route: its HTTP shape (method, path, parameters, answers) and how it runs (``run``)."""

    api: Api
    method: str
    path: str
    operation_id: str
    summary: str
    description: str
    graphql: str
    params: tuple[Param, ...]
    run: Callable[[Call], Awaitable[Answer]]
    replies: tuple[Reply, ...]
    errors: tuple[int, ...]
    documents: tuple[str, ...]

    @property
    def full_path(self) -> str:
        return self.api.prefix + self.path

    @property
    def argument_names(self) -> dict[str, str]:
        """GraphQL argument name → REST parameter name."""
        return {param.graphql: param.name for param in self.params if param.graphql}


def _upper(value: str | None) -> str | None:
    return None if value is None else value.upper()


async def _numbered_page(
    call: Call, skip_document: str, page_document: str, field: str, variables: dict[str, Any]
) -> dict[str, Any]:
    """The connection of page ``page`` (size ``page_size``) of a cursor-paginated list: the items before it are
    walked with cursors (only the cursors are asked for), then the page itself is asked for."""
    page, page_size = call.arguments["page"], call.arguments["page_size"]
    skip = (page - 1) * page_size
    if skip > MAX_PAGE_OFFSET:
        raise bad_input(
            f"Pages starting after item {MAX_PAGE_OFFSET} are not served; use the GraphQL API's cursors.", "page"
        )
    after = None
    step = page_size  # the first step asks for `page_size` items, so GraphQL checks it before the walk goes on
    while skip > 0:
        step = min(step, skip)
        connection = (await call.data(skip_document, {**variables, "first": step, "after": after}))[field]
        if not connection["pageInfo"]["hasNextPage"]:
            return {"totalCount": connection["totalCount"], "edges": [], "pageInfo": connection["pageInfo"]}
        after = connection["pageInfo"]["endCursor"]
        skip -= step
        step = WALK_STEP
    return (await call.data(page_document, {**variables, "first": page_size, "after": after}))[field]


# --- the grant API ------------------------------------------------------------------------------------------------

COMPANY_FILTER = Param("company_id", "query", "uuid", "Filter by company ID.", graphql="companyId")
COMPANY_PATH = Param("company_id", "path", "uuid", "Company ID.", required=True, graphql="companyId")
GRANT_PATH = Param("grant_id", "path", "uuid", "Grant ID.", required=True, graphql="grantId")
MATCH_PATH = Param("match_id", "path", "uuid", "Match ID.", required=True, graphql="id")
MIN_SCORE = Param(
    "min_score", "query", "number", "Minimum weighted score (0.0-1.0).", minimum=0, maximum=1, graphql="minScore"
)


async def list_matches(call: Call) -> Answer:
    args = call.arguments
    variables = {
        "companyId": args["company_id"],
        "status": _upper(args["status"]),
        "minScore": args["min_score"],
    }
    connection = await _numbered_page(
        call, documents.GRANT_MATCHES_SKIP, documents.GRANT_MATCHES, "grantMatches", variables
    )
    return Answer(200, page_of_matches(connection, args["page"], args["page_size"]))


async def calculate_matches(call: Call) -> Answer:
    company_id = call.arguments["company_id"]
    started = (await call.data(documents.CALCULATE, {"companyId": company_id}))["calculateGrantMatches"]
    settings = call.view.app_state.services.settings
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.rest_calculate_timeout_seconds
    delay = 0.05
    while True:
        computation = (await call.data(documents.COMPUTATION, {"id": started["id"]}))["computation"]
        if computation["status"] == "SUCCEEDED":
            body = {
                "task_id": computation["id"],
                "status": "succeeded",
                "company_id": computation["subjectId"],
                "matches_count": computation["resultCount"],
            }
            return Answer(200, body)
        if computation["status"] == "FAILED":
            raise RestError(
                "COMPUTATION_FAILED",
                f"The calculation failed: {computation['error']}",
                {"task_id": computation["id"]},
                status=500,
            )
        if computation["status"] == "CANCELLED":  # by an operator (`matchgraph computations cancel`)
            raise RestError(
                "COMPUTATION_CANCELLED",
                "The calculation was cancelled before it finished.",
                {"task_id": computation["id"]},
                status=409,
            )
        if loop.time() + delay > deadline:
            raise RestError(
                "TIMEOUT",
                "The calculation is still running; it goes on, and GraphQL's `computation(id)` follows it.",
                {"task_id": computation["id"], "status": computation["status"].lower()},
            )
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 0.5)


async def match_stats(call: Call) -> Answer:
    company_id = call.arguments["company_id"]
    stats = (await call.data(documents.STATS_QUERY, {"companyId": company_id}))["grantMatchStats"]
    return Answer(200, {"company_id": company_id, **STATS.convert(stats)})


async def get_match(call: Call) -> Answer:
    match = (await call.data(documents.GRANT_MATCH, {"id": call.arguments["match_id"]}))["grantMatch"]
    return Answer(200, MATCH.convert(match))


async def apply_action(call: Call) -> Answer:
    variables = {"matchId": call.arguments["match_id"], "action": _upper(call.arguments["action"])}
    match = (await call.data(documents.APPLY_ACTION, variables))["applyGrantMatchAction"]
    return Answer(200, MATCH.convert(match))


async def live_matches(call: Call) -> Answer:
    company_id = call.arguments["company_id"]
    variables = {"companyId": company_id, "minScore": call.arguments["min_score"]}
    connection = await _numbered_page(
        call, documents.LIVE_MATCHES_SKIP, documents.LIVE_MATCHES, "liveGrantMatches", variables
    )
    items = [MATCH_RESULT.convert(edge["node"]) for edge in connection["edges"]]
    return Answer(200, {"items": items, "total": connection["totalCount"], "company_id": company_id})


async def company_matches(call: Call) -> Answer:
    variables = {"companyId": call.arguments["company_id"], "status": None, "minScore": None}
    connection = await _numbered_page(
        call, documents.GRANT_MATCHES_SKIP, documents.GRANT_MATCHES, "grantMatches", variables
    )
    return Answer(200, page_of_matches(connection, call.arguments["page"], call.arguments["page_size"]))


async def refresh_matches(call: Call) -> Answer:
    args = call.arguments
    variables = {"companyId": args["company_id"], "saveResults": args["save_results"], "limit": args["limit"]}
    refreshed = (await call.data(documents.REFRESH, variables))["refreshGrantMatches"]
    items = [MATCH_RESULT.convert(match) for match in refreshed["matches"]]
    body = {
        "items": items,
        "total": len(items),
        "company_id": refreshed["companyId"],
        "saved": refreshed["saved"],
        "candidate_count": refreshed["candidateCount"],
    }
    return Answer(200, body)


def _pair(call: Call) -> dict[str, Any]:
    return {"companyId": call.arguments["company_id"], "grantId": call.arguments["grant_id"]}


async def mark_viewed(call: Call) -> Answer:
    await call.data(documents.MARK_VIEWED, _pair(call))
    return Answer(204)


async def set_saved(call: Call) -> Answer:
    match = await call.data(documents.SET_SAVED, {**_pair(call), "saved": call.arguments["saved"]})
    return Answer(200, MATCH.convert(match["setGrantMatchSaved"]))


async def set_dismissed(call: Call) -> Answer:
    variables = {**_pair(call), "dismissed": call.arguments["dismissed"]}
    match = (await call.data(documents.SET_DISMISSED, variables))["setGrantMatchDismissed"]
    return Answer(200, MATCH.convert(match))


_ORG = "Needs an organisation role; another tenant's objects answer 404."
_GRANT_ERRORS = (400, 401, 403, 404, 429)

GRANT_ROUTES = (
    RestRoute(
        GRANTS,
        "GET",
        "/matches",
        "listMatches",
        "List persisted matches",
        "List persisted matches with optional filtering, best first. Without `company_id`, the whole tenant's. "
        "`status`: `active` (not dismissed), `saved`, `dismissed`. Matches of grants whose deadline has passed "
        "are left out (as in GraphQL). " + _ORG,
        "grantMatches",
        (
            COMPANY_FILTER,
            Param(
                "status",
                "query",
                "string",
                "Filter: saved, dismissed, active.",
                enum=tuple(enum_values(GrantMatchStatus)),
                graphql="status",
            ),
            MIN_SCORE,
            page_param(),
            page_size_param(),
        ),
        list_matches,
        (Reply(200, "A page of matches.", MATCH_PAGE),),
        _GRANT_ERRORS,
        (documents.GRANT_MATCHES, documents.GRANT_MATCHES_SKIP),
    ),
    RestRoute(
        GRANTS,
        "POST",
        "/matches/calculate",
        "calculateMatches",
        "Trigger match calculation for a company",
        "Calculates the company's matches and persists them (its best 100), then answers: GraphQL's "
        "`calculateGrantMatches` starts the computation, and this route waits until it has finished (at most "
        "`MATCHGRAPH_REST_CALCULATE_TIMEOUT` seconds, 504 `TIMEOUT` after that, with the computation still going "
        "on). `task_id` is the computation's id. The document is silent on the body of the answer: it is "
        "`task_id`, `status` (`succeeded`), `company_id` and `matches_count`. A failed computation answers 500 "
        "`COMPUTATION_FAILED`, one an operator cancelled 409 `COMPUTATION_CANCELLED`. " + _ORG,
        "calculateGrantMatches + computation",
        (Param("company_id", "body", "uuid", "Company to calculate matches for.", required=True, graphql="companyId"),),
        calculate_matches,
        (Reply(200, "Calculation complete.", CALCULATION_RESULT),),
        (*_GRANT_ERRORS, 409, 500, 504),
        (documents.CALCULATE, documents.COMPUTATION),
    ),
    RestRoute(
        GRANTS,
        "GET",
        "/matches/stats",
        "matchStats",
        "Get match statistics",
        "Counts and score distribution of the stored matches of open grants, for one company or the whole "
        "tenant. The document is silent on the shape: it is GraphQL's `GrantMatchStats` in snake_case, with "
        "`company_id`. " + _ORG,
        "grantMatchStats",
        (COMPANY_FILTER,),
        match_stats,
        (Reply(200, "Statistics.", STATS_RESULT),),
        _GRANT_ERRORS,
        (documents.STATS_QUERY,),
    ),
    RestRoute(
        GRANTS,
        "GET",
        "/matches/match/{match_id}",
        "getMatch",
        "Get a single match",
        "A match by its ID with full details including the associated grant. " + _ORG,
        "grantMatch",
        (MATCH_PATH,),
        get_match,
        (Reply(200, "Match returned.", MATCH),),
        _GRANT_ERRORS,
        (documents.GRANT_MATCH,),
    ),
    RestRoute(
        GRANTS,
        "PATCH",
        "/matches/match/{match_id}/action",
        "applyMatchAction",
        "Update the status of a match",
        "`save` sets is_saved and clears is_dismissed, `dismiss` the reverse, `restore` clears both. " + _ORG,
        "applyGrantMatchAction",
        (
            Param("match_id", "path", "uuid", "Match ID.", required=True, graphql="matchId"),
            Param(
                "action",
                "body",
                "string",
                "Action: save, dismiss, or restore.",
                required=True,
                enum=tuple(enum_values(GrantMatchAction)),
                graphql="action",
            ),
        ),
        apply_action,
        (Reply(200, "Action applied, updated match returned.", MATCH),),
        _GRANT_ERRORS,
        (documents.APPLY_ACTION,),
    ),
    RestRoute(
        GRANTS,
        "GET",
        "/matches/{company_id}",
        "realtimeMatches",
        "Calculate and return real-time matches",
        "Matches computed now with the hybrid algorithm; nothing is persisted. Counts as an expensive operation "
        "against the caller's rate limit (429 `RATE_LIMITED` with `Retry-After`), once per 100 items before the "
        "page. " + _ORG,
        "liveGrantMatches",
        (
            COMPANY_PATH,
            page_param(),
            page_size_param(),
            Param(
                "min_score",
                "query",
                "number",
                "Minimum score threshold (0-1).",
                default=0.0,
                minimum=0,
                maximum=1,
                graphql="minScore",
            ),
        ),
        live_matches,
        (Reply(200, "Real-time matches.", MATCH_RESULT_PAGE),),
        _GRANT_ERRORS,
        (documents.LIVE_MATCHES, documents.LIVE_MATCHES_SKIP),
    ),
    RestRoute(
        GRANTS,
        "GET",
        "/matches/{company_id}/saved",
        "companyMatches",
        "Get persisted matches for a company",
        "Every persisted match of the company (saved or not: the document describes this route as the persisted "
        "matches with their interaction state), best first. " + _ORG,
        "grantMatches(companyId)",
        (COMPANY_PATH, page_param(), page_size_param()),
        company_matches,
        (Reply(200, "A page of matches.", MATCH_PAGE),),
        _GRANT_ERRORS,
        (documents.GRANT_MATCHES, documents.GRANT_MATCHES_SKIP),
    ),
    RestRoute(
        GRANTS,
        "POST",
        "/matches/{company_id}/refresh",
        "refreshMatches",
        "Recalculate matches for a company",
        "Recomputes now and answers the best `limit` matches; persists them unless `save_results=false` "
        "(saved, dismissed and viewed flags survive). The document is silent on the answer: it is the matches "
        "in the real-time shape with `total`, `company_id`, `saved` and `candidate_count`. Rate-limited like "
        "real-time matches. " + _ORG,
        "refreshGrantMatches",
        (
            COMPANY_PATH,
            Param(
                "save_results", "query", "boolean", "Persist results to database.", default=True, graphql="saveResults"
            ),
            Param(
                "limit",
                "query",
                "integer",
                "Maximum matches to calculate (1-100).",
                default=20,
                minimum=1,
                maximum=100,
                graphql="limit",
            ),
        ),
        refresh_matches,
        (Reply(200, "The recalculated matches.", REFRESH_RESULT),),
        _GRANT_ERRORS,
        (documents.REFRESH,),
    ),
    RestRoute(
        GRANTS,
        "PATCH",
        "/matches/{company_id}/{grant_id}/view",
        "markMatchViewed",
        "Mark a match as viewed",
        "404 when no match of the company and the grant is persisted. " + _ORG,
        "markGrantMatchViewed",
        (COMPANY_PATH, GRANT_PATH),
        mark_viewed,
        (Reply(204, "Match marked as viewed."),),
        _GRANT_ERRORS,
        (documents.MARK_VIEWED,),
    ),
    RestRoute(
        GRANTS,
        "PATCH",
        "/matches/{company_id}/{grant_id}/save",
        "setMatchSaved",
        "Toggle a match's saved state",
        "Saving also clears dismissed (as GraphQL does). The document is silent on the answer: it is the "
        "updated match. " + _ORG,
        "setGrantMatchSaved",
        (
            COMPANY_PATH,
            GRANT_PATH,
            Param("saved", "query", "boolean", "Saved state value.", default=True, graphql="saved"),
        ),
        set_saved,
        (Reply(200, "The updated match.", MATCH),),
        _GRANT_ERRORS,
        (documents.SET_SAVED,),
    ),
    RestRoute(
        GRANTS,
        "PATCH",
        "/matches/{company_id}/{grant_id}/dismiss",
        "setMatchDismissed",
        "Toggle a match's dismissed state",
        "Dismissing also clears saved (as GraphQL does). The document is silent on the answer: it is the "
        "updated match. " + _ORG,
        "setGrantMatchDismissed",
        (
            COMPANY_PATH,
            GRANT_PATH,
            Param("dismissed", "query", "boolean", "Dismissed state value.", default=True, graphql="dismissed"),
        ),
        set_dismissed,
        (Reply(200, "The updated match.", MATCH),),
        _GRANT_ERRORS,
        (documents.SET_DISMISSED,),
    ),
)

# --- the talent API -----------------------------------------------------------------------------------------------

JOB_MATCH_PATH = Param("match_id", "path", "uuid", "Match UUID.", required=True, graphql="matchId")
JOB_MATCH_STATUS_FILTER = Param(
    "status", "query", "string", "Filter by match status.", enum=tuple(enum_values(JobMatchStatus)), graphql="status"
)
LIMIT = Param("limit", "query", "integer", "Page size (max 100).", default=20, minimum=1, maximum=100, graphql="first")
CURSOR = Param("cursor", "query", "string", "Pagination cursor (`next_cursor` of the page before).", graphql="after")
_VISIBLE = (
    "Visible to the match's member, its organisation (ORG_USER, ORG_ADMIN) and platform admins; 404 for anyone else."
)


async def get_job_match(call: Call) -> Answer:
    match = (await call.data(documents.JOB_MATCH_QUERY, {"id": call.arguments["match_id"]}))["jobMatch"]
    return Answer(200, JOB_MATCH.convert(match))


async def get_explanation(call: Call) -> Answer:
    match = (await call.data(documents.EXPLANATION_QUERY, {"id": call.arguments["match_id"]}))["jobMatch"]
    explanation = match["explanation"]
    if explanation["__typename"] == "MatchExplanation":
        return Answer(200, {"match_id": match["id"], **EXPLANATION.convert(explanation)})
    computation = explanation["computation"]
    return Answer(202, {"match_id": match["id"], "task_id": computation["id"], "status": computation["status"].lower()})


async def submit_feedback(call: Call) -> Answer:
    args = call.arguments
    feedback_input = {"stage": _upper(args["stage"]), "rating": args["rating"], "comments": args["comments"] or ""}
    variables = {"matchId": args["match_id"], "input": feedback_input}
    feedback = (await call.data(documents.SUBMIT_FEEDBACK, variables))["submitPlacementFeedback"]
    return Answer(201, {"match_id": args["match_id"], **FEEDBACK.convert(feedback)})


async def list_feedback(call: Call) -> Answer:
    match_id = call.arguments["match_id"]
    records = (await call.data(documents.MATCH_FEEDBACK, {"matchId": match_id}))["matchFeedback"]
    items = [FEEDBACK.convert(record) for record in records]
    return Answer(200, {"match_id": match_id, "items": items, "total": len(items)})


async def record_outcome(call: Call) -> Answer:
    args = call.arguments
    outcome_input = {
        "outcome": _upper(args["outcome"]),
        "startDate": args["start_date"],
        "endDate": args["end_date"],
        "notes": args["notes"] or "",
    }
    match = (await call.data(documents.RECORD_OUTCOME, {"matchId": args["match_id"], "input": outcome_input}))[
        "recordPlacementOutcome"
    ]
    body = {"match_id": match["id"], "match_status": match["status"].lower(), **OUTCOME.convert(match["outcome"])}
    return Answer(200, body)


async def update_status(call: Call) -> Answer:
    variables = {"matchId": call.arguments["match_id"], "status": _upper(call.arguments["status"])}
    match = (await call.data(documents.UPDATE_STATUS, variables))["updateJobMatchStatus"]
    return Answer(200, JOB_MATCH.convert(match))


async def compute_matches(call: Call) -> Answer:
    job_id, member_id = call.arguments["job_id"], call.arguments["member_id"]
    started = (await call.data(documents.COMPUTE, {"jobId": job_id, "memberId": member_id}))["computeJobMatches"]
    body = {
        "task_id": started["id"],
        "status": started["status"].lower(),
        "kind": started["kind"].lower(),
        "job_id": job_id,
        "member_id": member_id,
    }
    return Answer(202, body)


async def job_matches(call: Call) -> Answer:
    args = call.arguments
    variables = {
        "jobId": args["job_id"],
        "quality": _upper(args["quality"]),
        "status": _upper(args["status"]),
        "first": args["limit"],
        "after": args["cursor"],
    }
    return Answer(200, page_of_job_matches((await call.data(documents.JOB_MATCHES, variables))["jobMatches"]))


async def member_matches(call: Call) -> Answer:
    args = call.arguments
    variables = {
        "memberId": args["member_id"],
        "status": _upper(args["status"]),
        "first": args["limit"],
        "after": args["cursor"],
    }
    return Answer(200, page_of_job_matches((await call.data(documents.MEMBER_MATCHES, variables))["memberMatches"]))


TALENT_ROUTES = (
    RestRoute(
        TALENT,
        "POST",
        "/matches/compute",
        "computeMatches",
        "Trigger match computation",
        "Queues match computation for a job (against every member), a member (against every open job it may be "
        "scored against) or, with both, one pair; answers 202 with the computation's id as `task_id` (follow it "
        "with GraphQL's `computation(id)`). Who may score what is GraphQL's `computeJobMatches` (docs/matching.md); "
        "a job or member the caller may not see answers 404. Rate-limited (429 `RATE_LIMITED`).",
        "computeJobMatches",
        (
            Param("job_id", "query", "uuid", "Job UUID (required unless member_id provided).", graphql="jobId"),
            Param("member_id", "query", "uuid", "Member UUID (optional).", graphql="memberId"),
        ),
        compute_matches,
        (Reply(202, "Computation queued.", COMPUTATION_QUEUED),),
        (400, 401, 404, 429),
        (documents.COMPUTE,),
    ),
    RestRoute(
        TALENT,
        "GET",
        "/matches/job/{job_id}",
        "jobMatches",
        "Get job matches",
        "A job's matches by belonging probability, cursor-paginated, with quality and status filters. The job's "
        "organisation (ORG_USER, ORG_ADMIN) and platform admins; 404 for anyone else. The document is silent on "
        "the envelope: `items`, `total`, `next_cursor` (null on the last page), `has_more`; `limit` defaults to "
        "20 as in GraphQL.",
        "jobMatches",
        (
            Param("job_id", "path", "uuid", "Job UUID.", required=True, graphql="jobId"),
            Param(
                "quality",
                "query",
                "string",
                "Filter by match quality tier.",
                enum=tuple(enum_values(QualityTier)),
                graphql="quality",
            ),
            JOB_MATCH_STATUS_FILTER,
            LIMIT,
            CURSOR,
        ),
        job_matches,
        (Reply(200, "A page of matches.", JOB_MATCH_PAGE),),
        (400, 401, 404),
        (documents.JOB_MATCHES,),
    ),
    RestRoute(
        TALENT,
        "GET",
        "/matches/member/{member_id}",
        "memberMatches",
        "Get member matches",
        "A member's matches by belonging probability, cursor-paginated: the member sees their own, an "
        "organisation only its own matches with the member, platform admins all; 404 for a member the caller "
        "may not list. Envelope as for job matches.",
        "memberMatches",
        (
            Param("member_id", "path", "uuid", "Member UUID.", required=True, graphql="memberId"),
            JOB_MATCH_STATUS_FILTER,
            LIMIT,
            CURSOR,
        ),
        member_matches,
        (Reply(200, "A page of matches.", JOB_MATCH_PAGE),),
        (400, 401, 404),
        (documents.MEMBER_MATCHES,),
    ),
    RestRoute(
        TALENT,
        "GET",
        "/matches/{match_id}",
        "getJobMatch",
        "Get match details",
        "Match quality tier and belonging components (levels; the numbers are GraphQL's, for platform admins). "
        "`computed_at` is when the match's scores or status last changed (GraphQL `updatedAt`). " + _VISIBLE,
        "jobMatch",
        (Param("match_id", "path", "uuid", "Match UUID.", required=True, graphql="id"),),
        get_job_match,
        (Reply(200, "The match.", JOB_MATCH),),
        (400, 401, 404),
        (documents.JOB_MATCH_QUERY,),
    ),
    RestRoute(
        TALENT,
        "GET",
        "/matches/{match_id}/explanation",
        "getMatchExplanation",
        "Get match explanation",
        "Top strengths, growth areas and belonging breakdown. Explanations are written with the scores; a match "
        "stored without one answers 202 with the computation generating it (ask again once it has succeeded). "
        + _VISIBLE,
        "jobMatch.explanation",
        (Param("match_id", "path", "uuid", "Match UUID.", required=True, graphql="id"),),
        get_explanation,
        (
            Reply(200, "The explanation.", EXPLANATION_RESULT),
            Reply(202, "Being generated.", EXPLANATION_PENDING),
        ),
        (400, 401, 404),
        (documents.EXPLANATION_QUERY,),
    ),
    RestRoute(
        TALENT,
        "POST",
        "/matches/{match_id}/feedback",
        "submitFeedback",
        "Submit placement feedback",
        "Feedback at 30/90/180 days after the placement start (`stage`: day_30, day_90, day_180), by the member "
        "or the organisation, once per respondent per stage (409 `CONFLICT` for a repeat, and for a match not "
        "placed; 400 before the stage's day). The document is silent on the status and the answer: 201 with the "
        "stored feedback. Anyone else who may see the match: 403.",
        "submitPlacementFeedback",
        (
            JOB_MATCH_PATH,
            Param(
                "stage",
                "body",
                "string",
                "day_30, day_90 or day_180.",
                required=True,
                enum=tuple(enum_values(FeedbackStage)),
                graphql="stage",
            ),
            Param(
                "rating",
                "body",
                "integer",
                "1 (poor) to 5 (excellent).",
                required=True,
                minimum=1,
                maximum=5,
                graphql="rating",
            ),
            Param("comments", "body", "string", "Free text.", graphql="comments"),
        ),
        submit_feedback,
        (Reply(201, "Feedback stored.", FEEDBACK_RESULT),),
        (400, 401, 403, 404, 409),
        (documents.SUBMIT_FEEDBACK,),
    ),
    RestRoute(
        TALENT,
        "GET",
        "/matches/{match_id}/feedback",
        "listFeedback",
        "Get placement feedback",
        "Every feedback record of the match, oldest first. The document is silent on the shape: `match_id`, "
        "`items`, `total`. " + _VISIBLE,
        "matchFeedback",
        (JOB_MATCH_PATH,),
        list_feedback,
        (Reply(200, "The feedback records.", FEEDBACK_LIST),),
        (400, 401, 404),
        (documents.MATCH_FEEDBACK,),
    ),
    RestRoute(
        TALENT,
        "POST",
        "/matches/{match_id}/outcome",
        "recordOutcome",
        "Record placement outcome",
        "Records (or corrects) the match's outcome and refits the organisation's belonging weights. ORG_ADMIN of "
        "the match's organisation or PLATFORM_ADMIN (403 for other roles that see the match). The document is "
        "silent on the body and the answer: the body is GraphQL's `OutcomeInput` in snake_case (`outcome`: "
        "hired, not_hired, withdrew, left_early, retained); the answer is the recorded outcome with "
        "`match_status`.",
        "recordPlacementOutcome",
        (
            JOB_MATCH_PATH,
            Param(
                "outcome",
                "body",
                "string",
                "What happened.",
                required=True,
                enum=tuple(enum_values(PlacementOutcomeKind)),
                graphql="outcome",
            ),
            Param("start_date", "body", "date", "When the placement started.", graphql="startDate"),
            Param("end_date", "body", "date", "When it ended.", graphql="endDate"),
            Param("notes", "body", "string", "Notes.", graphql="notes"),
        ),
        record_outcome,
        (Reply(200, "Outcome recorded.", OUTCOME_RESULT),),
        (400, 401, 403, 404),
        (documents.RECORD_OUTCOME,),
    ),
    RestRoute(
        TALENT,
        "PUT",
        "/matches/{match_id}/status",
        "updateMatchStatus",
        "Update match status",
        "Moves the match along pending_review → org_interested → interviewing → offered → placed (or "
        "org_declined, withdrawn; docs/matching.md); a move the table does not allow is 409 `CONFLICT` "
        "(`details.current_status`). ORG_ADMIN of the match's organisation or PLATFORM_ADMIN (403 for other "
        "roles that see the match). The document is silent on the answer: the updated match.",
        "updateJobMatchStatus",
        (
            JOB_MATCH_PATH,
            Param(
                "status",
                "body",
                "string",
                "The new status.",
                required=True,
                enum=tuple(enum_values(JobMatchStatus)),
                graphql="status",
            ),
        ),
        update_status,
        (Reply(200, "The updated match.", JOB_MATCH),),
        (400, 401, 403, 404, 409),
        (documents.UPDATE_STATUS,),
    ),
)

ROUTES: tuple[RestRoute, ...] = GRANT_ROUTES + TALENT_ROUTES
