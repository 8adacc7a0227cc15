"""Per-organisation belonging weights learned online from recorded outcomes (see docs/matching.md).

A placed match's belonging components x = (authenticity, acceptance, complementarity) and its outcome
(success = ``HIRED``/``RETAINED``, failure = ``NOT_HIRED``/``LEFT_EARLY``; ``WITHDREW`` carries no signal)
train a logistic model ``P(success) = sigmoid(SCALE·(w·x − OFFSET))``. The fit minimises

    mean log-loss + (PRIOR_STRENGTH / m)·‖w − w0‖²,    w0 = DEFAULT_BELONGING_WEIGHTS, m = outcomes,

i.e. the sum of the log-losses plus ``PRIOR_STRENGTH``·‖w − w0‖², divided by m: a Gaussian prior centred
on the defaults that weighs like a fixed number of outcomes, so that few outcomes barely move the weights
and more outcomes move them further. (A pull that stayed fixed next to the *mean* loss would not weaken
with more data.) The fitted weights are projected onto the probability simplex (w ≥ 0, Σw = 1), so the
belonging probability ``w·x`` stays in [0, 1]. Everything is deterministic.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from graphql_app.matching.belonging import DEFAULT_BELONGING_WEIGHTS

SUCCESS_OUTCOMES: frozenset[str] = frozenset({"HIRED", "RETAINED"})
FAILURE_OUTCOMES: frozenset[str] = frozenset({"NOT_HIRED", "LEFT_EARLY"})
IGNORED_OUTCOMES: frozenset[str] = frozenset({"WITHDREW"})

LOGISTIC_SCALE = 8.0  # P(success) = sigmoid(SCALE·(w·x − OFFSET))
LOGISTIC_OFFSET = 0.5
#: Strength of the pull towards the default weights, in the units of one outcome's log-loss (see module doc).
PRIOR_STRENGTH = 50.0
MAX_STEP = 1.0  # largest change of w in one fitting step (keeps steps sane where the model saturates)
CONVERGED_STEP = 1e-12


@dataclass(frozen=True)
class LearnedWeights:
    """An organisation's belonging weights (authenticity, acceptance, complementarity), the model version
    stored on each match scored with them, and how many outcomes they were fitted on."""

    weights: tuple[float, float, float]
    version: int
    samples: int


def outcome_label(outcome: str) -> int | None:
    """1 for a success, 0 for a failure, None for an outcome without signal (``WITHDREW``)."""
    name = str(getattr(outcome, "value", outcome))
    if name in SUCCESS_OUTCOMES:
        return 1
    if name in FAILURE_OUTCOMES:
        return 0
    if name in IGNORED_OUTCOMES:
        return None
    raise ValueError(f"unknown outcome {outcome!r}")


def training_set(components: Sequence[Sequence[float]], outcomes: Iterable[str]) -> tuple[np.ndarray, np.ndarray]:
    """(features (m, 3), labels (m,)) from each match's components and outcome, outcomes without signal dropped."""
    features, labels = [], []
    for x, outcome in zip(components, outcomes, strict=True):
        label = outcome_label(outcome)
        if label is not None:
            features.append(tuple(x))
            labels.append(label)
    return np.array(features, dtype=np.float64).reshape(-1, 3), np.array(labels, dtype=np.float64)


def project_to_simplex(w: np.ndarray) -> np.ndarray:
    """The Euclidean projection of ``w`` onto {v ≥ 0, Σv = 1} (sort-based; Duchi et al. 2008)."""
    w = np.asarray(w, dtype=np.float64)
    u = np.sort(w)[::-1]
    cumulative = np.cumsum(u) - 1.0
    k = np.arange(1, len(w) + 1)
    rho = np.nonzero(u - cumulative / k > 0)[0][-1]
    return np.maximum(w - cumulative[rho] / (rho + 1), 0.0)


def _checked(features: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    x = np.asarray(features, dtype=np.float64).reshape(-1, 3)
    y = np.asarray(labels, dtype=np.float64).ravel()
    if len(x) != len(y):
        raise ValueError(f"{len(x)} feature rows but {len(y)} labels")
    if not np.all(np.isfinite(x)):
        raise ValueError("features must be finite")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("labels must be 0 or 1")
    return x, y


def fit_belonging_weights(
    features: np.ndarray,
    labels: np.ndarray,
    prior: Sequence[float] = DEFAULT_BELONGING_WEIGHTS,
    steps: int = 500,
    lr: float = 0.5,
) -> tuple[float, float, float]:
    """Fitted weights on the simplex; ``prior`` itself when there are no outcomes.

    Descent steps are preconditioned by the exact 3×3 Hessian (damped Newton: ``w -= lr·H⁻¹∇``, at most
    ``MAX_STEP`` long), which converges whatever the curvature — plain gradient steps of a fixed size
    diverge here, since the curvature reaches SCALE²/4·‖x‖² ≈ 48. Stops early once a step is negligible.
    """
    x, y = _checked(features, labels)
    w0 = np.asarray(prior, dtype=np.float64)
    m = len(y)
    if m == 0:
        return tuple(float(v) for v in w0)
    pull = PRIOR_STRENGTH / m
    w = w0.copy()
    for _ in range(steps):
        z = LOGISTIC_SCALE * (x @ w - LOGISTIC_OFFSET)
        p = 0.5 * (1.0 + np.tanh(0.5 * z))  # sigmoid, without overflow
        gradient = LOGISTIC_SCALE * (x.T @ (p - y)) / m + 2.0 * pull * (w - w0)
        curvature = LOGISTIC_SCALE**2 * (x.T * (p * (1.0 - p))) @ x / m + (2.0 * pull + 1e-9) * np.eye(3)
        step = lr * np.linalg.solve(curvature, gradient)
        length = float(np.linalg.norm(step))
        if length > MAX_STEP:
            step *= MAX_STEP / length
        w -= step
        if length < CONVERGED_STEP:
            break
    return tuple(float(v) for v in project_to_simplex(w))


def update_weights(current: LearnedWeights | None, features: np.ndarray, labels: np.ndarray) -> LearnedWeights:
    """Refit on all outcomes so far (``features``/``labels``), one version after ``current`` (None -> 1)."""
    x, y = _checked(features, labels)
    version = 1 if current is None else current.version + 1
    return LearnedWeights(weights=fit_belonging_weights(x, y), version=version, samples=len(y))


def auc(scores: np.ndarray, labels: np.ndarray) -> float:
    """Area under the ROC curve: the chance a random success scores above a random failure (ties count ½);
    NaN without both classes."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    positives, negatives = int(y.sum()), int((~y).sum())
    if positives == 0 or negatives == 0:
        return math.nan
    order = np.argsort(s, kind="stable")
    ordered = s[order]
    boundaries = np.flatnonzero(ordered[1:] != ordered[:-1]) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(s)]))
    ranks = np.empty(len(s))
    ranks[order] = np.repeat((starts + ends + 1) / 2.0, ends - starts)  # 1-based mid-ranks of tie groups
    return float((ranks[y].sum() - positives * (positives + 1) / 2.0) / (positives * negatives))


__all__ = [
    "FAILURE_OUTCOMES",
    "IGNORED_OUTCOMES",
    "LOGISTIC_OFFSET",
    "LOGISTIC_SCALE",
    "PRIOR_STRENGTH",
    "SUCCESS_OUTCOMES",
    "LearnedWeights",
    "auc",
    "fit_belonging_weights",
    "outcome_label",
    "project_to_simplex",
    "training_set",
    "update_weights",
]
