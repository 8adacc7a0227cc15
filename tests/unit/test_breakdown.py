"""The stored form of a grant match's score breakdown: figures in a fixed order, rendered back to the API's object."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from graphql_app.matching.breakdown import (
    COMPONENTS,
    FIGURE_COUNT,
    FIGURES,
    SHAPE,
    SUB_SCORES,
    StoredValue,
    render_breakdown,
)
from graphql_app.matching.grants import (
    CARBON_FOCUS_MULTIPLIER,
    COMPONENT_WEIGHTS,
    explain_grant_match,
    explain_grant_matches,
    score_grants_for_company,
)
from tests.unit.test_grant_scoring import _companies, _grants, candidates


def _leaves(node):
    for value in node.values():
        if isinstance(value, dict):
            yield from _leaves(value)
        else:
            yield value


def test_the_shape_places_every_figure_once_and_the_two_stored_values():
    leaves = list(_leaves(SHAPE))
    figures = sorted(leaf for leaf in leaves if isinstance(leaf, int))
    assert figures == list(range(FIGURE_COUNT)) == list(range(len(FIGURES)))
    assert {leaf.column for leaf in leaves if isinstance(leaf, StoredValue)} == {
        "carbon_bonus_applied",
        "days_left_at_scoring",
    }
    assert tuple(COMPONENT_WEIGHTS) == COMPONENTS
    assert tuple(SHAPE["subScores"]) == SUB_SCORES


def test_a_match_stored_without_figures_renders_an_empty_object():
    assert render_breakdown([], False, None) == {}


@settings(max_examples=150, deadline=None)
@given(company=_companies, grants=st.lists(_grants, min_size=1, max_size=12))
def test_figures_render_the_breakdown_of_every_match(company, grants):
    cands = candidates(*grants)
    table = score_grants_for_company(company, cands)
    together = explain_grant_matches(company, cands, table, range(len(grants)))
    assert together == [explain_grant_match(company, cands, table, i) for i in range(len(grants))]
    for i, explanation in enumerate(together):
        assert len(explanation.figures) == FIGURE_COUNT
        assert all(math.isfinite(f) for f in explanation.figures)
        breakdown = explanation.breakdown
        assert json.loads(json.dumps(breakdown)) == breakdown
        for name, weight in COMPONENT_WEIGHTS.items():
            score = getattr(table, name)[i]
            assert breakdown["components"][name] == {
                "score": float(np.round(score, 6)),
                "weight": weight,
                "contribution": float(np.round(weight * score, 6)),
            }
        assert breakdown["subScores"] == {name: float(np.round(getattr(table, name)[i], 6)) for name in SUB_SCORES}
        assert breakdown["weightedTotal"] == float(np.round(table.weighted_total[i], 6))
        assert breakdown["total"] == float(np.round(table.total[i], 6))
        assert breakdown["carbonBonusApplied"] is bool(table.carbon_bonus_applied[i])
        assert breakdown["carbonBonusMultiplier"] == CARBON_FOCUS_MULTIPLIER
        days = grants[i]["days_left"]
        assert breakdown["daysLeft"] == days
        # What a stored match keeps renders the same object.
        assert render_breakdown(explanation.figures, explanation.carbon_bonus_applied, days) == breakdown
