"""Staged vectors of `matchgraph reembed`: computed with the new model while the old ones serve, swapped in one
transaction. A row per embedded row; the hash of the text it was computed from finds rows changed meanwhile.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import pgvector.sqlalchemy
import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "embedding_staging",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("row_id", sa.UUID(), nullable=False),
        sa.Column("model_id", sa.Text(), nullable=False),
        sa.Column("text_hash", sa.Text(), nullable=False),
        sa.Column("embedding", pgvector.sqlalchemy.vector.VECTOR(), nullable=True),
        sa.PrimaryKeyConstraint("source", "row_id"),
    )


def downgrade() -> None:
    op.drop_table("embedding_staging")
