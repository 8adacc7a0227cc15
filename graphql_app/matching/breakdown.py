"""A grant match's score breakdown: stored as a flat row of figures, rendered as the API's JSON object.

The breakdown (``GrantMatch.scoreBreakdown``, docs/matching.md) holds 24 numbers, one flag and the days left
when it was scored. A stored match keeps the numbers as one ``float8[]`` in the order of :data:`FIGURES`, the
flag and the days as two columns; :data:`SHAPE` says where each goes in the JSON object. Both renderings, the
resolvers' (:func:`render_breakdown`) and the compiled plans' SQL (``graphql_app.compiled.grant_fields``), walk
:data:`SHAPE`, so they cannot disagree on the layout. An empty row of figures renders as ``{}`` (matches
stored without a breakdown).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

#: The weighted components of a grant match's score, in the breakdown's order.
COMPONENTS = ("semantic", "rule", "carbon", "collaborative", "recency")
#: The sub-scores the rule and carbon components are made of, in the breakdown's order.
SUB_SCORES = ("country", "nace", "size", "categories", "certification", "taxonomy")
#: Per component: its score, its weight, its contribution (weight × score).
COMPONENT_FIGURES = ("score", "weight", "contribution")
#: The figures of one breakdown, in their stored order: ``(kind, name)``.
FIGURES: tuple[tuple[str, str], ...] = (
    *((part, name) for name in COMPONENTS for part in COMPONENT_FIGURES),
    *(("subScore", name) for name in SUB_SCORES),
    ("weightedTotal", ""),
    ("carbonBonusMultiplier", ""),
    ("total", ""),
)
FIGURE_COUNT = len(FIGURES)


@dataclass(frozen=True)
class StoredValue:
    """A leaf of :data:`SHAPE` read from a column of its own, not from the figures."""

    column: str


CARBON_BONUS_APPLIED = StoredValue("carbon_bonus_applied")
DAYS_LEFT = StoredValue("days_left_at_scoring")


def _figure(kind: str, name: str = "") -> int:
    return FIGURES.index((kind, name))


#: The JSON object: each leaf is a position in the figures or a :class:`StoredValue`.
SHAPE: dict[str, Any] = {
    "components": {name: {part: _figure(part, name) for part in COMPONENT_FIGURES} for name in COMPONENTS},
    "subScores": {name: _figure("subScore", name) for name in SUB_SCORES},
    "weightedTotal": _figure("weightedTotal"),
    "carbonBonusApplied": CARBON_BONUS_APPLIED,
    "carbonBonusMultiplier": _figure("carbonBonusMultiplier"),
    "total": _figure("total"),
    "daysLeft": DAYS_LEFT,
}

#: Decimal places every figure is rounded to.
FIGURE_DECIMALS = 6


def figure_rows(
    components: Mapping[str, np.ndarray],
    weights: Mapping[str, float],
    sub_scores: Mapping[str, np.ndarray],
    weighted_total: np.ndarray,
    multiplier: float,
    total: np.ndarray,
) -> np.ndarray:
    """The figures of n matches, one row each in :data:`FIGURES` order, rounded to :data:`FIGURE_DECIMALS`
    places (numpy's rounding, the same for one match and for many), from columns of n values: each component's
    score (by name), the sub-scores (by name), the weighted total and the total."""
    n = len(total)
    column = {
        "score": lambda name: components[name],
        "weight": lambda name: np.full(n, weights[name]),
        "contribution": lambda name: weights[name] * components[name],
        "subScore": lambda name: sub_scores[name],
        "weightedTotal": lambda _: weighted_total,
        "carbonBonusMultiplier": lambda _: np.full(n, multiplier),
        "total": lambda _: total,
    }
    if n == 0:
        return np.empty((0, FIGURE_COUNT))
    figures = np.column_stack([column[kind](name) for kind, name in FIGURES]).astype(np.float64, copy=False)
    return np.round(figures, FIGURE_DECIMALS)


def render_breakdown(
    figures: Sequence[float], carbon_bonus_applied: bool, days_left_at_scoring: int | None
) -> dict[str, Any]:
    """The breakdown's JSON object from its stored parts (``{}`` when there are no figures)."""
    if not figures:
        return {}
    stored = {CARBON_BONUS_APPLIED.column: carbon_bonus_applied, DAYS_LEFT.column: days_left_at_scoring}

    def fill(node: Mapping[str, Any]) -> dict[str, Any]:
        return {
            key: fill(leaf)
            if isinstance(leaf, Mapping)
            else stored[leaf.column]
            if isinstance(leaf, StoredValue)
            else figures[leaf]
            for key, leaf in node.items()
        }

    return fill(SHAPE)


__all__ = [
    "COMPONENTS",
    "FIGURES",
    "FIGURE_COUNT",
    "FIGURE_DECIMALS",
    "SHAPE",
    "SUB_SCORES",
    "StoredValue",
    "figure_rows",
    "render_breakdown",
]
