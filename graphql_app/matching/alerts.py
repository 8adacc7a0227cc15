"""Which matches raise a grant alert: a company's alert settings held against a grant and its match score.

Pure rules (docs/alerts.md); the fan-out (graphql_app.services.grant_fanout) applies them to every match it
stores, and the deadline reminders to saved matches.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

#: ``alertMinScore`` of a company that never set one (the column's default in migration 0008).
DEFAULT_ALERT_MIN_SCORE = 0.6

NEW_GRANT, GRANT_CHANGED, DEADLINE_APPROACHING = "NEW_GRANT", "GRANT_CHANGED", "DEADLINE_APPROACHING"
ALERT_REASONS = (NEW_GRANT, GRANT_CHANGED, DEADLINE_APPROACHING)


@dataclass(frozen=True)
class AlertSettings:
    """A company's alert settings. ``min_score`` None switches its alerts off."""

    min_score: float | None = DEFAULT_ALERT_MIN_SCORE
    carbon_focused_only: bool = False
    min_amount: Decimal | float | None = None

    @property
    def enabled(self) -> bool:
        return self.min_score is not None


@dataclass(frozen=True)
class AlertGrant:
    """What the filters read of a grant."""

    is_carbon_focused: bool
    amount_min: Decimal | float | None
    amount_max: Decimal | float | None

    @property
    def largest_award(self) -> Decimal | float | None:
        """The most the grant may award: its maximum, else its minimum; None when it names no amount."""
        return self.amount_max if self.amount_max is not None else self.amount_min


def passes_filters(settings: AlertSettings, grant: AlertGrant) -> bool:
    """The grant passes the company's filters (whatever the score). A grant naming no amount does not pass a
    minimum-amount filter: the company asked for at least that much, and nothing says the grant offers it."""
    if not settings.enabled:
        return False
    if settings.carbon_focused_only and not grant.is_carbon_focused:
        return False
    if settings.min_amount is not None:
        award = grant.largest_award
        if award is None or Decimal(str(award)) < Decimal(str(settings.min_amount)):
            return False
    return True


def raises_alert(settings: AlertSettings, grant: AlertGrant, score: float) -> bool:
    """A match of ``score`` on ``grant`` raises an alert for a company with ``settings``."""
    return passes_filters(settings, grant) and score >= settings.min_score  # type: ignore[operator]
