"""Belonging scores of members for a job (see docs/matching.md): one job against many members, vectorised with numpy.

The SQL layer loads the job's side into a ``JobProfile`` and the candidate members column-wise into a
``MemberCohort``; ``score_members_for_job`` scores them all at once and ``rank_members`` orders them.
Components are in [0, 1]; a part whose inputs are missing scores 0.5. Skills and values compare
case-insensitively (lower-cased, stripped). A cohort indexes its members' skills and values once
(``TermIncidence``), so scoring a job is a handful of numpy passes whatever the cohort size; the cohort does
not depend on the job and may be reused for several jobs.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from operator import itemgetter
from typing import Any

import numpy as np

from graphql_app.matching.traits import TRAIT_INDEX, WORK_STYLE_TRAITS

#: probability = 0.40·authenticity + 0.35·acceptance + 0.25·complementarity (until weights are learned).
DEFAULT_BELONGING_WEIGHTS: tuple[float, float, float] = (0.40, 0.35, 0.25)
BELONGING_COMPONENTS: tuple[str, str, str] = ("authenticity", "acceptance", "complementarity")

#: authenticity = 0.5·values + 0.5·culture
AUTHENTICITY_WEIGHTS: dict[str, float] = {"values": 0.5, "culture": 0.5}
#: complementarity = 0.6·coverage + 0.4·gap fill (coverage alone where the team misses no required skill)
COMPLEMENTARITY_WEIGHTS: dict[str, float] = {"coverage": 0.6, "gap_fill": 0.4}

MISSING_INPUT_SCORE = 0.5  # any part whose inputs are missing
TOLERANCE_EPSILON = 1e-9  # a team tolerance of 0 (or less): any difference is a full deviation
THRESHOLD_SLACK = 1e-9  # tiers/levels: 0.65 computed as 0.6499999999 still counts as 0.65

#: Quality tier of a belonging probability: the first whose threshold is reached, else DEVELOPING.
QUALITY_TIER_THRESHOLDS: tuple[tuple[str, float], ...] = (("EXCEPTIONAL", 0.80), ("STRONG", 0.65), ("MODERATE", 0.50))
#: Level of one component: the first whose threshold is reached, else DEVELOPING.
COMPONENT_LEVEL_THRESHOLDS: tuple[tuple[str, float], ...] = (("HIGH", 0.80), ("STRONG", 0.65), ("MODERATE", 0.50))
LOWEST_TIER = "DEVELOPING"


def normalise_term(term: str) -> str:
    """Skills and values compare case-insensitively: lower-cased and stripped."""
    return str(term).strip().lower()


def _normalised_set(terms: Iterable[str] | None) -> frozenset[str]:
    return frozenset(t for t in map(normalise_term, terms or ()) if t)


@dataclass(frozen=True)
class JobProfile:
    """What belonging scoring needs to know about a job, its organisation and its team.

    ``required_skills`` maps skill -> weight (> 0); ``team_trait_norms`` maps trait -> (mean, tolerance);
    norms for traits outside ``WORK_STYLE_TRAITS`` or with a non-finite mean are ignored. Skills and values
    are normalised on construction; a zero ``culture_embedding`` counts as missing.
    """

    required_skills: dict[str, float] = field(default_factory=dict)
    desired_traits: dict[str, float] = field(default_factory=dict)
    org_values: frozenset[str] = frozenset()
    culture_embedding: np.ndarray | None = None
    team_trait_norms: dict[str, tuple[float, float]] = field(default_factory=dict)
    team_skills: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        skills: dict[str, float] = {}
        for skill, weight in (self.required_skills or {}).items():
            weight = float(weight)
            if not (math.isfinite(weight) and weight > 0):
                raise ValueError(f"required skill {skill!r} has weight {weight}; weights must be > 0")
            name = normalise_term(skill)
            if name:
                skills[name] = max(weight, skills.get(name, 0.0))  # "Python" and "python": the larger weight
        object.__setattr__(self, "required_skills", skills)
        object.__setattr__(self, "desired_traits", {t: float(v) for t, v in (self.desired_traits or {}).items()})
        object.__setattr__(self, "org_values", _normalised_set(self.org_values))
        object.__setattr__(self, "team_skills", _normalised_set(self.team_skills))
        norms = {t: (float(mean), float(tolerance)) for t, (mean, tolerance) in (self.team_trait_norms or {}).items()}
        object.__setattr__(self, "team_trait_norms", norms)
        if self.culture_embedding is not None:
            culture = np.asarray(self.culture_embedding, dtype=np.float32).ravel()
            object.__setattr__(self, "culture_embedding", culture if np.any(culture) else None)


class _TermIds(dict):
    """Raw term -> id of its normalised form in ``vocabulary`` (-1 for a blank term); one call per raw term."""

    def __init__(self) -> None:
        super().__init__()
        self.vocabulary: dict[str, int] = {}

    def __missing__(self, raw: str) -> int:
        term = normalise_term(raw)
        term_id = self[raw] = self.vocabulary.setdefault(term, len(self.vocabulary)) if term else -1
        return term_id


@dataclass(frozen=True)
class TermIncidence:
    """Which normalised terms (skills or values) each member has, as sorted, distinct (member, term) pairs.

    Built once per cohort, it lets one job be scored with ``np.bincount`` instead of per-member set logic.
    """

    vocabulary: dict[str, int]  # normalised term -> id
    members: np.ndarray  # member index of each pair (ascending)
    terms: np.ndarray  # term id of each pair
    counts: np.ndarray  # distinct terms per member

    @classmethod
    def build(cls, sets: Sequence[Iterable[str] | str | None]) -> TermIncidence:
        """From one collection of raw terms per member (None = none; a lone string is one term)."""
        sets = [() if s is None else (s,) if isinstance(s, str) else s for s in sets]
        n = len(sets)
        lengths = np.fromiter(map(len, sets), dtype=np.int64, count=n)
        ids = _TermIds()
        flat = list(chain.from_iterable(sets))
        term_ids = np.fromiter(map(ids.__getitem__, flat), dtype=np.int64, count=len(flat))
        members = np.repeat(np.arange(n, dtype=np.int64), lengths)
        size = max(len(ids.vocabulary), 1)
        # Pairs arrive grouped by member, so a stable (run-aware) sort is cheap; equal neighbours are duplicates.
        keys = np.sort((members * size + term_ids)[term_ids >= 0], kind="stable")
        keys = keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
        members, terms = np.divmod(keys, size)
        return cls(ids.vocabulary, members, terms, np.bincount(members, minlength=n))

    def __len__(self) -> int:
        return len(self.counts)

    def indicator(self, weights: Mapping[str, float]) -> np.ndarray:
        """A per-term vector: ``weights[term]`` for known (normalised) terms, 0 elsewhere."""
        vector = np.zeros(len(self.vocabulary))
        for term, weight in weights.items():
            term_id = self.vocabulary.get(term)
            if term_id is not None:
                vector[term_id] = weight
        return vector

    def member_sums(self, weights: Mapping[str, float]) -> np.ndarray:
        """Per member, the summed ``weights`` of the terms they have (normalised terms as keys)."""
        if not len(self.terms):
            return np.zeros(len(self))
        return np.bincount(self.members, weights=self.indicator(weights)[self.terms], minlength=len(self))


@dataclass
class MemberCohort:
    """Candidate members, column-oriented: entry ``i`` of every field belongs to the same member.

    ``values``/``skills`` are each member's raw terms (frozensets or any iterables; compared lower-cased and
    stripped via ``value_terms``/``skill_terms``, built on construction). ``traits`` has one column per
    ``WORK_STYLE_TRAITS`` entry (NaN = no value). ``bio_embeddings`` holds one unit-norm row per member (zeros
    where missing) or is None when nobody has one; ``has_bio`` defaults to "row is not zero".

    ``culture_similarity``, when given, is cosine(bio, culture statement) per member precomputed (e.g. by
    pgvector in SQL; NaN = either embedding missing): it then replaces ``bio_embeddings`` for the culture part,
    which spares loading every member's vector.
    """

    ids: list[Any]
    values: Sequence[Iterable[str]]
    skills: Sequence[Iterable[str]]
    traits: np.ndarray
    bio_embeddings: np.ndarray | None = None
    has_bio: np.ndarray | None = None
    culture_similarity: np.ndarray | None = None
    value_terms: TermIncidence = field(init=False, repr=False)
    skill_terms: TermIncidence = field(init=False, repr=False)

    def __post_init__(self) -> None:
        n = len(self.ids)
        traits = np.asarray(self.traits, dtype=np.float64)
        if traits.size == 0:
            traits = traits.reshape(0, len(WORK_STYLE_TRAITS))
        if traits.shape != (n, len(WORK_STYLE_TRAITS)):
            raise ValueError(f"MemberCohort.traits has shape {traits.shape}, expected ({n}, {len(WORK_STYLE_TRAITS)})")
        self.traits = traits
        if self.bio_embeddings is not None:
            bios = np.asarray(self.bio_embeddings, dtype=np.float32)
            if bios.ndim != 2 or bios.shape[0] != n:
                raise ValueError(f"MemberCohort.bio_embeddings has shape {bios.shape}, expected ({n}, d)")
            self.bio_embeddings = bios
        if self.has_bio is None:
            self.has_bio = np.zeros(n, dtype=bool) if self.bio_embeddings is None else self.bio_embeddings.any(axis=1)
        self.has_bio = np.asarray(self.has_bio, dtype=bool)
        if self.culture_similarity is not None:
            self.culture_similarity = np.asarray(self.culture_similarity, dtype=np.float64).ravel()
        for name in ("values", "skills", "has_bio", "culture_similarity"):
            length = n if getattr(self, name) is None else len(getattr(self, name))
            if length != n:
                raise ValueError(f"MemberCohort.{name} has {length} entries, expected {n}")
        self.value_terms = TermIncidence.build(self.values)
        self.skill_terms = TermIncidence.build(self.skills)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def from_members(cls, rows: Iterable[Mapping[str, Any]]) -> MemberCohort:
        """Build from per-member mappings with keys ``id``, ``values``, ``skills``, ``traits`` and
        ``bio_embedding`` (unit-norm vector or None) or ``culture_similarity`` (float or None, see the class);
        missing keys mean empty/None. ``traits`` is a mapping trait -> value (None = no value; unknown traits
        ignored) or a sequence of values in ``WORK_STYLE_TRAITS`` order (faster when SQL selects it so)."""
        n_traits = len(WORK_STYLE_TRAITS)
        no_traits = (None,) * n_traits
        all_traits = itemgetter(*WORK_STYLE_TRAITS)

        def trait_row(traits: Mapping[str, float] | Sequence[float | None] | None) -> Sequence[float | None]:
            if traits is None or len(traits) == 0:
                return no_traits
            kind = type(traits)
            if kind is not dict and (kind is list or kind is tuple or not isinstance(traits, Mapping)):
                if len(traits) != n_traits:
                    raise ValueError(f"a trait sequence needs {n_traits} values, got {len(traits)}")
                return traits
            if len(traits) >= n_traits:
                try:
                    return all_traits(traits)  # fast path: a complete profile
                except KeyError:
                    pass
            return tuple(map(traits.get, WORK_STYLE_TRAITS))

        ids, values, skills, trait_rows, bios, similarities = [], [], [], [], [], []
        for row in rows:  # one pass: each row is touched once (cheaper than a pass per column)
            get = row.get
            ids.append(get("id"))
            values.append(get("values"))
            skills.append(get("skills"))
            trait_rows.append(trait_row(get("traits")))
            bios.append(get("bio_embedding"))
            similarities.append(get("culture_similarity"))
        n = len(ids)
        traits = np.array(trait_rows, dtype=np.float64).reshape(n, len(WORK_STYLE_TRAITS))  # None -> NaN
        has_bio = np.array([bio is not None for bio in bios], dtype=bool)
        bio_embeddings = None
        if has_bio.any():
            first = np.asarray(bios[int(np.argmax(has_bio))], dtype=np.float32).ravel()
            zero = np.zeros_like(first)
            bio_embeddings = np.empty((n, first.shape[0]), dtype=np.float32)
            np.stack([zero if bio is None else bio for bio in bios], out=bio_embeddings)
        culture_similarity = None
        if any(similarity is not None for similarity in similarities):
            culture_similarity = np.array(similarities, dtype=np.float64)  # None -> NaN
        return cls(
            ids=ids,
            values=values,
            skills=skills,
            traits=traits,
            bio_embeddings=bio_embeddings,
            has_bio=has_bio,
            culture_similarity=culture_similarity,
        )


@dataclass
class BelongingScores:
    """Belonging components, probability and sub-scores, aligned with the cohort.

    ``gap_fill`` is 0.5 where it does not apply (no required skills, or the team misses none of them).
    """

    authenticity: np.ndarray
    acceptance: np.ndarray
    complementarity: np.ndarray
    probability: np.ndarray
    values: np.ndarray
    culture: np.ndarray
    coverage: np.ndarray
    gap_fill: np.ndarray

    def __len__(self) -> int:
        return len(self.probability)


def values_scores(org_values: frozenset[str], member_values: TermIncidence) -> np.ndarray:
    """Jaccard overlap of each member's values with the organisation's (0.5 where either set is empty)."""
    n = len(member_values)
    if not org_values:
        return np.full(n, MISSING_INPUT_SCORE)
    shared = member_values.member_sums(dict.fromkeys(org_values, 1.0))
    union = member_values.counts + len(org_values) - shared
    return np.where(member_values.counts > 0, shared / np.maximum(union, 1), MISSING_INPUT_SCORE)


def culture_scores(
    culture_embedding: np.ndarray | None, bio_embeddings: np.ndarray | None, has_bio: np.ndarray
) -> np.ndarray:
    """``max(0, cosine(bio, culture statement))`` per member; 0.5 where either embedding is missing.

    Bio embeddings are unit-norm (the contract), so the cosine is a dot product with the normalised culture
    embedding; it is clipped to [0, 1].
    """
    n = len(has_bio)
    if culture_embedding is None or bio_embeddings is None or n == 0:
        return np.full(n, MISSING_INPUT_SCORE)
    culture = np.asarray(culture_embedding, dtype=np.float32).ravel()
    if bio_embeddings.shape[1] != culture.shape[0]:
        raise ValueError(f"bio embeddings have {bio_embeddings.shape[1]} dimensions, culture {culture.shape[0]}")
    norm = float(np.linalg.norm(culture.astype(np.float64)))
    if norm == 0:
        return np.full(n, MISSING_INPUT_SCORE)
    cosine = (bio_embeddings @ (culture / np.float32(norm))).astype(np.float64)
    return np.where(has_bio, np.clip(cosine, 0.0, 1.0), MISSING_INPUT_SCORE)


def acceptance_scores(team_trait_norms: Mapping[str, tuple[float, float]], traits: np.ndarray) -> np.ndarray:
    """``1 − mean of min(1, |member − mean| / (2·tolerance))`` over the traits with a team norm and a member
    value; 0.5 where there is no such trait."""
    traits = np.asarray(traits, dtype=np.float64)
    n = traits.shape[0]
    norms = [
        (TRAIT_INDEX[trait], mean, tolerance)
        for trait, (mean, tolerance) in team_trait_norms.items()
        if trait in TRAIT_INDEX and math.isfinite(mean) and not math.isnan(tolerance)
    ]
    if not norms or n == 0:
        return np.full(n, MISSING_INPUT_SCORE)
    columns, means, tolerances = (np.array(part) for part in zip(*norms, strict=True))
    half_width = 2.0 * np.maximum(tolerances.astype(np.float64), TOLERANCE_EPSILON)
    deviation = np.minimum(np.abs(traits[:, columns] - means) / half_width, 1.0)  # NaN where no value
    counted = ~np.isnan(deviation)
    count = counted.sum(axis=1)
    total = np.where(counted, deviation, 0.0).sum(axis=1)
    mean_deviation = np.divide(total, count, out=np.zeros(n), where=count > 0)
    return np.where(count > 0, 1.0 - mean_deviation, MISSING_INPUT_SCORE)


def skill_scores(
    required_skills: Mapping[str, float], team_skills: frozenset[str], member_skills: TermIncidence
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(coverage, gap fill, complementarity) per member; all 0.5 when the job requires no skills.

    ``required_skills``/``team_skills`` must be normalised (``JobProfile`` does it).
    """
    n = len(member_skills)
    if not required_skills:
        missing_input = np.full(n, MISSING_INPUT_SCORE)
        return missing_input, missing_input.copy(), missing_input.copy()
    coverage = np.clip(member_skills.member_sums(required_skills) / sum(required_skills.values()), 0.0, 1.0)
    missing = [skill for skill in required_skills if skill not in team_skills]
    if not missing:
        return coverage, np.full(n, MISSING_INPUT_SCORE), coverage.copy()
    gap_fill = np.clip(member_skills.member_sums(dict.fromkeys(missing, 1.0)) / len(missing), 0.0, 1.0)
    complementarity = COMPLEMENTARITY_WEIGHTS["coverage"] * coverage + COMPLEMENTARITY_WEIGHTS["gap_fill"] * gap_fill
    return coverage, gap_fill, complementarity


