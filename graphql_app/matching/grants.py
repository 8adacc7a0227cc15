"""Grant matching scores (see docs/matching.md): one company against many candidate grants, or one grant against
many candidate companies (the new-grant fan-out), vectorised with numpy; both directions share the per-rule
functions and the combination step, so a (company, grant) pair scores identically either way.

The SQL layer pre-filters and loads candidates column-wise into ``GrantCandidates`` (cosine similarity and
the summed peer signal come precomputed), ``score_grants_for_company`` scores them all at once,
``rank_grant_matches`` picks the listed ones and ``explain_grant_match`` words one of them.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import InitVar, dataclass, field
from typing import Any

import numpy as np

from graphql_app.matching.breakdown import COMPONENTS, SUB_SCORES, figure_rows, render_breakdown
from graphql_app.matching.nace import best_nace_overlap, normalise_nace_code
from graphql_app.matching.vocabulary import RECOGNISED_ENVIRONMENTAL_CERTIFICATIONS

COMPONENT_WEIGHTS: dict[str, float] = {
    "semantic": 0.25,
    "rule": 0.30,
    "carbon": 0.25,
    "collaborative": 0.10,
    "recency": 0.10,
}
CARBON_FOCUS_MULTIPLIER = 1.2

#: rule = 0.4·country + 0.4·nace + 0.2·size
RULE_WEIGHTS: dict[str, float] = {"country": 0.4, "nace": 0.4, "size": 0.2}
#: carbon = 0.5·categories + 0.25·certification + 0.25·taxonomy
CARBON_WEIGHTS: dict[str, float] = {"categories": 0.5, "certification": 0.25, "taxonomy": 0.25}

LISTED_SCORE = 1.0  # country/size: the grant lists the company's value
UNRESTRICTED_ELIGIBILITY_SCORE = 0.8  # country/size: the grant restricts nothing
NOT_LISTED_SCORE = 0.0  # country/size: restricted and not listed -> disqualified
UNNAMED_SHARE_SCORE = 0.5  # categories/taxonomy when the grant names none

#: Peer signal per interaction (times the peer's cosine similarity); see ``peer_signals``.
PEER_SIGNAL_WEIGHTS: dict[str, float] = {"saved": 1.0, "viewed": 0.25, "dismissed": -1.0}
PEER_SIGNAL_SCALE = 3.0  # collaborative = 0.5 + 0.5·tanh(sum / 3)

URGENT_DAYS = 30  # recency 1.0 up to this many days left
RELAXED_DAYS = 180  # recency 0.4 from this many days left
RELAXED_RECENCY = 0.4
ROLLING_RECENCY = 0.5
HIGH_SEMANTIC_SIMILARITY = 0.5  # semantic score from which a reason mentions it


@dataclass(frozen=True)
class CompanyProfile:
    """What grant scoring needs to know about a company. NACE codes are normalised on construction."""

    country: str
    nace_codes: tuple[str, ...]
    size: str
    carbon_categories: frozenset[str] = frozenset()
    certifications: frozenset[str] = frozenset()
    taxonomy_objectives: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "nace_codes", tuple(normalise_nace_code(c) for c in self.nace_codes))
        object.__setattr__(self, "carbon_categories", frozenset(self.carbon_categories))
        object.__setattr__(self, "certifications", frozenset(self.certifications))
        object.__setattr__(self, "taxonomy_objectives", frozenset(self.taxonomy_objectives))


@dataclass
class GrantCandidates:
    """Candidate grants, column-oriented: entry ``i`` of every field belongs to the same grant.

    Empty ``countries``/``nace_codes``/``sizes`` mean unrestricted. ``days_left`` is whole days until the
    deadline (NaN = rolling, negative = closed). ``peer_signal`` is ``peer_signal_sum`` over the grant's
    peer interactions (0 = none); ``peers_saved`` counts the similar companies that saved it.
    """

    ids: list[Any]
    cosine_similarity: np.ndarray
    countries: list[frozenset[str]]
    nace_codes: list[tuple[str, ...]]
    sizes: list[frozenset[str]]
    carbon_categories: list[frozenset[str]]
    certifications: list[frozenset[str]]
    taxonomy_objectives: list[frozenset[str]]
    is_carbon_focused: np.ndarray
    days_left: np.ndarray
    peer_signal: np.ndarray
    peers_saved: np.ndarray
    #: The set-valued columns already hold frozensets (tuples for NACE codes), grants with the same stored values
    #: sharing one object: skip the conversion.
    interned: InitVar[bool] = False

    def __post_init__(self, interned: bool) -> None:
        if not interned:
            # Equal sets become one object, so per-distinct memoisation in scoring hits by identity (fast).
            self.countries = _interned(self.countries, frozenset)
            self.nace_codes = _interned(self.nace_codes, tuple)
            self.sizes = _interned(self.sizes, frozenset)
            self.carbon_categories = _interned(self.carbon_categories, frozenset)
            self.certifications = _interned(self.certifications, frozenset)
            self.taxonomy_objectives = _interned(self.taxonomy_objectives, frozenset)
        self.cosine_similarity = np.asarray(self.cosine_similarity, dtype=np.float64)
        self.is_carbon_focused = np.asarray(self.is_carbon_focused, dtype=bool)
        self.days_left = np.asarray(self.days_left, dtype=np.float64)
        self.peer_signal = np.asarray(self.peer_signal, dtype=np.float64)
        self.peers_saved = np.asarray(self.peers_saved, dtype=np.int64)
        _check_columns(self)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_rows(cls, rows: Iterable[Mapping[str, Any]]) -> GrantCandidates:
        """Build from per-grant mappings keyed like the fields (``id`` for the id).

        Missing keys default to: cosine 0, unrestricted/empty sets, not carbon-focused, rolling
        (``days_left`` None), no peer signal.
        """
        rows = list(rows)

        def column(key: str, default: Any = None) -> list[Any]:
            return [row.get(key, default) for row in rows]

        def sets(key: str) -> list[frozenset[str]]:
            return _interned((row.get(key) or () for row in rows), frozenset)

        return cls(
            ids=column("id"),
            cosine_similarity=np.array(column("cosine_similarity", 0.0), dtype=np.float64),
            countries=sets("countries"),
            nace_codes=_interned((row.get("nace_codes") or () for row in rows), tuple),
            sizes=sets("sizes"),
            carbon_categories=sets("carbon_categories"),
            certifications=sets("certifications"),
            taxonomy_objectives=sets("taxonomy_objectives"),
            is_carbon_focused=np.array([bool(v) for v in column("is_carbon_focused", False)], dtype=bool),
            days_left=np.array([math.nan if v is None else v for v in column("days_left")], dtype=np.float64),
            peer_signal=np.array([v or 0.0 for v in column("peer_signal", 0.0)], dtype=np.float64),
            peers_saved=np.array([v or 0 for v in column("peers_saved", 0)], dtype=np.int64),
        )


@dataclass
class GrantScoreTable:
    """Scores aligned with the candidates. ``total`` is 0 for every ineligible grant."""

    semantic: np.ndarray
    rule: np.ndarray
    carbon: np.ndarray
    collaborative: np.ndarray
    recency: np.ndarray
    country: np.ndarray
    nace: np.ndarray
    size: np.ndarray
    categories: np.ndarray
    certification: np.ndarray
    taxonomy: np.ndarray
    weighted_total: np.ndarray  # weighted sum of the components, before the carbon bonus
    carbon_bonus_applied: np.ndarray  # bool
    total: np.ndarray
    disqualified: np.ndarray  # bool: country or size restricted and the company's not listed
    closed: np.ndarray  # bool: deadline passed
    eligible: np.ndarray = field(init=False)  # bool: neither disqualified nor closed

    def __post_init__(self) -> None:
        self.eligible = ~(self.disqualified | self.closed)

    def __len__(self) -> int:
        return len(self.total)


@dataclass(frozen=True)
class GrantMatchExplanation:
    """Human-readable reasons and the score breakdown of one match: its figures in
    :data:`graphql_app.matching.breakdown.FIGURES` order, the carbon-bonus flag and the days left."""

    reasons: list[str]
    figures: list[float]
    carbon_bonus_applied: bool
    days_left: int | None

    @property
    def breakdown(self) -> dict[str, Any]:
        """The breakdown as the API's JSON object."""
        return render_breakdown(self.figures, self.carbon_bonus_applied, self.days_left)


