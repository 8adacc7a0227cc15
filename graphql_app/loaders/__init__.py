"""Per-request DataLoaders, one per file. Each batch runs exactly one SELECT on its own connection.

The app (the composition root) hands :class:`Loaders` to every request's context."""

from __future__ import annotations

import functools

from graphql_app import access
from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import companies, grants, jobs, members, organisations
from graphql_app.loaders.explanation_computation_by_match import ExplanationComputationByMatchLoader
from graphql_app.loaders.feedback_by_match import FeedbackByMatchLoader
from graphql_app.loaders.grant_matches_by_company import GrantMatchesByCompanyLoader
from graphql_app.loaders.job_matches_by_parent import JobMatchesByParentLoader
from graphql_app.loaders.outcome_by_match import OutcomeByMatchLoader
from graphql_app.loaders.rows_by_id import RowsByIdLoader
from graphql_app.services.catalogue import COMPANY_COLUMNS, GRANT_COLUMNS
from graphql_app.services.talent import MEMBER_COLUMNS, ORGANISATION_COLUMNS


class Loaders:
    """The loaders of one request, each created on first use (most requests need one or two of the ten)."""

    def __init__(self, db: Database, principal: Principal) -> None:
        self.db = db
        self.principal = principal

    @functools.cached_property
    def grant_by_id(self) -> RowsByIdLoader:
        return RowsByIdLoader(self.db, grants, GRANT_COLUMNS)

    @functools.cached_property
    def company_by_id(self) -> RowsByIdLoader:
        principal = self.principal
        return RowsByIdLoader(
            self.db, companies, COMPANY_COLUMNS, scope=lambda q: q.where(access.tenant_rows(companies, principal))
        )

    @functools.cached_property
    def grant_matches_by_company(self) -> GrantMatchesByCompanyLoader:
        return GrantMatchesByCompanyLoader(self.db, self.principal)

    @functools.cached_property
    def organisation_by_id(self) -> RowsByIdLoader:
        return RowsByIdLoader(self.db, organisations, ORGANISATION_COLUMNS)

    @functools.cached_property
    def job_by_id(self) -> RowsByIdLoader:
        return RowsByIdLoader(self.db, jobs, list(jobs.c))

    @functools.cached_property
    def member_by_id(self) -> RowsByIdLoader:
        return RowsByIdLoader(self.db, members, MEMBER_COLUMNS)

    @functools.cached_property
    def outcome_by_match(self) -> OutcomeByMatchLoader:
        return OutcomeByMatchLoader(self.db)

    @functools.cached_property
    def feedback_by_match(self) -> FeedbackByMatchLoader:
        return FeedbackByMatchLoader(self.db)

    @functools.cached_property
    def job_matches_by_job(self) -> JobMatchesByParentLoader:
        return JobMatchesByParentLoader(self.db, self.principal, "job_id")

    @functools.cached_property
    def job_matches_by_member(self) -> JobMatchesByParentLoader:
        return JobMatchesByParentLoader(self.db, self.principal, "member_id")

    @functools.cached_property
    def explanation_computation_by_match(self) -> ExplanationComputationByMatchLoader:
        return ExplanationComputationByMatchLoader(self.db, self.principal)
