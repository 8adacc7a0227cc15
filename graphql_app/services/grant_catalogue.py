"""This process's copy of the grant catalogue's scoring attributes, column by column.

Loading and parsing the attributes of thousands of grants costs more than scoring them, and they change only
when grants are imported or edited. Each statement that changes ``grants`` bumps ``catalogue_version`` (a
trigger, migration 0005), so one primary-key read tells whether the copy is current — per database, since tests
use many. The copy includes the embeddings (a float32 matrix: 1.5 kB per grant at 384 dimensions, 150 MB at
100,000 grants), so scoring a company pre-filters the grants and computes their cosine similarity here
(:meth:`CatalogueColumns.prefiltered`, :meth:`CatalogueColumns.cosine`) and asks SQL only for the peer signals.
"""

from __future__ import annotations

import asyncio
import gc
import threading
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import LargeBinary, Text, func, literal_column, select
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app.db.models import catalogue_version, grants
from graphql_app.matching.grants import GrantCandidates
from graphql_app.matching.similarity import cosine_from_dots, pgvector_query_dots, squared_norms

SET_COLUMNS = ("countries", "nace_codes", "sizes", "carbon_categories", "certifications", "taxonomy_objectives")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def microseconds_since_epoch(moment: datetime) -> int:
    """Exact (integer) microseconds, so day counts computed from them equal ``timedelta`` arithmetic."""
    return (moment - _EPOCH) // _MICROSECOND


@dataclass(frozen=True)
class CatalogueColumns:
    """Every grant's scoring attributes, entry ``i`` of each column belonging to the same grant."""

    position: dict[str, int]  # the grant's id as text → its entry
    ids: list[uuid.UUID]
    countries: list[frozenset[str]]
    nace_codes: list[tuple[str, ...]]
    sizes: list[frozenset[str]]
    carbon_categories: list[frozenset[str]]
    certifications: list[frozenset[str]]
    taxonomy_objectives: list[frozenset[str]]
    is_carbon_focused: np.ndarray  # bool
    deadline_us: np.ndarray  # int64 microseconds since the epoch (0 for rolling grants)
    rolling: np.ndarray  # bool: no deadline
    country_code: np.ndarray  # int: entry of ``countries`` in ``distinct_countries``
    distinct_countries: list[frozenset[str]]
    size_code: np.ndarray  # int: entry of ``sizes`` in ``distinct_sizes``
    distinct_sizes: list[frozenset[str]]
    embeddings: np.ndarray  # float32, one row per grant (zeros where it has none)
    has_embedding: np.ndarray  # bool
    embedding_norms: np.ndarray  # float32 squared norms of ``embeddings`` (summed as pgvector sums them)
    #: Per company embedding, its dot products with the grants (see :meth:`cosine`).
    query_dots: QueryDots = field(default_factory=lambda: QueryDots(), compare=False, repr=False)
    #: Grant id → the grant's API columns (``grant_match_pages.GrantColumns``), filled as live pages show grants. Valid
    #: as long as this copy is: any change to ``grants`` moves the catalogue version, which replaces the copy.
    grant_rows: dict[uuid.UUID, Any] = field(default_factory=dict, compare=False, repr=False)

    def eligible(self, country: str, size: str) -> np.ndarray:
        """Whether each grant's countries and sizes are unrestricted or list the company's (open or not)."""
        country_ok = np.fromiter((not s or country in s for s in self.distinct_countries), dtype=bool)
        size_ok = np.fromiter((not s or size in s for s in self.distinct_sizes), dtype=bool)
        return country_ok[self.country_code] & size_ok[self.size_code]

    def prefiltered(self, country: str, size: str, now: datetime) -> np.ndarray:
        """Entries of the grants open at ``now`` whose countries and sizes are unrestricted or list the company's
        (``access.open_grants`` and the eligibility pre-filter), in catalogue order."""
        is_open = self.rolling | (self.deadline_us >= microseconds_since_epoch(now))
        return np.flatnonzero(is_open & self.eligible(country, size))

    def cosine(self, rows: np.ndarray, embedding: np.ndarray | None, country: str, size: str) -> np.ndarray:
        """The cosine similarity of entries ``rows`` (of ``prefiltered(country, size, …)``) to a company's embedding
        as the SQL pre-filter gave it: 0 when either side has no embedding (see
        :mod:`graphql_app.matching.similarity`).

        The expensive part, the float32 dot products in pgvector's summing order, is kept per (embedding, country,
        size) for every grant of that country and size with an embedding (``query_dots``): a company's next page
        only divides by the norms. The kept values are a function of that key and this copy alone, so an edited
        company (a new embedding, country or size) or catalogue (a new copy) never meets stale ones."""
        similarity = np.zeros(len(rows), dtype=np.float64)
        if embedding is None:
            return similarity
        (with_embedding,) = np.nonzero(self.has_embedding[rows])
        if len(with_embedding):
            query = np.asarray(embedding, dtype=np.float32)
            picked = rows[with_embedding]
            base, dots, query_norm = self.query_dots.get(self, query, country, size)
            at = np.minimum(np.searchsorted(base, picked), len(base) - 1)
            if len(base) == 0 or not np.array_equal(base[at], picked):
                raise ValueError("rows outside the grants of the company's country and size")
            similarity[with_embedding] = cosine_from_dots(dots[at], self.embedding_norms[picked], query_norm)
        return similarity

    def candidates(
        self,
        rows: np.ndarray,
        cosine: Sequence[float],
        signals: dict[str, tuple[float, int]],
        now: datetime,
    ) -> GrantCandidates:
        """The entries ``rows`` (ascending; with their cosine similarity and peer signals by grant id as text) as
        scoring reads them."""
        take = np.asarray(rows, dtype=np.int64)
        n = len(take)
        # whole_days_left: floor(timedelta.total_seconds() / 86400), in the same float operations.
        seconds = (self.deadline_us[take] - microseconds_since_epoch(now)).astype(np.float64) / 1e6
        days_left = np.where(self.rolling[take], np.nan, np.floor(seconds / 86400))
        peer_signal = np.zeros(n)
        peers_saved = np.zeros(n, dtype=np.int64)
        if signals and n:
            position = self.position
            signal_rows = np.fromiter((position.get(grant_id, -1) for grant_id in signals), np.int64, len(signals))
            at = np.minimum(np.searchsorted(take, signal_rows), n - 1)
            hit = take[at] == signal_rows  # a candidate (grants with signals may be closed or ineligible)
            values = np.array(list(signals.values()), dtype=np.float64).reshape(len(signals), 2)
            peer_signal[at[hit]] = values[hit, 0]
            peers_saved[at[hit]] = values[hit, 1].astype(np.int64)
        rows = take.tolist()
        return GrantCandidates(
            ids=[self.ids[i] for i in rows],
            cosine_similarity=np.asarray(cosine, dtype=np.float64).reshape(n),
            countries=[self.countries[i] for i in rows],
            nace_codes=[self.nace_codes[i] for i in rows],
            sizes=[self.sizes[i] for i in rows],
            carbon_categories=[self.carbon_categories[i] for i in rows],
            certifications=[self.certifications[i] for i in rows],
            taxonomy_objectives=[self.taxonomy_objectives[i] for i in rows],
            is_carbon_focused=self.is_carbon_focused[take],
            days_left=days_left,
            peer_signal=peer_signal,
            peers_saved=peers_saved,
            interned=True,  # parsed once per distinct stored text when the copy was loaded
        )