def _interned(values: Iterable[Any], convert: Callable[[Any], Hashable]) -> list[Any]:
    """``convert`` applied to every value, equal results sharing one object."""
    pool: dict[Hashable, Hashable] = {}
    return [pool.setdefault(value, value) for value in map(convert, values)]


class _Memo(dict):
    """A dict that computes missing values with ``compute(key)``: one evaluation per distinct key."""

    def __init__(self, compute: Callable[[Any], Any]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, key: Hashable) -> Any:
        value = self[key] = self.compute(key)
        return value


def _per_distinct(values: Sequence[Any], compute: Callable[[Any], float]) -> np.ndarray:
    """``compute`` applied to every value, evaluated once per distinct value, as a float64 array."""
    memo = _Memo(compute)
    return np.fromiter(map(memo.__getitem__, values), dtype=np.float64, count=len(values))


def _eligibility_score(company_value: str) -> Callable[[frozenset[str]], float]:
    def score(allowed: frozenset[str]) -> float:
        if not allowed:
            return UNRESTRICTED_ELIGIBILITY_SCORE
        return LISTED_SCORE if company_value in allowed else NOT_LISTED_SCORE

    return score


def _share_score(company_values: frozenset[str]) -> Callable[[frozenset[str]], float]:
    def score(wanted: frozenset[str]) -> float:
        if not wanted:
            return UNNAMED_SHARE_SCORE
        return len(wanted & company_values) / len(wanted)

    return score


