"""Grant matching: companies, grants, grant matches, computations, embedding model registry.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op
from pgvector.sqlalchemy import Vector
from sqlalchemy.dialects import postgresql as pg

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

DIM = 384


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(
        name,
        sa.DateTime(timezone=True),
        nullable=nullable,
        server_default=None if nullable else sa.func.now(),
    )


def _arr(name: str) -> sa.Column:
    return sa.Column(name, pg.ARRAY(sa.Text), nullable=False, server_default=sa.text("'{}'"))


def _pk() -> sa.Column:
    return sa.Column("id", pg.UUID(as_uuid=True), primary_key=True, server_default=sa.text("gen_random_uuid()"))


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS vector")
    op.create_table(
        "embedding_models",
        sa.Column("model_id", sa.Text, primary_key=True),
        sa.Column("dimension", sa.Integer, nullable=False),
        _ts("created_at"),
    )
    op.create_table(
        "companies",
        _pk(),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("country", sa.String(2), nullable=False),
        _arr("nace_codes"),
        sa.Column("size", sa.Text, nullable=False),
        sa.Column("employees", sa.Integer),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        _arr("carbon_categories"),
        _arr("certifications"),
        _arr("taxonomy_objectives"),
        sa.Column("embedding", Vector(DIM)),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint("size IN ('MICRO','SMALL','MEDIUM','LARGE')", name="ck_companies_size"),
    )
    op.create_index("ix_companies_tenant_name", "companies", ["tenant_id", "name"])
    op.execute("CREATE INDEX ix_companies_embedding_hnsw ON companies USING hnsw (embedding vector_cosine_ops)")
    op.create_table(
        "grants",
        _pk(),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("funder", sa.Text, nullable=False, server_default=""),
        _arr("countries"),
        _arr("nace_codes"),
        _arr("sizes"),
        _arr("carbon_categories"),
        _arr("certifications"),
        _arr("taxonomy_objectives"),
        sa.Column("is_carbon_focused", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("deadline", nullable=True),
        sa.Column("amount_min", sa.Numeric(16, 2)),
        sa.Column("amount_max", sa.Numeric(16, 2)),
        sa.Column("currency", sa.String(3), nullable=False, server_default="EUR"),
        sa.Column("url", sa.Text),
        sa.Column("embedding", Vector(DIM)),
        _ts("created_at"),
        _ts("updated_at"),
        sa.CheckConstraint(
            "amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max",
            name="ck_grants_amount_range",
        ),
    )
    op.create_index("ix_grants_deadline", "grants", ["deadline"])
    op.execute("CREATE INDEX ix_grants_embedding_hnsw ON grants USING hnsw (embedding vector_cosine_ops)")
    op.create_table(
        "grant_matches",
        _pk(),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column(
            "company_id",
            pg.UUID(as_uuid=True),
            sa.ForeignKey("companies.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("grant_id", pg.UUID(as_uuid=True), sa.ForeignKey("grants.id", ondelete="CASCADE"), nullable=False),
        *[
            sa.Column(name, sa.Float, nullable=False)
            for name in (
                "score",
                "semantic_score",
                "rule_score",
                "carbon_score",
                "collaborative_score",
                "recency_score",
            )
        ],
        _arr("match_reasons"),
        sa.Column("score_breakdown", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("is_viewed", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_saved", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("is_dismissed", sa.Boolean, nullable=False, server_default=sa.false()),
        _ts("viewed_at", nullable=True),
        _ts("created_at"),
        _ts("updated_at"),
        sa.UniqueConstraint("company_id", "grant_id", name="uq_grant_matches_company_grant"),
        sa.CheckConstraint("score >= 0 AND score <= 1", name="ck_grant_matches_score"),
    )
    op.execute("CREATE INDEX ix_grant_matches_company_score ON grant_matches (company_id, score DESC, id)")
    op.execute("CREATE INDEX ix_grant_matches_tenant_score ON grant_matches (tenant_id, score DESC, id)")
    op.create_index("ix_grant_matches_grant", "grant_matches", ["grant_id"])
    op.create_table(
        "computations",
        _pk(),
        sa.Column("tenant_id", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False, server_default="QUEUED"),
        sa.Column("progress", sa.Float, nullable=False, server_default=sa.text("0")),
        sa.Column("total_count", sa.Integer),
        sa.Column("processed_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("result_count", sa.Integer),
        sa.Column("subject_id", pg.UUID(as_uuid=True)),
        sa.Column("parameters", pg.JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("error", sa.Text),
        sa.Column("requested_by", sa.Text, nullable=False),
        _ts("created_at"),
        _ts("started_at", nullable=True),
        _ts("finished_at", nullable=True),
        _ts("updated_at"),
        sa.CheckConstraint("status IN ('QUEUED','RUNNING','SUCCEEDED','FAILED')", name="ck_computations_status"),
        sa.CheckConstraint("progress >= 0 AND progress <= 1", name="ck_computations_progress"),
    )
    op.create_index("ix_computations_tenant_created", "computations", ["tenant_id", "created_at"])


def downgrade() -> None:
    for table in ("computations", "grant_matches", "grants", "companies", "embedding_models"):
        op.drop_table(table)
