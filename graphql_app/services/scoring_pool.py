"""Live scoring in worker processes, so the API process's event loop — and its interpreter lock — keep serving.

A worker thread frees the event loop but not the interpreter: building candidates, scoring and ranking thousands
of grants is mostly Python, so a live-scoring client slowed every other request of the process. Here the whole
live page — the visibility check, the candidates, scoring, ranking and explaining the requested window — runs
in a separate process with its own connection and its own copy of the catalogue, embeddings included
(``grant_catalogue``); only the page's few matches come back. The pool starts with the app
(``MATCHGRAPH_SCORING_PROCESSES``, default 1; 0 scores in a worker thread of the API process instead). The
workers run at a lower CPU priority than the API process. Errors raised there (NOT_FOUND, a timeout) reach the
caller as raised, the same as in-process.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.services.grant_match_pages import LiveMatchPage, live_grant_match_page

#: How much lower than the API process the scoring workers run (``nice``).
SCORING_NICENESS = 10


class ScoringPool:
    """Worker processes that compute live grant-match pages."""

    def __init__(self, database_url: str, *, processes: int, statement_timeout: float | None) -> None:
        self._executor = ProcessPoolExecutor(
            max_workers=processes,
            mp_context=multiprocessing.get_context("spawn"),  # a clean interpreter: no inherited loop or sockets
            initializer=_start_worker,
            initargs=(database_url, statement_timeout),
        )
        self.pages = 0  # pages computed in the pool (tests check the path really ran)

    def warm_up(self) -> None:
        """Start the worker processes now rather than on the first request (their imports take a second)."""
        for _ in range(self._executor._max_workers):
            self._executor.submit(_ping)

    async def live_page(
        self,
        principal: Principal,
        company_id: uuid.UUID,
        min_score: float,
        first: int,
        after: str | None,
        now: datetime,
    ) -> LiveMatchPage:
        """``live_grant_match_page`` computed in a worker process."""
        loop = asyncio.get_running_loop()
        page = await loop.run_in_executor(
            self._executor, _live_page, principal, company_id, min_score, first, after, now
        )
        self.pages += 1
        return page

    def close(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)


async def compute_live_page(
    pool: ScoringPool | None,
    db: Database,
    principal: Principal,
    company_id: uuid.UUID,
    min_score: float,
    first: int,
    after: str | None,
    now: datetime,
) -> LiveMatchPage:
    """A live grant-match page, from the pool when the process has one, else computed here."""
    if pool is None:
        return await live_grant_match_page(db, principal, company_id, min_score, first, after, now)
    return await pool.live_page(principal, company_id, min_score, first, after, now)


# --- in the worker process -------------------------------------------------------------------------------------

_loop: asyncio.AbstractEventLoop | None = None
_db: Database | None = None


def _start_worker(database_url: str, statement_timeout: float | None) -> None:
    global _loop, _db
    # Below the API process in the CPU scheduler: when cores are short, pages keep their pace and live scoring
    # waits (it is the expensive, rate-limited operation).
    os.nice(SCORING_NICENESS)
    _loop = asyncio.new_event_loop()
    asyncio.set_event_loop(_loop)
    _db = Database(database_url, pool_size=1, statement_timeout=statement_timeout)


def _ping() -> bool:
    return True


def _live_page(*args) -> LiveMatchPage:
    return _loop.run_until_complete(live_grant_match_page(_db, *args))
