"""Per-request DataLoaders, one per file. Each batch runs exactly one SELECT on its own connection."""

from __future__ import annotations

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from resolvers.loaders.company_by_id import CompanyByIdLoader
from resolvers.loaders.grant_by_id import GrantByIdLoader
from resolvers.loaders.grant_matches_by_company import GrantMatchesByCompanyLoader


class Loaders:
    """The loaders of one request, created lazily on first use."""

    def __init__(self, db: Database, principal: Principal) -> None:
        self.grant_by_id = GrantByIdLoader(db)
        self.company_by_id = CompanyByIdLoader(db, principal)
        self.grant_matches_by_company = GrantMatchesByCompanyLoader(db, principal)