def _recognised_certifications(grant_certifications: frozenset[str]) -> frozenset[str]:
    return grant_certifications or frozenset(RECOGNISED_ENVIRONMENTAL_CERTIFICATIONS)


def _certification_score(company_certifications: frozenset[str]) -> Callable[[frozenset[str]], float]:
    def score(grant_certifications: frozenset[str]) -> float:
        return 1.0 if company_certifications & _recognised_certifications(grant_certifications) else 0.0

    return score


def recency_scores(days_left: np.ndarray) -> np.ndarray:
    """Deadline urgency: ≤30 days 1.0, then linearly down to 0.4 at 180 days and beyond; NaN (rolling) 0.5."""
    d = np.asarray(days_left, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        sliding = 1.0 - 0.6 * (d - URGENT_DAYS) / (RELAXED_DAYS - URGENT_DAYS)
        bands = [np.isnan(d), d <= URGENT_DAYS, d < RELAXED_DAYS]
        return np.select(bands, [ROLLING_RECENCY, 1.0, sliding], RELAXED_RECENCY)


def collaborative_scores(peer_signal: np.ndarray) -> np.ndarray:
    """``0.5 + 0.5·tanh(sum / 3)`` of the summed peer signal; no signal (0 or NaN) gives exactly 0.5."""
    signal = np.nan_to_num(np.asarray(peer_signal, dtype=np.float64), nan=0.0)
    return 0.5 + 0.5 * np.tanh(signal / PEER_SIGNAL_SCALE)


def peer_signals(similarities: np.ndarray, saved: np.ndarray, viewed: np.ndarray, dismissed: np.ndarray) -> np.ndarray:
    """The signal of each peer interaction (one entry per peer company and grant).

    ``(+1·saved − 1·dismissed + 0.25·viewed-only) × similarity``, where viewed-only means viewed but
    neither saved nor dismissed; a peer that saved and dismissed contributes 0. ``similarities`` is the
    cosine similarity between the scored company and the peer, used as given.
    """
    saved = np.asarray(saved, dtype=bool)
    viewed = np.asarray(viewed, dtype=bool)
    dismissed = np.asarray(dismissed, dtype=bool)
    viewed_only = viewed & ~saved & ~dismissed
    weight = (
        PEER_SIGNAL_WEIGHTS["saved"] * saved
        + PEER_SIGNAL_WEIGHTS["dismissed"] * dismissed
        + PEER_SIGNAL_WEIGHTS["viewed"] * viewed_only
    )
    return weight * np.asarray(similarities, dtype=np.float64)


def peer_signal_sum(similarities: np.ndarray, saved: np.ndarray, viewed: np.ndarray, dismissed: np.ndarray) -> float:
    """The summed peer signal of one grant: ``peer_signals(...)`` over its peer interactions, summed."""
    return float(peer_signals(similarities, saved, viewed, dismissed).sum())


def peer_signal_sums(
    grant_index: np.ndarray,
    n_grants: int,
    similarities: np.ndarray,
    saved: np.ndarray,
    viewed: np.ndarray,
    dismissed: np.ndarray,
) -> np.ndarray:
    """Summed peer signal per grant, for interactions of many grants (``grant_index`` = candidate index)."""
    signals = peer_signals(similarities, saved, viewed, dismissed)
    return np.bincount(np.asarray(grant_index, dtype=np.int64), weights=signals, minlength=n_grants)


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity along the last axis, broadcasting (vector vs. matrix rows, or row-wise).

    A zero vector has similarity 0 with everything.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.ndim == 1:
        dot = b @ a
    elif b.ndim == 1:
        dot = a @ b
    else:
        dot = np.einsum("...i,...i->...", a, b)
    denominator = np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1)
    dot, denominator = np.broadcast_arrays(np.asarray(dot), denominator)
    out = np.zeros(dot.shape, dtype=np.float64)
    np.divide(dot, denominator, out=out, where=denominator > 0)
    return out