def _checked_weights(weights: Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=np.float64)
    if w.shape != (3,) or not np.all(np.isfinite(w)) or np.any(w < 0) or not math.isclose(w.sum(), 1.0, abs_tol=1e-6):
        raise ValueError(f"belonging weights must be 3 non-negative numbers summing to 1, got {tuple(weights)}")
    return w


def score_members_for_job(
    job: JobProfile, cohort: MemberCohort, weights: Sequence[float] = DEFAULT_BELONGING_WEIGHTS
) -> BelongingScores:
    """Score every member of the cohort for one job (see docs/matching.md); ``weights`` = (authenticity, acceptance,
    complementarity), the defaults or an organisation's learned ones (non-negative, summing to 1)."""
    w = _checked_weights(weights)
    values = values_scores(job.org_values, cohort.value_terms)
    if cohort.culture_similarity is not None:
        similarity = cohort.culture_similarity
        culture = np.where(np.isnan(similarity), MISSING_INPUT_SCORE, np.clip(similarity, 0.0, 1.0))
    else:
        culture = culture_scores(job.culture_embedding, cohort.bio_embeddings, cohort.has_bio)
    authenticity = AUTHENTICITY_WEIGHTS["values"] * values + AUTHENTICITY_WEIGHTS["culture"] * culture
    acceptance = acceptance_scores(job.team_trait_norms, cohort.traits)
    coverage, gap_fill, complementarity = skill_scores(job.required_skills, job.team_skills, cohort.skill_terms)
    probability = np.clip(w[0] * authenticity + w[1] * acceptance + w[2] * complementarity, 0.0, 1.0)
    return BelongingScores(
        authenticity=authenticity,
        acceptance=acceptance,
        complementarity=complementarity,
        probability=probability,
        values=values,
        culture=culture,
        coverage=coverage,
        gap_fill=gap_fill,
    )


