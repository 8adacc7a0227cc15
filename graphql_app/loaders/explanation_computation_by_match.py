"""The MATCH_EXPLANATION computation of each job match a page shows without an explanation: all of a page's
missing explanations are scheduled together, in one write (``job_match_actions.explanation_computations``)."""

from __future__ import annotations

import uuid

from aiodataloader import DataLoader
from sqlalchemy.engine import Row

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.services.job_match_actions import explanation_computations


class ExplanationComputationByMatchLoader(DataLoader[uuid.UUID, Row]):
    def __init__(self, db: Database, principal: Principal) -> None:
        super().__init__()
        self.db = db
        self.principal = principal

    async def batch_load_fn(self, keys: list[uuid.UUID]) -> list[Row]:
        found = await explanation_computations(self.db, self.principal, list(keys))
        return [found[key] for key in keys]