def score_grants_for_company(company: CompanyProfile, candidates: GrantCandidates) -> GrantScoreTable:
    """Score every candidate grant for one company (see docs/matching.md)."""
    company_nace = tuple(company.nace_codes)
    return _combine(
        country=_per_distinct(candidates.countries, _eligibility_score(company.country)),
        size=_per_distinct(candidates.sizes, _eligibility_score(company.size)),
        nace=_per_distinct(candidates.nace_codes, lambda codes: _nace_score(company_nace, codes)),
        categories=_per_distinct(candidates.carbon_categories, _share_score(company.carbon_categories)),
        certification=_per_distinct(candidates.certifications, _certification_score(company.certifications)),
        taxonomy=_per_distinct(candidates.taxonomy_objectives, _share_score(company.taxonomy_objectives)),
        cosine_similarity=candidates.cosine_similarity,
        peer_signal=candidates.peer_signal,
        days_left=candidates.days_left,
        is_carbon_focused=candidates.is_carbon_focused,
    )


@dataclass(frozen=True)
class GrantProfile:
    """One grant's scoring attributes (the grant side of :class:`GrantCandidates`). Empty sets: unrestricted.

    ``days_left``: whole days until the deadline (NaN = rolling, negative = closed)."""

    id: Any
    countries: frozenset[str] = frozenset()
    nace_codes: tuple[str, ...] = ()
    sizes: frozenset[str] = frozenset()
    carbon_categories: frozenset[str] = frozenset()
    certifications: frozenset[str] = frozenset()
    taxonomy_objectives: frozenset[str] = frozenset()
    is_carbon_focused: bool = False
    days_left: float = math.nan

    def candidates(self, cosine_similarity: float = 0.0, peer_signal: float = 0.0, peers_saved: int = 0):
        """This grant as a one-entry :class:`GrantCandidates` (company-side scoring and explanations)."""
        return GrantCandidates(
            ids=[self.id],
            cosine_similarity=np.array([cosine_similarity]),
            countries=[self.countries],
            nace_codes=[self.nace_codes],
            sizes=[self.sizes],
            carbon_categories=[self.carbon_categories],
            certifications=[self.certifications],
            taxonomy_objectives=[self.taxonomy_objectives],
            is_carbon_focused=np.array([self.is_carbon_focused]),
            days_left=np.array([self.days_left]),
            peer_signal=np.array([peer_signal]),
            peers_saved=np.array([peers_saved]),
        )


