"""The per-request (per-event for subscriptions) context every resolver receives as ``info.context``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from graphql_app.auth import Principal
from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.db.setup import load_checked_embedder
from graphql_app.errors import MatchgraphError, Unauthenticated
from graphql_app.matching.embeddings import Embedder
from graphql_app.settings import Settings


@dataclass
class AppServices:
    """Process-wide services the app holds for its lifetime."""

    settings: Settings
    db: Database
    clock: Clock
    embedder: Embedder | None = None
    events: Any = None  # graphql_app.jobs.events.ComputationEventHub, started by the app's lifespan
    #: Builds a request's DataLoaders from (database, viewer); the app sets it (graphql_app.loaders.Loaders).
    loaders: Callable[[Database, Principal], Any] | None = None
    #: graphql_app.services.scoring_pool.ScoringPool: live scoring in worker processes (started by the app).
    scoring_pool: Any = None

    _embedder_lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def get_embedder(self) -> Embedder:
        """The embedding model, loaded on first use (in a thread; concurrent callers wait for the one load).

        A process that never embeds (listing, scoring stored vectors) never holds the model. The model must make
        vectors of the stored dimension and be the one the database's vectors were made with."""
        if self.embedder is None:
            async with self._embedder_lock:
                if self.embedder is None:
                    self.embedder = await load_checked_embedder(self.db, self.settings.embedding_model)
        return self.embedder


@dataclass
class Context:
    """What a resolver may use: the caller, the database, per-request DataLoaders, the clock."""

    services: AppServices
    principal: Principal | None
    auth_error: MatchgraphError | None = None
    request: Any = None
    response: Any = None
    connection_params: Any = None  # the WebSocket `connection_init` payload (Strawberry sets it)
    token: str | None = None  # the bearer token the principal comes from (re-checked on long-lived connections)
    _loaders: Any = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        return self.services.db

    @property
    def clock(self) -> Clock:
        return self.services.clock

    @property
    def loaders(self):
        """This request's DataLoaders, built on first use."""
        if self._loaders is None:
            self._loaders = self.services.loaders(self.services.db, self.viewer)
        return self._loaders

    @property
    def viewer(self) -> Principal:
        """The authenticated principal; raises UNAUTHENTICATED when there is none."""
        if self.auth_error is not None:
            raise self.auth_error
        if self.principal is None:
            raise Unauthenticated("Authentication required: send `Authorization: Bearer <token>`.")
        return self.principal
