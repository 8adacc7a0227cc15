"""The root types (Query, Mutation, Subscription) and the Schema with its extensions (docs/api.md)."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.extensions import DisableIntrospection
from strawberry.schema.config import StrawberryConfig

from graphql_app.limits import ExpensiveOperationLimiter, RequestLimits
from resolvers import companies as company_resolvers
from resolvers import computations as computation_resolvers
from resolvers import grant_alerts as alert_resolvers
from resolvers import grant_matches as match_resolvers
from resolvers import grants as grant_resolvers
from resolvers import job_matches as talent_resolvers
from resolvers import viewer as viewer_resolvers
from resolvers import webhooks as webhook_resolvers
from schema.connections import Connection
from schema.execution import MatchgraphExecutionContext
from schema.extensions import DocumentCaches, ErrorCodes, MaskUnexpectedErrors, RequestGuard
from schema.permissions import HasOrganisationRole, IsAuthenticated, IsOrganisationAdmin, IsPlatformAdmin
from schema.types.company import Company
from schema.types.computation import Computation
from schema.types.grant import Grant, GrantSearchResult
from schema.types.grant_alert import GrantAlert, GrantAlertsRead, GrantAlertUpdate
from schema.types.grant_match import GrantMatch
from schema.types.grant_match_stats import GrantMatchStats
from schema.types.job import Job
from schema.types.job_match import JobMatch
from schema.types.live_grant_match import LiveGrantMatch
from schema.types.member import Member
from schema.types.organisation import Organisation
from schema.types.placement import PlacementFeedback
from schema.types.viewer import Viewer
from schema.types.webhook import Webhook
from schema.types.webhook_creation import WebhookCreation
from schema.types.webhook_delivery import WebhookDelivery

AUTHENTICATED = [IsAuthenticated]
ORGANISATION = [IsAuthenticated, HasOrganisationRole]
PLATFORM_ADMIN = [IsAuthenticated, IsPlatformAdmin]
ORGANISATION_ADMIN = [IsAuthenticated, IsOrganisationAdmin]


@strawberry.type(description="Read the catalogue, your companies and their matches.")
class Query:
    me: Viewer = strawberry.field(
        resolver=viewer_resolvers.me,
        permission_classes=AUTHENTICATED,
        description="Who the bearer token says you are.",
    )
    company: Company = strawberry.field(
        resolver=company_resolvers.company,
        permission_classes=ORGANISATION,
        description="One of your companies.",
    )
    companies: Connection[Company] = strawberry.field(
        resolver=company_resolvers.companies_page,
        permission_classes=ORGANISATION,
        description="Your companies, by name.",
    )
    grant: Grant = strawberry.field(
        resolver=grant_resolvers.grant,
        permission_classes=AUTHENTICATED,
        description="One grant of the catalogue.",
    )
    grants: Connection[Grant] = strawberry.field(
        resolver=grant_resolvers.grants_page,
        permission_classes=AUTHENTICATED,
        description="The grant catalogue, soonest deadline first (rolling calls last).",
    )
    search_grants: list[GrantSearchResult] = strawberry.field(
        resolver=grant_resolvers.search_grants,
        permission_classes=AUTHENTICATED,
        description="Open grants closest in meaning to a text (semantic search).",
    )
    grant_matches: Connection[GrantMatch] = strawberry.field(
        resolver=match_resolvers.grant_matches_page,
        permission_classes=ORGANISATION,
        description="Stored grant matches of one company or the whole tenant, best first.",
    )
    grant_match: GrantMatch = strawberry.field(
        resolver=match_resolvers.grant_match,
        permission_classes=ORGANISATION,
        description="One stored grant match.",
    )
    grant_match_stats: GrantMatchStats = strawberry.field(
        resolver=match_resolvers.grant_match_stats,
        permission_classes=ORGANISATION,
        description="Counts and score distribution of stored matches (one company or the whole tenant).",
    )
    live_grant_matches: Connection[LiveGrantMatch] = strawberry.field(
        resolver=match_resolvers.live_grant_matches,
        permission_classes=ORGANISATION,
        description="A company's matches computed now from the current catalogue; nothing is stored.",
    )
    grant_alerts: Connection[GrantAlert] = strawberry.field(
        resolver=alert_resolvers.grant_alerts_page,
        permission_classes=ORGANISATION,
        description="A company's grant alerts, most recently raised first.",
    )
    organisation: Organisation = strawberry.field(
        resolver=talent_resolvers.my_organisation,
        permission_classes=ORGANISATION,
        description="Your organisation (of your organisation account).",
    )
    job: Job = strawberry.field(
        resolver=talent_resolvers.job, permission_classes=AUTHENTICATED, description="An open job, or one of yours."
    )
    jobs: Connection[Job] = strawberry.field(
        resolver=talent_resolvers.jobs_page,
        permission_classes=AUTHENTICATED,
        description="Open jobs (your organisation's first), newest first.",
    )
    member: Member = strawberry.field(
        resolver=talent_resolvers.member,
        permission_classes=AUTHENTICATED,
        description="A member: yourself, or (organisations) one you have a match with.",
    )
    job_match: JobMatch = strawberry.field(
        resolver=talent_resolvers.job_match, permission_classes=AUTHENTICATED, description="One job match."
    )
    member_matches: Connection[JobMatch] = strawberry.field(
        resolver=talent_resolvers.member_matches,
        permission_classes=AUTHENTICATED,
        description="A member's matches you may see, by belonging probability.",
    )
    job_matches: Connection[JobMatch] = strawberry.field(
        resolver=talent_resolvers.job_matches_page,
        permission_classes=AUTHENTICATED,
        description="A job's matches (its organisation and platform admins), by belonging probability.",
    )
    match_feedback: list[PlacementFeedback] = strawberry.field(
        resolver=talent_resolvers.match_feedback,
        permission_classes=AUTHENTICATED,
        description="Feedback on a placement (its member, its organisation, platform admins).",
    )
    computation: Computation = strawberry.field(
        resolver=computation_resolvers.computation,
        permission_classes=AUTHENTICATED,
        description="A computation you (or your organisation) started.",
    )
    webhooks: list[Webhook] = strawberry.field(
        resolver=webhook_resolvers.webhooks,
        permission_classes=ORGANISATION_ADMIN,
        description="Your organisation's webhooks, oldest first (organisation admins).",
    )
    webhook_deliveries: Connection[WebhookDelivery] = strawberry.field(
        resolver=webhook_resolvers.webhook_deliveries,
        permission_classes=ORGANISATION_ADMIN,
        description="One of your webhooks' delivery log, newest first (organisation admins).",
    )


@strawberry.type(description="Change companies, grants and matches; start computations.")
class Mutation:
    create_company: Company = strawberry.field(
        resolver=company_resolvers.create_company,
        permission_classes=ORGANISATION,
        description="Add a company.",
    )
    update_company: Company = strawberry.field(
        resolver=company_resolvers.update_company,
        permission_classes=ORGANISATION,
        description="Change a company; matches its new country or size disqualifies are removed.",
    )
    create_grant: Grant = strawberry.field(
        resolver=grant_resolvers.create_grant,
        permission_classes=PLATFORM_ADMIN,
        description="Add a grant (platform admins).",
    )
    create_grants: list[Grant] = strawberry.field(
        resolver=grant_resolvers.create_grants,
        permission_classes=PLATFORM_ADMIN,
        description="Import grants in one batch, all or nothing (platform admins).",
    )
    update_grant: Grant = strawberry.field(
        resolver=grant_resolvers.update_grant,
        permission_classes=PLATFORM_ADMIN,
        description="Change a grant (platform admins).",
    )
    calculate_grant_matches: Computation = strawberry.field(
        resolver=match_resolvers.calculate_grant_matches,
        permission_classes=ORGANISATION,
        description="Compute and store a company's grant matches; follow the returned computation.",
    )
    refresh_grant_matches: match_resolvers.GrantMatchRefresh = strawberry.field(
        resolver=match_resolvers.refresh_grant_matches,
        permission_classes=ORGANISATION,
        description="Recompute a company's matches now, and store them unless `saveResults` is false.",
    )
    apply_grant_match_action: GrantMatch = strawberry.field(
        resolver=match_resolvers.apply_grant_match_action,
        permission_classes=ORGANISATION,
        description="SAVE, DISMISS or RESTORE a stored match.",
    )
    mark_grant_match_viewed: GrantMatch = strawberry.field(
        resolver=match_resolvers.mark_grant_match_viewed,
        permission_classes=ORGANISATION,
        description="Record that the company looked at a match.",
    )
    set_grant_match_saved: GrantMatch = strawberry.field(
        resolver=match_resolvers.set_grant_match_saved,
        permission_classes=ORGANISATION,
        description="Save or un-save a match.",
    )
    set_grant_match_dismissed: GrantMatch = strawberry.field(
        resolver=match_resolvers.set_grant_match_dismissed,
        permission_classes=ORGANISATION,
        description="Dismiss or un-dismiss a match.",
    )
    update_company_alert_settings: Company = strawberry.field(
        resolver=alert_resolvers.update_company_alert_settings,
        permission_classes=ORGANISATION,
        description="Change when a company is alerted about grants (threshold, filters; null threshold: off).",
    )
    mark_grant_alerts_read: GrantAlertsRead = strawberry.field(
        resolver=alert_resolvers.mark_grant_alerts_read,
        permission_classes=ORGANISATION,
        description="Mark some or all of a company's grant alerts read.",
    )
    create_organisation: Organisation = strawberry.field(
        resolver=talent_resolvers.create_organisation,
        permission_classes=ORGANISATION_ADMIN,
        description="Create your organisation (one per organisation account).",
    )
    update_organisation: Organisation = strawberry.field(
        resolver=talent_resolvers.update_organisation,
        permission_classes=ORGANISATION_ADMIN,
        description="Change your organisation.",
    )
    create_job: Job = strawberry.field(
        resolver=talent_resolvers.create_job, permission_classes=ORGANISATION_ADMIN, description="Add a job."
    )
    update_job: Job = strawberry.field(
        resolver=talent_resolvers.update_job, permission_classes=ORGANISATION_ADMIN, description="Change a job."
    )
    create_member: Member = strawberry.field(
        resolver=talent_resolvers.create_member,
        permission_classes=AUTHENTICATED,
        description="Create your member profile (its id is your token's member_id), or any (platform admins).",
    )
    update_member: Member = strawberry.field(
        resolver=talent_resolvers.update_member,
        permission_classes=AUTHENTICATED,
        description="Change your member profile (platform admins: any).",
    )
    compute_job_matches: Computation = strawberry.field(
        resolver=talent_resolvers.compute_job_matches,
        permission_classes=AUTHENTICATED,
        description="Queue job-match scoring: a job against every member, a member against every open job, or a pair.",
    )
    update_job_match_status: JobMatch = strawberry.field(
        resolver=talent_resolvers.update_job_match_status,
        permission_classes=AUTHENTICATED,
        description="Move a match along PENDING_REVIEW → ORG_INTERESTED → INTERVIEWING → OFFERED → PLACED (ORG_ADMIN).",
    )
    set_match_interest: JobMatch = strawberry.field(
        resolver=talent_resolvers.set_match_interest,
        permission_classes=AUTHENTICATED,
        description="Say whether you (the member) are interested.",
    )
    record_placement_outcome: JobMatch = strawberry.field(
        resolver=talent_resolvers.record_placement_outcome,
        permission_classes=AUTHENTICATED,
        description="Record a match's outcome (ORG_ADMIN); updates the organisation's learned weights.",
    )
    submit_placement_feedback: PlacementFeedback = strawberry.field(
        resolver=talent_resolvers.submit_placement_feedback,
        permission_classes=AUTHENTICATED,
        description="Give feedback 30, 90 or 180 days after the placement start (member or organisation, once each).",
    )
    create_webhook: WebhookCreation = strawberry.field(
        resolver=webhook_resolvers.create_webhook,
        permission_classes=ORGANISATION_ADMIN,
        description="Register an endpoint for events; the answer holds its signing secret, shown only this once.",
    )
    delete_webhook: strawberry.ID = strawberry.field(
        resolver=webhook_resolvers.delete_webhook,
        permission_classes=ORGANISATION_ADMIN,
        description="Delete one of your webhooks and its delivery log; returns its id.",
    )


class MatchgraphSchema(strawberry.Schema):
    """Logs only unexpected errors (client errors are answers, not incidents; masking logs the rest)."""

    #: The limits every request is held to (the compiled plans apply the same).
    request_limits: RequestLimits
    #: The bounded caches of parsed and validated documents.
    document_caches: DocumentCaches

    def process_errors(self, errors, execution_context=None) -> None:
        return None


@strawberry.type(description="Follow computations as they progress and finish (WebSocket or SSE).")
class Subscription:
    computation: AsyncGenerator[Computation, None] = strawberry.subscription(
        resolver=computation_resolvers.computation_updates,
        permission_classes=AUTHENTICATED,
        description="A computation's current state, then every change; completes after SUCCEEDED, FAILED or CANCELLED.",
    )
    computation_completed: AsyncGenerator[Computation, None] = strawberry.subscription(
        resolver=computation_resolvers.computations_completed,
        permission_classes=AUTHENTICATED,
        description="Every computation of your organisation (all, for platform admins) as it finishes.",
    )
    grant_alerts: AsyncGenerator[GrantAlertUpdate, None] = strawberry.subscription(
        resolver=alert_resolvers.grant_alert_updates,
        permission_classes=ORGANISATION,
        description="A company's unread alert count, then every alert raised and every change of the count.",
    )


def build_schema(
    *,
    introspection: bool = True,
    batch_max_operations: int = 0,
    limits: RequestLimits | None = None,
    rate_limit: str | None = None,
) -> strawberry.Schema:
    """The schema with its extensions. Extensions are passed as factories: one instance per operation.

    ``batch_max_operations`` > 0 accepts HTTP batches (a JSON array of operations) of at most that many;
    ``limits`` and ``rate_limit`` (e.g. ``"30/minute"``, expensive operations per caller) guard every request.
    With introspection off, validation errors do not suggest field names either.
    """
    limits = limits or RequestLimits()
    caches = DocumentCaches()
    rate_limiter = ExpensiveOperationLimiter(rate_limit) if rate_limit else None
    extensions: list = [
        lambda: RequestGuard(limits, caches, rate_limiter),
        MaskUnexpectedErrors,
        ErrorCodes,
    ]
    if not introspection:
        extensions.append(DisableIntrospection)
    built = MatchgraphSchema(
        query=Query,
        types=[GrantMatch, JobMatch],
        mutation=Mutation,
        subscription=Subscription,
        extensions=extensions,
        execution_context_class=MatchgraphExecutionContext,
        config=StrawberryConfig(
            auto_camel_case=True,
            disable_field_suggestions=not introspection,
            batching_config={"max_operations": batch_max_operations} if batch_max_operations > 0 else None,
        ),
    )
    built.request_limits = limits
    built.document_caches = caches
    return built


schema = build_schema()