@dataclass
class CompanyCandidates:
    """Candidate companies for one grant, column-oriented (the fan-out's mirror of :class:`GrantCandidates`).

    ``cosine_similarity`` is between each company and the grant; ``peer_signal``/``peers_saved`` are each
    company's peer signal on the grant, as :func:`peer_signal_sum` (0 = none)."""

    ids: list[Any]
    cosine_similarity: np.ndarray
    countries: list[str]
    nace_codes: list[tuple[str, ...]]
    sizes: list[str]
    carbon_categories: list[frozenset[str]]
    certifications: list[frozenset[str]]
    taxonomy_objectives: list[frozenset[str]]
    peer_signal: np.ndarray
    peers_saved: np.ndarray

    def __post_init__(self) -> None:
        self.cosine_similarity = np.asarray(self.cosine_similarity, dtype=np.float64)
        self.peer_signal = np.asarray(self.peer_signal, dtype=np.float64)
        self.peers_saved = np.asarray(self.peers_saved, dtype=np.int64)
        _check_columns(self)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_profiles(
        cls,
        ids: Sequence[Any],
        profiles: Sequence[CompanyProfile],
        cosine_similarity: Sequence[float],
        peer_signal: Sequence[float] | None = None,
        peers_saved: Sequence[int] | None = None,
    ) -> CompanyCandidates:
        n = len(profiles)
        return cls(
            ids=list(ids),
            cosine_similarity=np.asarray(cosine_similarity, dtype=np.float64).reshape(n),
            countries=[p.country for p in profiles],
            nace_codes=_interned((p.nace_codes for p in profiles), tuple),
            sizes=[p.size for p in profiles],
            carbon_categories=_interned((p.carbon_categories for p in profiles), frozenset),
            certifications=_interned((p.certifications for p in profiles), frozenset),
            taxonomy_objectives=_interned((p.taxonomy_objectives for p in profiles), frozenset),
            peer_signal=np.zeros(n) if peer_signal is None else np.asarray(peer_signal, dtype=np.float64),
            peers_saved=np.zeros(n, dtype=np.int64) if peers_saved is None else np.asarray(peers_saved),
        )

    def profile(self, index: int) -> CompanyProfile:
        i = int(index)
        return CompanyProfile(
            country=self.countries[i],
            nace_codes=self.nace_codes[i],
            size=self.sizes[i],
            carbon_categories=self.carbon_categories[i],
            certifications=self.certifications[i],
            taxonomy_objectives=self.taxonomy_objectives[i],
        )


def score_companies_for_grant(grant: GrantProfile, companies: CompanyCandidates) -> GrantScoreTable:
    """Score one grant for every candidate company: the same per-rule functions and combination as
    :func:`score_grants_for_company`, evaluated once per distinct company value instead of per grant value.
    Entry ``j`` of the table is exactly what company ``j``'s own scoring gives this grant."""
    n = len(companies)
    grant_nace = tuple(grant.nace_codes)
    return _combine(
        country=_per_distinct(companies.countries, lambda value: _eligibility_score(value)(grant.countries)),
        size=_per_distinct(companies.sizes, lambda value: _eligibility_score(value)(grant.sizes)),
        nace=_per_distinct(companies.nace_codes, lambda codes: _nace_score(codes, grant_nace)),
        categories=_per_distinct(
            companies.carbon_categories, lambda values: _share_score(values)(grant.carbon_categories)
        ),
        certification=_per_distinct(
            companies.certifications, lambda values: _certification_score(values)(grant.certifications)
        ),
        taxonomy=_per_distinct(
            companies.taxonomy_objectives, lambda values: _share_score(values)(grant.taxonomy_objectives)
        ),
        cosine_similarity=companies.cosine_similarity,
        peer_signal=companies.peer_signal,
        days_left=np.full(n, grant.days_left, dtype=np.float64),
        is_carbon_focused=np.full(n, bool(grant.is_carbon_focused), dtype=bool),
    )


def score_table_row(scores: GrantScoreTable, index: int) -> GrantScoreTable:
    """Entry ``index`` of a score table as a one-entry table."""
    i = int(index)
    values = {name: getattr(scores, name)[i : i + 1] for name in _SCORE_TABLE_FIELDS}
    return GrantScoreTable(**values)


def explain_company_matches(
    grant: GrantProfile, companies: CompanyCandidates, scores: GrantScoreTable, indices: Sequence[int]
) -> list[GrantMatchExplanation]:
    """Reasons and breakdown for each of candidate companies ``indices``, in :func:`explain_grant_match`'s own
    wording: the figures computed for all of them at once, each part of the reasons worded once per distinct
    company value (:class:`GrantReasons`)."""
    rows = np.asarray(indices, dtype=np.intp)
    figures = breakdown_figures(scores, rows).tolist()
    bonus = scores.carbon_bonus_applied[rows].tolist()
    picked = rows.tolist()
    reasons = GrantReasons(_unsaved_candidates(grant), 0).reasons_for(
        [companies.countries[i] for i in picked],
        [companies.sizes[i] for i in picked],
        [companies.nace_codes[i] for i in picked],
        [companies.carbon_categories[i] for i in picked],
        [companies.certifications[i] for i in picked],
        [companies.taxonomy_objectives[i] for i in picked],
        closed=scores.closed[rows].tolist(),
        high_semantic=(scores.semantic[rows] >= HIGH_SEMANTIC_SIMILARITY).tolist(),
        peers_saved=companies.peers_saved[rows].tolist(),
        bonus=bonus,
    )
    days_left = _whole_days(grant.days_left)
    return [GrantMatchExplanation(reasons[n], figures[n], bonus[n], days_left) for n in range(len(picked))]