class QueryDots:
    """(embedding, country, size) → the grants of that country and size with an embedding, their dot products with
    the embedding and its squared norm; least recently used first out past ``max_bytes``. Safe across threads."""

    def __init__(self, max_bytes: int = 64 * 2**20) -> None:
        self.max_bytes = max_bytes
        self._entries: OrderedDict[tuple, tuple[np.ndarray, np.ndarray, float]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._bytes = 0

    def get(self, columns: CatalogueColumns, query: np.ndarray, country: str, size: str):
        key = (query.tobytes(), country, size)
        with self._lock:
            found = self._entries.get(key)
            if found is not None:
                self._entries.move_to_end(key)
                self.hits += 1
                return found
        base = np.flatnonzero(columns.eligible(country, size) & columns.has_embedding).astype(np.int32)
        dots, query_norm = pgvector_query_dots(columns.embeddings, base, query)
        entry = (base, dots, query_norm)
        with self._lock:
            self.misses += 1
            if key not in self._entries:
                self._entries[key] = entry
                self._bytes += base.nbytes + dots.nbytes
            while self._bytes > self.max_bytes and len(self._entries) > 1:
                _, (old_base, old_dots, _) = self._entries.popitem(last=False)
                self._bytes -= old_base.nbytes + old_dots.nbytes
        return entry


class CatalogueCache:
    """The current :class:`CatalogueColumns` of each database this process uses, reloaded when its version moves."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._columns: CatalogueColumns | None = None
        self._lock = asyncio.Lock()
        self.loads = 0

    async def columns(
        self, conn: AsyncConnection, *, reload: bool = False, key: tuple | None = None
    ) -> CatalogueColumns:
        """The copy as of the catalogue version ``conn`` sees now (its own uncommitted changes included). ``key``:
        the :data:`CATALOGUE_KEY` values the caller has just read on ``conn`` with another statement (one round
        trip fewer)."""
        async with self._lock:
            if key is None:
                key = tuple((await conn.execute(CATALOGUE_KEY)).one())
            if reload or key != self._key or self._columns is None:
                rows = (await conn.execute(_ATTRIBUTES)).all()
                self._columns = await asyncio.to_thread(_columns_of, rows)
                self.loads += 1
                # Each statement has its own snapshot: the rows are those of ``key`` only if no change committed
                # in between. Otherwise they serve this call and the next call loads again.
                settled = tuple((await conn.execute(CATALOGUE_KEY)).one())
                self._key = key if settled == key else None
            return self._columns


# The row's xmin (the transaction that last bumped the version) tells a committed version from the same number
# reached by a transaction that rolled back (a copy taken inside it must not be reused).
CATALOGUE_KEY = select(
    func.current_database(),
    catalogue_version.c.version,
    literal_column("catalogue_version.xmin::text", Text),
)
# Set-valued columns travel as comma-joined text (every value is a validated code without commas): plain strings
# skip SQLAlchemy's per-row ARRAY processing, and equal strings are parsed once. Embeddings travel in pgvector's
# binary form (``vector_send``: dimension, unused, then the float4 values, all big-endian).
_ATTRIBUTES = select(
    grants.c.id,
    grants.c.id.cast(Text).label("id_text"),
    *(func.array_to_string(grants.c[name], ",").label(name) for name in SET_COLUMNS),
    grants.c.is_carbon_focused,
    grants.c.deadline,
    func.vector_send(grants.c.embedding, type_=LargeBinary).label("embedding"),
)


def _columns_of(rows) -> CatalogueColumns:
    with paused_gc():
        sets = _ParsedSets(frozenset)
        nace = _ParsedSets(tuple)
        countries = [sets[row.countries] for row in rows]
        sizes = [sets[row.sizes] for row in rows]
        country_code, distinct_countries = _codes(countries)
        size_code, distinct_sizes = _codes(sizes)
        embeddings, has_embedding = _embedding_matrix([row.embedding for row in rows])
        return CatalogueColumns(
            position={row.id_text: i for i, row in enumerate(rows)},
            ids=[row.id for row in rows],
            countries=countries,
            nace_codes=[nace[row.nace_codes] for row in rows],
            sizes=sizes,
            carbon_categories=[sets[row.carbon_categories] for row in rows],
            certifications=[sets[row.certifications] for row in rows],
            taxonomy_objectives=[sets[row.taxonomy_objectives] for row in rows],
            is_carbon_focused=np.fromiter((row.is_carbon_focused for row in rows), dtype=bool, count=len(rows)),
            deadline_us=np.fromiter(
                (0 if row.deadline is None else microseconds_since_epoch(row.deadline) for row in rows),
                dtype=np.int64,
                count=len(rows),
            ),
            rolling=np.fromiter((row.deadline is None for row in rows), dtype=bool, count=len(rows)),
            country_code=country_code,
            distinct_countries=distinct_countries,
            size_code=size_code,
            distinct_sizes=distinct_sizes,
            embeddings=embeddings,
            has_embedding=has_embedding,
            embedding_norms=squared_norms(embeddings),
        )


def _codes(values: list[frozenset[str]]) -> tuple[np.ndarray, list[frozenset[str]]]:
    """Each (interned) value's entry in the list of distinct values."""
    code_of: dict[int, int] = {}
    distinct: list[frozenset[str]] = []
    codes = np.empty(len(values), dtype=np.int32)
    for i, value in enumerate(values):
        code = code_of.get(id(value))
        if code is None:
            code = code_of[id(value)] = len(distinct)
            distinct.append(value)
        codes[i] = code
    return codes, distinct


def _embedding_matrix(sent: list[bytes | None]) -> tuple[np.ndarray, np.ndarray]:
    """``vector_send`` values as a float32 matrix (zero rows for NULL) and which rows have one."""
    has_embedding = np.fromiter((value is not None for value in sent), dtype=bool, count=len(sent))
    present = [value for value in sent if value is not None]
    dimensions = {int.from_bytes(value[:2], "big") for value in present}
    if len(dimensions) > 1:
        raise ValueError(f"grant embeddings of different dimensions: {sorted(dimensions)}")
    dimension = dimensions.pop() if dimensions else 0
    matrix = np.zeros((len(sent), dimension), dtype=np.float32)
    record = np.dtype([("header", ">i2", 2), ("values", ">f4", dimension)])
    rows = np.flatnonzero(has_embedding)
    for start in range(0, len(present), _DECODED_AT_ONCE):  # in slices: no second copy of them all at once
        block = np.frombuffer(b"".join(present[start : start + _DECODED_AT_ONCE]), dtype=record)
        matrix[rows[start : start + _DECODED_AT_ONCE]] = block["values"]
    return matrix, has_embedding


_DECODED_AT_ONCE = 4096


catalogue_cache = CatalogueCache()


@contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection during a burst of short-lived allocations (tens of thousands of rows).

    The rows hold no reference cycles; at 100,000 grants the collector's full passes otherwise cost about as
    much as everything else together (bench/README.md). Collection resumes right after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class _ParsedSets(dict):
    """Comma-joined text -> frozenset (or tuple, for ordered NACE codes), parsed once per distinct text."""

    def __init__(self, convert: type) -> None:
        super().__init__()
        self.convert = convert

    def __missing__(self, text_value: str | None) -> frozenset | tuple:
        parsed = self[text_value] = self.convert(text_value.split(",") if text_value else ())
        return parsed
