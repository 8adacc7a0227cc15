"""Per-request DataLoaders, one per file. Each batch runs exactly one SELECT on its own connection."""

from __future__ import annotations

import functools

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.db.models import companies, grants, jobs, members, organisations
from graphql_app.db.scoping import scoped
from graphql_app.services.catalogue import COMPANY_COLUMNS, GRANT_COLUMNS
from graphql_app.services.talent import MEMBER_COLUMNS, ORGANISATION_COLUMNS
from resolvers.loaders.grant_matches_by_company import GrantMatchesByCompanyLoader
from resolvers.loaders.job_matches_by_parent import JobMatchesByParentLoader
from resolvers.loaders.rows_by_id import RowsByIdLoader
from resolvers.loaders.rows_by_match import FeedbackByMatchLoader, OutcomeByMatchLoader


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
        return RowsByIdLoader(self.db, companies, COMPANY_COLUMNS, scope=lambda q: scoped(q, companies, principal))

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