def rank_members(scores: BelongingScores, limit: int | None = None) -> np.ndarray:
    """Member indices by belonging probability, best first (ties by index); up to ``limit``."""
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0, got {limit}")
    order = np.argsort(-np.asarray(scores.probability, dtype=np.float64), kind="stable")
    return order if limit is None else order[:limit]


def _banded(value: float, thresholds: tuple[tuple[str, float], ...]) -> str:
    for name, threshold in thresholds:
        if value >= threshold - THRESHOLD_SLACK:
            return name
    return LOWEST_TIER


def quality_tier(probability: float) -> str:
    """``EXCEPTIONAL`` ≥ 0.80, ``STRONG`` ≥ 0.65, ``MODERATE`` ≥ 0.50, else ``DEVELOPING``."""
    return _banded(float(probability), QUALITY_TIER_THRESHOLDS)


def component_level(score: float) -> str:
    """``HIGH`` ≥ 0.80, ``STRONG`` ≥ 0.65, ``MODERATE`` ≥ 0.50, else ``DEVELOPING``."""
    return _banded(float(score), COMPONENT_LEVEL_THRESHOLDS)


__all__ = [
    "AUTHENTICITY_WEIGHTS",
    "BELONGING_COMPONENTS",
    "COMPLEMENTARITY_WEIGHTS",
    "COMPONENT_LEVEL_THRESHOLDS",
    "DEFAULT_BELONGING_WEIGHTS",
    "MISSING_INPUT_SCORE",
    "QUALITY_TIER_THRESHOLDS",
    "BelongingScores",
    "JobProfile",
    "MemberCohort",
    "TermIncidence",
    "acceptance_scores",
    "component_level",
    "culture_scores",
    "normalise_term",
    "quality_tier",
    "rank_members",
    "score_members_for_job",
    "skill_scores",
    "values_scores",
]