@functools.lru_cache(maxsize=8)
def _unsaved_candidates(grant: GrantProfile) -> GrantCandidates:
    return grant.candidates()


@functools.lru_cache(maxsize=1 << 16)  # a pure function of two short tuples, met again on every scoring
def _nace_score(company_codes: tuple[str, ...], grant_codes: tuple[str, ...]) -> float:
    return best_nace_overlap(company_codes, grant_codes)[0]


def _combine(
    *,
    country: np.ndarray,
    size: np.ndarray,
    nace: np.ndarray,
    categories: np.ndarray,
    certification: np.ndarray,
    taxonomy: np.ndarray,
    cosine_similarity: np.ndarray,
    peer_signal: np.ndarray,
    days_left: np.ndarray,
    is_carbon_focused: np.ndarray,
) -> GrantScoreTable:
    """The components, weighted total, eligibility and carbon bonus from the sub-scores (both directions)."""
    semantic = np.clip(np.nan_to_num(cosine_similarity, nan=0.0), 0.0, 1.0)
    rule = RULE_WEIGHTS["country"] * country + RULE_WEIGHTS["nace"] * nace + RULE_WEIGHTS["size"] * size
    carbon = (
        CARBON_WEIGHTS["categories"] * categories
        + CARBON_WEIGHTS["certification"] * certification
        + CARBON_WEIGHTS["taxonomy"] * taxonomy
    )
    collaborative = collaborative_scores(peer_signal)
    recency = recency_scores(days_left)

    components = {
        "semantic": semantic,
        "rule": rule,
        "carbon": carbon,
        "collaborative": collaborative,
        "recency": recency,
    }
    weighted_total = np.minimum(sum(COMPONENT_WEIGHTS[name] * components[name] for name in components), 1.0)

    # Country and size are 0 exactly when the grant restricts them and the company's value is not listed.
    disqualified = (country == NOT_LISTED_SCORE) | (size == NOT_LISTED_SCORE)
    with np.errstate(invalid="ignore"):
        closed = days_left < 0  # NaN (rolling) compares False
    eligible = ~(disqualified | closed)
    bonus_applied = is_carbon_focused & eligible
    total = np.where(bonus_applied, np.minimum(weighted_total * CARBON_FOCUS_MULTIPLIER, 1.0), weighted_total)
    total = np.where(eligible, total, 0.0)

    return GrantScoreTable(
        **components,
        country=country,
        nace=nace,
        size=size,
        categories=categories,
        certification=certification,
        taxonomy=taxonomy,
        weighted_total=weighted_total,
        carbon_bonus_applied=bonus_applied,
        total=total,
        disqualified=disqualified,
        closed=closed,
    )


_SCORE_TABLE_FIELDS = (
    "semantic",
    "rule",
    "carbon",
    "collaborative",
    "recency",
    "country",
    "nace",
    "size",
    "categories",
    "certification",
    "taxonomy",
    "weighted_total",
    "carbon_bonus_applied",
    "total",
    "disqualified",
    "closed",
)


