"""This process's copy of the grant catalogue's scoring attributes, column by column.

Loading and parsing the attributes of thousands of grants costs more than scoring them, and they change only
when grants are imported or edited. Each statement that changes ``grants`` bumps ``catalogue_version`` (a
trigger, migration 0005), so one primary-key read tells whether the copy is current — per database, since tests
use many. Scoring asks SQL only for the pre-filtered candidates' ids and cosine similarities and takes everything
else from here (:meth:`CatalogueColumns.candidates`).
"""

from __future__ import annotations

import asyncio
import gc
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
from sqlalchemy import Text, func, select
from sqlalchemy.ext.asyncio import AsyncConnection

from graphql_app.db.models import catalogue_version, grants
from graphql_app.matching.grants import GrantCandidates

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

    def covers(self, grant_ids: Sequence[str]) -> bool:
        position = self.position
        return all(grant_id in position for grant_id in grant_ids)

    def candidates(
        self,
        grant_ids: Sequence[str],
        cosine: Sequence[float],
        signals: dict[str, tuple[float, int]],
        now: datetime,
    ) -> GrantCandidates:
        """The candidates ``grant_ids`` (with their cosine similarity and peer signals) as scoring reads them."""
        position = self.position
        rows = [position[grant_id] for grant_id in grant_ids]
        n = len(rows)
        take = np.fromiter(rows, dtype=np.int64, count=n)
        # whole_days_left: floor(timedelta.total_seconds() / 86400), in the same float operations.
        seconds = (self.deadline_us[take] - microseconds_since_epoch(now)).astype(np.float64) / 1e6
        days_left = np.where(self.rolling[take], np.nan, np.floor(seconds / 86400))
        peer_signal = np.zeros(n)
        peers_saved = np.zeros(n, dtype=np.int64)
        if signals:
            for k, grant_id in enumerate(grant_ids):
                if grant_id in signals:
                    peer_signal[k], peers_saved[k] = signals[grant_id]
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


class CatalogueCache:
    """The current :class:`CatalogueColumns` of each database this process uses, reloaded when its version moves."""

    def __init__(self) -> None:
        self._key: tuple | None = None
        self._columns: CatalogueColumns | None = None
        self._lock = asyncio.Lock()
        self.loads = 0

    async def columns(self, conn: AsyncConnection, *, reload: bool = False) -> CatalogueColumns:
        async with self._lock:
            key = tuple((await conn.execute(_CATALOGUE_KEY)).one())
            if reload or key != self._key or self._columns is None:
                rows = (await conn.execute(_ATTRIBUTES)).all()
                self._columns = await asyncio.to_thread(_columns_of, rows)
                self._key = key
                self.loads += 1
            return self._columns


_CATALOGUE_KEY = select(func.current_database(), catalogue_version.c.version)
# Set-valued columns travel as comma-joined text (every value is a validated code without commas): plain strings
# skip SQLAlchemy's per-row ARRAY processing, and equal strings are parsed once.
_ATTRIBUTES = select(
    grants.c.id,
    grants.c.id.cast(Text).label("id_text"),
    *(func.array_to_string(grants.c[name], ",").label(name) for name in SET_COLUMNS),
    grants.c.is_carbon_focused,
    grants.c.deadline,
)


def _columns_of(rows) -> CatalogueColumns:
    with paused_gc():
        sets = _ParsedSets(frozenset)
        nace = _ParsedSets(tuple)
        return CatalogueColumns(
            position={row.id_text: i for i, row in enumerate(rows)},
            ids=[row.id for row in rows],
            countries=[sets[row.countries] for row in rows],
            nace_codes=[nace[row.nace_codes] for row in rows],
            sizes=[sets[row.sizes] for row in rows],
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
        )


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
