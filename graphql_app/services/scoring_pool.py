"""Live scoring in worker processes, so the API process's event loop — and its interpreter lock — keep serving.

A worker thread frees the event loop but not the interpreter: building candidates, scoring and ranking thousands
of grants is mostly Python, so a live-scoring client slowed every other request of the process. Here the whole
live page — the visibility check, the candidates, scoring, ranking and explaining the requested window, the
page's grant rows — runs in a separate process with its own connection and its own copy of the catalogue,
embeddings included (``grant_catalogue``); only the page comes back. The pool starts with the app
(``MATCHGRAPH_SCORING_PROCESSES``, default 1; 0 scores in a worker thread of the API process instead). The
workers run at a lower CPU priority than the API process. Errors raised there (NOT_FOUND, a timeout) reach the
caller as raised, the same as in-process.

Each worker is one spawned process and one socket pair. The API process writes a pickled request and reads the
pickled answer on its own event loop (no feeder or result threads, which a ``ProcessPoolExecutor`` adds and which
compete for the interpreter lock on every request); a worker answers its requests one at a time, in order.
"""

from __future__ import annotations

import asyncio
import collections
import multiprocessing
import os
import pickle
import signal
import socket
import struct
import uuid
from datetime import datetime
from multiprocessing.connection import Connection

from graphql_app.auth import Principal
from graphql_app.db.engine import Database
from graphql_app.services.grant_match_pages import LiveMatchPage, live_grant_match_page

#: How much lower than the API process the scoring workers run (``nice``).
SCORING_NICENESS = 10

# multiprocessing.Connection's framing, which the worker reads and writes: a signed 32-bit big-endian length, or
# -1 and then an unsigned 64-bit one for larger messages.
_SHORT = struct.Struct("!i")
_LONG = struct.Struct("!Q")


class ScoringPoolBroken(RuntimeError):
    """A scoring process exited (or its socket closed) while requests were waiting for it."""


class _Worker:
    """One scoring process, and the futures of the requests sent to it, in order."""

    def __init__(self, process: multiprocessing.process.BaseProcess, conn: Connection) -> None:
        self.process = process
        self.conn = conn  # kept open: the streams below use a duplicate of its descriptor
        self.pending: collections.deque[asyncio.Future] = collections.deque()
        self.writer: asyncio.StreamWriter | None = None
        self.reader_task: asyncio.Task | None = None
        self.broken: BaseException | None = None

    async def open(self) -> None:
        sock = socket.socket(fileno=os.dup(self.conn.fileno()))
        reader, self.writer = await asyncio.open_unix_connection(sock=sock)
        self.reader_task = asyncio.create_task(self._read_answers(reader))

    def send(self, payload: bytes) -> asyncio.Future:
        if self.broken is not None:
            raise ScoringPoolBroken("the scoring process has stopped") from self.broken
        header = _SHORT.pack(len(payload)) if len(payload) < 0x7FFFFFFF else _SHORT.pack(-1) + _LONG.pack(len(payload))
        self.writer.write(header + payload)
        future = asyncio.get_running_loop().create_future()
        self.pending.append(future)
        return future

    async def _read_answers(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                (size,) = _SHORT.unpack(await reader.readexactly(_SHORT.size))
                if size == -1:
                    (size,) = _LONG.unpack(await reader.readexactly(_LONG.size))
                answer = await reader.readexactly(size)
                future = self.pending.popleft()
                if not future.done():  # its caller may have gone (a cancelled request): the answer is dropped
                    future.set_result(answer)
        except (asyncio.IncompleteReadError, ConnectionError, OSError) as exc:
            self._fail(exc)
        except asyncio.CancelledError:
            self._fail(ScoringPoolBroken("the scoring pool was closed"))
            raise

    def _fail(self, exc: BaseException) -> None:
        self.broken = exc
        while self.pending:
            future = self.pending.popleft()
            if not future.done():
                future.set_exception(ScoringPoolBroken("the scoring process has stopped"))


class ScoringPool:
    """Worker processes that compute live grant-match pages."""

    def __init__(self, database_url: str, *, processes: int, statement_timeout: float | None) -> None:
        context = multiprocessing.get_context("spawn")  # a clean interpreter: no inherited loop or sockets
        self._workers: list[_Worker] = []
        for _ in range(processes):
            ours, theirs = context.Pipe(duplex=True)
            process = context.Process(
                target=_serve, args=(theirs, database_url, statement_timeout), name="matchgraph-scoring", daemon=True
            )
            process.start()  # the process imports in the background (about a second) while the app starts
            theirs.close()
            self._workers.append(_Worker(process, ours))
        self._opened: asyncio.Task | None = None
        self.pages = 0  # pages computed in the pool (tests check the path really ran)

    def warm_up(self) -> None:
        """Connect to the worker processes now rather than on the first request (call with a running loop)."""
        self._opened = asyncio.ensure_future(self._open())

    async def _open(self) -> None:
        for worker in self._workers:
            await worker.open()

    async def live_page(
        self,
        principal: Principal,
        company_id: uuid.UUID,
        min_score: float,
        first: int,
        after: str | None,
        now: datetime,
    ) -> LiveMatchPage:
        """``live_grant_match_page`` computed in a worker process (the least busy one)."""
        if self._opened is None:
            self.warm_up()
        await self._opened
        worker = min(self._workers, key=lambda w: len(w.pending))
        request = pickle.dumps((principal, company_id, min_score, first, after, now), pickle.HIGHEST_PROTOCOL)
        status, value = pickle.loads(await worker.send(request))
        if status != "ok":
            raise value
        self.pages += 1
        return value

    async def close(self) -> None:
        """Stop the workers: closing the socket ends each one's loop; a worker that does not exit is terminated."""
        for worker in self._workers:
            if worker.writer is not None:
                worker.writer.close()
            if worker.reader_task is not None:
                worker.reader_task.cancel()
            worker.conn.close()
        await asyncio.to_thread(_join, [worker.process for worker in self._workers])


def _join(processes: list) -> None:
    for process in processes:
        process.join(timeout=10)
        if process.is_alive():
            process.terminate()
            process.join()


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


def _serve(conn: Connection, database_url: str, statement_timeout: float | None) -> None:
    """A worker's whole life: answer requests one at a time until the API process closes the socket."""
    # Below the API process in the CPU scheduler: when cores are short, pages keep their pace and live scoring
    # waits (it is the expensive, rate-limited operation).
    os.nice(SCORING_NICENESS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the API process, which closes the socket
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    db = Database(database_url, pool_size=1, statement_timeout=statement_timeout)
    try:
        while True:
            try:
                request = conn.recv_bytes()
            except (EOFError, OSError):
                break
            try:
                # The scoring runs right here: this process has nothing else to keep responsive.
                page = loop.run_until_complete(live_grant_match_page(db, *pickle.loads(request), offload_cpu=False))
                answer = pickle.dumps(("ok", page), pickle.HIGHEST_PROTOCOL)
            except Exception as exc:  # every error goes back to the request that caused it
                answer = _pickled_error(exc)
            conn.send_bytes(answer)
    finally:
        loop.run_until_complete(db.dispose())
        loop.close()


def _pickled_error(exc: Exception) -> bytes:
    try:
        return pickle.dumps(("error", exc), pickle.HIGHEST_PROTOCOL)
    except Exception:  # an exception that does not pickle still fails its request, as text
        return pickle.dumps(("error", RuntimeError(f"{type(exc).__name__}: {exc}")), pickle.HIGHEST_PROTOCOL)
