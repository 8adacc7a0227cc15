"""New-grant alerts and webhooks: per-company alert settings, grant alerts, webhooks and their delivery log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _timestamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
    ]


def upgrade() -> None:
    op.add_column("companies", sa.Column("alert_min_score", sa.Float(), server_default=sa.text("0.6")))
    op.add_column(
        "companies",
        sa.Column("alert_carbon_focused_only", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column("companies", sa.Column("alert_min_amount", sa.Numeric(16, 2)))
    op.create_check_constraint(
        "ck_companies_alert_min_score",
        "companies",
        "alert_min_score IS NULL OR (alert_min_score >= 0 AND alert_min_score <= 1)",
    )
    op.create_table(
        "grant_alerts",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("sequence", sa.BigInteger(), sa.Identity(), nullable=False),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("company_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("grant_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True)),
        *_timestamps(),
        sa.ForeignKeyConstraint(["company_id"], ["companies.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["grant_id"], ["grants.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sequence"),
        sa.UniqueConstraint("company_id", "grant_id", "reason", name="uq_grant_alerts_company_grant_reason"),
        sa.CheckConstraint(
            "reason IN ('NEW_GRANT','GRANT_CHANGED','DEADLINE_APPROACHING')", name="ck_grant_alerts_reason"
        ),
    )
    op.create_index("ix_grant_alerts_company_sequence", "grant_alerts", ["company_id", sa.text("sequence DESC")])
    op.create_index(
        "ix_grant_alerts_company_unread", "grant_alerts", ["company_id"], postgresql_where=sa.text("read_at IS NULL")
    )
    op.create_table(
        "webhooks",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", postgresql.ARRAY(sa.Text()), server_default=sa.text("'{}'"), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        *_timestamps(),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_webhooks_tenant", "webhooks", ["tenant_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", postgresql.UUID(as_uuid=True), server_default=sa.text("gen_random_uuid()"), nullable=False),
        sa.Column("webhook_id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("tenant_id", sa.Text(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="PENDING", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_status_code", sa.Integer()),
        sa.Column("last_error", sa.Text()),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("delivered_at", sa.DateTime(timezone=True)),
        *_timestamps(),
        sa.ForeignKeyConstraint(["webhook_id"], ["webhooks.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.CheckConstraint("status IN ('PENDING','DELIVERED','FAILED')", name="ck_webhook_deliveries_status"),
    )
    op.create_index(
        "ix_webhook_deliveries_webhook_created",
        "webhook_deliveries",
        ["webhook_id", sa.text("created_at DESC"), "id"],
    )


def downgrade() -> None:
    op.drop_table("webhook_deliveries")
    op.drop_table("webhooks")
    op.drop_table("grant_alerts")
    op.drop_constraint("ck_companies_alert_min_score", "companies")
    op.drop_column("companies", "alert_min_amount")
    op.drop_column("companies", "alert_carbon_focused_only")
    op.drop_column("companies", "alert_min_score")
