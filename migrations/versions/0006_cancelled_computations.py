"""Computations can be CANCELLED (by an operator: `matchgraph computations cancel`).

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE computations DROP CONSTRAINT ck_computations_status")
    op.execute(
        "ALTER TABLE computations ADD CONSTRAINT ck_computations_status "
        "CHECK (status IN ('QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED'))"
    )


def downgrade() -> None:
    op.execute("UPDATE computations SET status = 'FAILED', error = 'Cancelled.' WHERE status = 'CANCELLED'")
    op.execute("ALTER TABLE computations DROP CONSTRAINT ck_computations_status")
    op.execute(
        "ALTER TABLE computations ADD CONSTRAINT ck_computations_status "
        "CHECK (status IN ('QUEUED','RUNNING','SUCCEEDED','FAILED'))"
    )