def rank_grant_matches(scores: GrantScoreTable, *, limit: int | None, min_score: float = 0.0) -> np.ndarray:
    """Indices of eligible grants with ``total >= min_score``, best first (ties by index); up to ``limit``."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    (selected,) = np.nonzero(scores.eligible & (scores.total >= min_score))
    order = np.argsort(-scores.total[selected], kind="stable")
    ranked = selected[order]
    return ranked if limit is None else ranked[:limit]


def _days_phrase(days: int) -> str:
    if days == 0:
        return "Deadline today"
    return f"Deadline in {days} day" + ("" if days == 1 else "s")


def explain_grant_match(
    company: CompanyProfile,
    candidates: GrantCandidates,
    scores: GrantScoreTable,
    index: int,
    score_index: int | None = None,
) -> GrantMatchExplanation:
    """Reasons and breakdown for candidate ``index`` (wording is part of the API; tests pin it). Its scores are
    row ``score_index`` of ``scores`` (default: ``index``)."""
    k = int(index) if score_index is None else int(score_index)
    return GrantMatchExplanation(
        grant_match_reasons(company, candidates, scores, index, k),
        breakdown_figures(scores, [k]).tolist()[0],
        bool(scores.carbon_bonus_applied[k]),
        _whole_days(candidates.days_left[int(index)]),
    )


def explain_grant_matches(
    company: CompanyProfile, candidates: GrantCandidates, scores: GrantScoreTable, indices: Sequence[int]
) -> list[GrantMatchExplanation]:
    """:func:`explain_grant_match` for each of ``indices``, the figures computed for all of them at once."""
    figures = breakdown_figures(scores, indices).tolist()
    return [
        GrantMatchExplanation(
            grant_match_reasons(company, candidates, scores, i, i),
            figures[n],
            bool(scores.carbon_bonus_applied[i]),
            _whole_days(candidates.days_left[i]),
        )
        for n, i in enumerate(int(j) for j in indices)
    ]


def _whole_days(days: float) -> int | None:
    return None if math.isnan(days) else int(days)


def breakdown_figures(scores: GrantScoreTable, indices: Sequence[int]) -> np.ndarray:
    """The breakdown figures of rows ``indices`` of ``scores`` (:func:`figure_rows`, one row each)."""
    rows = np.asarray(indices, dtype=np.intp)
    return figure_rows(
        {name: getattr(scores, name)[rows] for name in COMPONENTS},
        COMPONENT_WEIGHTS,
        {name: getattr(scores, name)[rows] for name in SUB_SCORES},
        scores.weighted_total[rows],
        CARBON_FOCUS_MULTIPLIER,
        scores.total[rows],
    )


def grant_match_reasons(
    company: CompanyProfile, candidates: GrantCandidates, scores: GrantScoreTable, index: int, score_index: int
) -> list[str]:
    """The reasons of candidate ``index`` (scores: row ``score_index``), in the API's wording and order."""
    k = int(score_index)
    return GrantReasons(candidates, index).reasons(
        company,
        bool(scores.closed[k]),
        bool(scores.semantic[k] >= HIGH_SEMANTIC_SIMILARITY),
        int(candidates.peers_saved[int(index)]),
        bool(scores.carbon_bonus_applied[k]),
    )


