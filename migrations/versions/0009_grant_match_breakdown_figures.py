"""Grant matches keep their score breakdown as figures: a float8[] plus two columns instead of a JSON document.

The breakdown's 24 numbers travel as one array in a fixed order (graphql_app.matching.breakdown.FIGURES; the
order is repeated below, as it stood at this revision), the carbon-bonus flag and the days left at scoring as
columns of their own; the API renders the same JSON object from them. A stored row shrinks from ~1 kB to
~0.4 kB, which is most of what writing a grant's matches to 10,000 companies costs.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_COMPONENTS = ("semantic", "rule", "carbon", "collaborative", "recency")
_SUB_SCORES = ("country", "nace", "size", "categories", "certification", "taxonomy")
#: JSON paths of the figures, in their stored order.
_PATHS = (
    *(("components", name, part) for name in _COMPONENTS for part in ("score", "weight", "contribution")),
    *(("subScores", name) for name in _SUB_SCORES),
    ("weightedTotal",),
    ("carbonBonusMultiplier",),
    ("total",),
)


def _nested_object(paths_to_sql: dict[tuple[str, ...], str]) -> str:
    """jsonb_build_object of nested paths, in the paths' order."""
    tree: dict = {}
    for path, expression in paths_to_sql.items():
        node = tree
        for key in path[:-1]:
            node = node.setdefault(key, {})
        node[path[-1]] = expression

    def build(node: dict) -> str:
        parts = [f"'{key}', {build(value) if isinstance(value, dict) else value}" for key, value in node.items()]
        return "jsonb_build_object(" + ", ".join(parts) + ")"

    return build(tree)


def upgrade() -> None:
    op.add_column(
        "grant_matches",
        sa.Column(
            "breakdown_figures",
            postgresql.ARRAY(sa.Float()),
            server_default=sa.text("'{}'::float8[]"),
            nullable=False,
        ),
    )
    op.add_column(
        "grant_matches",
        sa.Column("carbon_bonus_applied", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("grant_matches", sa.Column("days_left_at_scoring", sa.Integer()))
    figures = ", ".join(f"(score_breakdown #>> '{{{','.join(path)}}}')::float8" for path in _PATHS)
    op.execute(
        f"""
        UPDATE grant_matches SET
            breakdown_figures = ARRAY[{figures}],
            carbon_bonus_applied = coalesce((score_breakdown ->> 'carbonBonusApplied')::boolean, false),
            days_left_at_scoring = (score_breakdown ->> 'daysLeft')::integer
        WHERE score_breakdown ? 'components'
        """
    )
    op.create_check_constraint(
        "ck_grant_matches_breakdown_figures", "grant_matches", f"cardinality(breakdown_figures) IN (0, {len(_PATHS)})"
    )
    op.drop_column("grant_matches", "score_breakdown")


def downgrade() -> None:
    op.add_column(
        "grant_matches",
        sa.Column("score_breakdown", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False),
    )
    paths = {path: f"breakdown_figures[{n}]" for n, path in enumerate(_PATHS, start=1)}
    paths[("carbonBonusApplied",)] = "carbon_bonus_applied"
    paths[("daysLeft",)] = "days_left_at_scoring"
    op.execute(
        f"UPDATE grant_matches SET score_breakdown = {_nested_object(paths)} WHERE cardinality(breakdown_figures) > 0"
    )
    op.drop_constraint("ck_grant_matches_breakdown_figures", "grant_matches")
    op.drop_column("grant_matches", "days_left_at_scoring")
    op.drop_column("grant_matches", "carbon_bonus_applied")
    op.drop_column("grant_matches", "breakdown_figures")
