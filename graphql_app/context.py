"""The per-request (per-event for subscriptions) context every resolver receives as ``info.context``."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from strawberry.types.unset import UNSET, UnsetType

from graphql_app.auth import Principal
from graphql_app.clock import Clock
from graphql_app.db.engine import Database
from graphql_app.db.setup import load_checked_embedder
from graphql_app.errors import MatchgraphError, ServiceUnavailable, Unauthenticated
from graphql_app.matching.embeddings import Embedder
from graphql_app.settings import Settings

logger = logging.getLogger(__name__)


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

    _embedder_task: asyncio.Task | None = field(default=None, repr=False)

    def start_loading_embedder(self) -> asyncio.Task:
        """Start loading the embedding model in a thread (once; again after a failed load); the loading task."""
        task = self._embedder_task
        if task is None or (task.done() and (task.cancelled() or task.exception() is not None)):
            task = self._embedder_task = asyncio.create_task(self._load_embedder(), name="embedding-model-load")
            task.add_done_callback(lambda done: done.cancelled() or done.exception())  # logged in _load_embedder
        return task

    async def _load_embedder(self) -> Embedder:
        try:
            self.embedder = await load_checked_embedder(self.db, self.settings.embedding_model)
        except Exception:
            logger.exception("the embedding model %s could not be loaded", self.settings.embedding_model)
            raise
        logger.info("embedding model %s loaded", self.settings.embedding_model)
        return self.embedder

    @property
    def embedder_state(self) -> str:
        """``ok`` (loaded), ``loading``, ``failed`` (the last load failed; the next use tries again) or
        ``not loaded`` (nothing asked for it yet)."""
        if self.embedder is not None:
            return "ok"
        task = self._embedder_task
        if task is None:
            return "not loaded"
        if not task.done():
            return "loading"
        return "failed"

    async def get_embedder(self, *, wait: float | UnsetType | None = UNSET) -> Embedder:
        """The embedding model, loaded once per process in a thread (concurrent callers share the one load).

        Waits at most ``wait`` seconds (default ``MATCHGRAPH_EMBEDDING_WAIT_SECONDS``; ``None``: as long as it
        takes), then raises :class:`ServiceUnavailable` (retryable). The model must make vectors of the stored
        dimension and be the one the database's vectors were made with."""
        if self.embedder is not None:
            return self.embedder
        task = self.start_loading_embedder()
        timeout = self.settings.embedding_wait_seconds if wait is UNSET else wait
        await asyncio.wait({task}, timeout=timeout)
        if not task.done():
            raise ServiceUnavailable("The embedding model is still loading; retry shortly.", retry_after=5)
        if task.cancelled() or task.exception() is not None:
            raise ServiceUnavailable("The embedding model could not be loaded; retry later.", retry_after=30)
        return task.result()


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