class GrantReasons:
    """The reasons wording of one grant (candidate ``index``), in parts that each depend on one company value;
    a part is worded once per distinct value, so explaining a grant to 10,000 companies words each country,
    size or NACE list once."""

    def __init__(self, candidates: GrantCandidates, index: int) -> None:
        i = int(index)
        self.countries = candidates.countries[i]
        self.sizes = candidates.sizes[i]
        self.nace_codes = candidates.nace_codes[i]
        self.carbon_categories = candidates.carbon_categories[i]
        self.certifications = _recognised_certifications(candidates.certifications[i])
        self.taxonomy_objectives = candidates.taxonomy_objectives[i]
        days = _whole_days(candidates.days_left[i])
        self.deadline = ["Rolling deadline"] if days is None else [_days_phrase(days)] if days >= 0 else []

    def reasons(
        self, company: CompanyProfile, closed: bool, high_semantic: bool, peers_saved: int, bonus: bool
    ) -> list[str]:
        """The reasons for ``company``, given its scores' flags and how many of its peers saved the grant."""
        return self.reasons_for(
            [company.country],
            [company.size],
            [company.nace_codes],
            [company.carbon_categories],
            [company.certifications],
            [company.taxonomy_objectives],
            closed=[closed],
            high_semantic=[high_semantic],
            peers_saved=[peers_saved],
            bonus=[bonus],
        )[0]

    def reasons_for(
        self,
        countries: Sequence[str],
        sizes: Sequence[str],
        nace_codes: Sequence[tuple[str, ...]],
        carbon_categories: Sequence[frozenset[str]],
        certifications: Sequence[frozenset[str]],
        taxonomy_objectives: Sequence[frozenset[str]],
        *,
        closed: Sequence[bool],
        high_semantic: Sequence[bool],
        peers_saved: Sequence[int],
        bonus: Sequence[bool],
    ) -> list[list[str]]:
        """The reasons of many companies, given as columns (entry ``n`` of each belongs to company ``n``)."""
        parts = zip(
            _worded(zip(countries, sizes, closed, strict=True), self._not_eligible),
            _worded(countries, self._country),
            _worded(nace_codes, self._nace),
            _worded(sizes, self._size),
            _worded(carbon_categories, self._categories),
            _worded(certifications, self._certifications),
            _worded(taxonomy_objectives, self._taxonomy),
            _worded(zip(high_semantic, peers_saved, bonus, strict=True), self._tail),
            strict=True,
        )
        return [[*a, *b, *c, *d, *e, *f, *g, *h] for a, b, c, d, e, f, g, h in parts]

    def _not_eligible(self, value: tuple[str, str, bool]) -> list[str]:
        country, size, closed = value
        reasons = []
        if self.countries and country not in self.countries:
            reasons.append(f"Country not eligible: {country}")
        if self.sizes and size not in self.sizes:
            reasons.append(f"Size not eligible: {size}")
        if closed:
            reasons.append("Deadline passed")
        return reasons

    def _country(self, country: str) -> list[str]:
        if not self.countries:
            return ["Open to all countries"]
        return [f"Country match: {country}"] if country in self.countries else []

    def _nace(self, codes: tuple[str, ...]) -> list[str]:
        if not self.nace_codes:
            return []
        _score, shared_code = best_nace_overlap(codes, self.nace_codes)
        return [] if shared_code is None else [f"NACE code overlap: {shared_code}"]

    def _size(self, size: str) -> list[str]:
        return [f"Size eligible: {size}"] if size in self.sizes else []

    def _categories(self, categories: frozenset[str]) -> list[str]:
        return [f"Carbon category match: {c}" for c in sorted(categories & self.carbon_categories)]

    def _certifications(self, certifications: frozenset[str]) -> list[str]:
        return [f"{c} certification recognized" for c in sorted(certifications & self.certifications)]

    def _taxonomy(self, objectives: frozenset[str]) -> list[str]:
        return [f"EU taxonomy objective: {o}" for o in sorted(objectives & self.taxonomy_objectives)]

    def _tail(self, value: tuple[bool, int, bool]) -> list[str]:
        high_semantic, peers_saved, bonus = value
        reasons = ["High semantic similarity"] if high_semantic else []
        reasons += self.deadline
        if peers_saved > 0:
            reasons.append(f"Saved by {peers_saved} similar compan" + ("y" if peers_saved == 1 else "ies"))
        if bonus:
            reasons.append(f"Carbon-focused grant: {CARBON_FOCUS_MULTIPLIER}× bonus applied")
        return reasons


def _worded(values: Iterable[Hashable], word: Callable[[Any], list[str]]) -> list[list[str]]:
    """``word(value)`` for each of ``values``, computed once per distinct value."""
    memo: dict[Hashable, list[str]] = {}
    worded = []
    for value in values:
        found = memo.get(value)
        if found is None:
            found = memo[value] = word(value)
        worded.append(found)
    return worded


__all__ = [
    "CARBON_FOCUS_MULTIPLIER",
    "COMPONENT_WEIGHTS",
    "CompanyCandidates",
    "CompanyProfile",
    "GrantCandidates",
    "GrantMatchExplanation",
    "GrantProfile",
    "GrantReasons",
    "GrantScoreTable",
    "breakdown_figures",
    "collaborative_scores",
    "cosine_similarity",
    "explain_company_matches",
    "explain_grant_match",
    "explain_grant_matches",
    "grant_match_reasons",
    "peer_signal_sum",
    "peer_signal_sums",
    "peer_signals",
    "rank_grant_matches",
    "recency_scores",
    "score_companies_for_grant",
    "score_grants_for_company",
    "score_table_row",
]


def _check_columns(columns: Any) -> None:
    """Every column (dataclass field) of a column-oriented candidate set has one entry per id."""
    n = len(columns.ids)
    for name in (f.name for f in dataclasses.fields(columns)):
        length = len(getattr(columns, name))
        if length != n:
            raise ValueError(f"{type(columns).__name__}.{name} has {length} entries, expected {n}")
