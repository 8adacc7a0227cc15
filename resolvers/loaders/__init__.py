"""Per-request DataLoaders, one per file. Each batch runs exactly one SELECT on its own connection."""

from __future__ import annotations

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
    """The loaders of one request, created lazily on first use."""

    def __init__(self, db: Database, principal: Principal) -> None:
        self.grant_by_id = RowsByIdLoader(db, grants, GRANT_COLUMNS)
        self.company_by_id = RowsByIdLoader(
            db, companies, COMPANY_COLUMNS, scope=lambda query: scoped(query, companies, principal)
        )
        self.grant_matches_by_company = GrantMatchesByCompanyLoader(db, principal)
        self.organisation_by_id = RowsByIdLoader(db, organisations, ORGANISATION_COLUMNS)
        self.job_by_id = RowsByIdLoader(db, jobs, list(jobs.c))
        self.member_by_id = RowsByIdLoader(db, members, MEMBER_COLUMNS)
        self.outcome_by_match = OutcomeByMatchLoader(db)
        self.feedback_by_match = FeedbackByMatchLoader(db)
        self.job_matches_by_job = JobMatchesByParentLoader(db, principal, "job_id")
        self.job_matches_by_member = JobMatchesByParentLoader(db, principal, "member_id")
