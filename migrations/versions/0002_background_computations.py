"""Background computations: the PgQueuer job queue and the attempt counter of computations.

The queue's DDL is rendered by the pinned PgQueuer (1.6.0) so its tables, trigger and notify function are
exactly what its worker expects. A later PgQueuer upgrade gets its own migration (``Queries.upgrade``).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from pgqueuer.adapters.persistence.qb import QueryBuilderEnvironment
from sqlalchemy.util import await_

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _execute_script(sql: str) -> None:
    """Run a multi-statement script (PgQueuer's DDL) through the simple query protocol.

    asyncpg prepares every statement it gets with arguments, and a prepared statement holds one command, so the
    script goes straight to the driver connection instead of through ``op.execute``.
    """
    driver_connection = op.get_bind().connection.dbapi_connection.driver_connection
    await_(driver_connection.execute(sql))


def upgrade() -> None:
    _execute_script(QueryBuilderEnvironment().build_install_query(create_schema=False))
    op.add_column("computations", sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")))
    op.create_index("ix_computations_status", "computations", ["status"])


def downgrade() -> None:
    op.drop_index("ix_computations_status", "computations")
    op.drop_column("computations", "attempts")
    _execute_script(QueryBuilderEnvironment().build_uninstall_query())
