"""Table definitions (SQLAlchemy 2 declarative). Alembic migrations in ``migrations/`` create them.

Read paths query these tables through SQLAlchemy Core (``Model.__table__``) and map rows to GraphQL types
directly; the ORM mapping keeps the schema in one readable place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Identity,
    Index,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from graphql_app.matching.breakdown import FIGURE_COUNT

#: Dimension the migrations give the vector columns (all-MiniLM-L6-v2's). ``matchgraph reembed`` may change it
#: (graphql_app.services.reembed), so the models leave it open and the running model is checked against the
#: database's columns and ``embedding_models`` instead.
EMBEDDING_DIMENSION = 384


def _uuid_pk() -> Mapped[uuid.UUID]:
    return mapped_column(UUID(as_uuid=True), primary_key=True, server_default=text("gen_random_uuid()"))


def _text_array() -> Mapped[list[str]]:
    return mapped_column(ARRAY(Text), nullable=False, server_default=text("'{}'"))


def _created_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


def _updated_at() -> Mapped[datetime]:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Base(DeclarativeBase):
    pass


class EmbeddingModel(Base):
    """The embedding model the stored vectors were computed with (one row)."""

    __tablename__ = "embedding_models"
    model_id: Mapped[str] = mapped_column(Text, primary_key=True)
    dimension: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = _created_at()


class Company(Base):
    __tablename__ = "companies"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    country: Mapped[str] = mapped_column(String(2), nullable=False)
    nace_codes: Mapped[list[str]] = _text_array()
    size: Mapped[str] = mapped_column(Text, nullable=False)
    employees: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    carbon_categories: Mapped[list[str]] = _text_array()
    certifications: Mapped[list[str]] = _text_array()
    taxonomy_objectives: Mapped[list[str]] = _text_array()
    embedding = mapped_column(Vector())
    #: Alerts (docs/alerts.md): a grant whose match reaches this score raises one; NULL switches alerts off.
    alert_min_score: Mapped[float | None] = mapped_column(Float, server_default=text("0.6"))
    #: Alert only on carbon-focused grants.
    alert_carbon_focused_only: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    #: Alert only on grants that may award at least this much (their maximum, else their minimum amount).
    alert_min_amount = mapped_column(Numeric(16, 2))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        Index("ix_companies_tenant_name", "tenant_id", "name"),
        CheckConstraint(
            "alert_min_score IS NULL OR (alert_min_score >= 0 AND alert_min_score <= 1)",
            name="ck_companies_alert_min_score",
        ),
        Index(
            "ix_companies_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        CheckConstraint("size IN ('MICRO','SMALL','MEDIUM','LARGE')", name="ck_companies_size"),
    )


class Grant(Base):
    __tablename__ = "grants"
    id: Mapped[uuid.UUID] = _uuid_pk()
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    funder: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    countries: Mapped[list[str]] = _text_array()
    nace_codes: Mapped[list[str]] = _text_array()
    sizes: Mapped[list[str]] = _text_array()
    carbon_categories: Mapped[list[str]] = _text_array()
    certifications: Mapped[list[str]] = _text_array()
    taxonomy_objectives: Mapped[list[str]] = _text_array()
    is_carbon_focused: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    deadline: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    amount_min = mapped_column(Numeric(16, 2))
    amount_max = mapped_column(Numeric(16, 2))
    currency: Mapped[str] = mapped_column(String(3), nullable=False, server_default="EUR")
    url: Mapped[str | None] = mapped_column(Text)
    embedding = mapped_column(Vector())
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        Index("ix_grants_deadline", "deadline"),
        Index(
            "ix_grants_embedding_hnsw",
            "embedding",
            postgresql_using="hnsw",
            postgresql_ops={"embedding": "vector_cosine_ops"},
        ),
        CheckConstraint(
            "amount_min IS NULL OR amount_max IS NULL OR amount_min <= amount_max",
            name="ck_grants_amount_range",
        ),
    )


class GrantMatch(Base):
    __tablename__ = "grant_matches"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    grant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("grants.id", ondelete="CASCADE"), nullable=False
    )
    score: Mapped[float] = mapped_column(Float, nullable=False)
    semantic_score: Mapped[float] = mapped_column(Float, nullable=False)
    rule_score: Mapped[float] = mapped_column(Float, nullable=False)
    carbon_score: Mapped[float] = mapped_column(Float, nullable=False)
    collaborative_score: Mapped[float] = mapped_column(Float, nullable=False)
    recency_score: Mapped[float] = mapped_column(Float, nullable=False)
    match_reasons: Mapped[list[str]] = _text_array()
    # The score breakdown (graphql_app.matching.breakdown): its figures in FIGURES order, the flag, the days.
    breakdown_figures: Mapped[list[float]] = mapped_column(
        ARRAY(Float), nullable=False, server_default=text("'{}'::float8[]")
    )
    carbon_bonus_applied: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    days_left_at_scoring: Mapped[int | None] = mapped_column(Integer)
    is_viewed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    is_saved: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    is_dismissed: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    viewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        UniqueConstraint("company_id", "grant_id", name="uq_grant_matches_company_grant"),
        Index("ix_grant_matches_company_score", "company_id", text("score DESC"), "id"),
        Index("ix_grant_matches_tenant_score", "tenant_id", text("score DESC"), "id"),
        Index("ix_grant_matches_grant", "grant_id"),
        CheckConstraint("score >= 0 AND score <= 1", name="ck_grant_matches_score"),
        CheckConstraint(
            f"cardinality(breakdown_figures) IN (0, {FIGURE_COUNT})", name="ck_grant_matches_breakdown_figures"
        ),
    )


class Computation(Base):
    """A (possibly background) computation: the durable record clients poll or subscribe to."""

    __tablename__ = "computations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    kind: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="QUEUED")
    progress: Mapped[float] = mapped_column(Float, nullable=False, server_default=text("0"))
    total_count: Mapped[int | None] = mapped_column(Integer)
    processed_count: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    result_count: Mapped[int | None] = mapped_column(Integer)
    subject_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    parameters = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    requested_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        Index("ix_computations_tenant_created", "tenant_id", "created_at"),
        Index("ix_computations_status", "status"),
        CheckConstraint(
            "status IN ('QUEUED','RUNNING','SUCCEEDED','FAILED','CANCELLED')", name="ck_computations_status"
        ),
        CheckConstraint("progress >= 0 AND progress <= 1", name="ck_computations_progress"),
    )


class EmbeddingStaging(Base):
    """A vector computed by `matchgraph reembed` with the next model, waiting for the swap (any dimension)."""

    __tablename__ = "embedding_staging"
    source: Mapped[str] = mapped_column(Text, primary_key=True)
    row_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    model_id: Mapped[str] = mapped_column(Text, nullable=False)
    #: sha256 of the text the vector was computed from: a row whose text changed since is embedded again.
    text_hash: Mapped[str] = mapped_column(Text, nullable=False)
    embedding = mapped_column(Vector())


class GrantAlert(Base):
    """A company is told about a grant: one record per (company, grant, reason); raising it again (the grant
    changed again) moves it to the top of the list (a new ``sequence``) and marks it unread."""

    __tablename__ = "grant_alerts"
    id: Mapped[uuid.UUID] = _uuid_pk()
    #: Newest-first order, cursors, and "alerts after the last one sent" for subscriptions.
    sequence: Mapped[int] = mapped_column(BigInteger, Identity(), nullable=False, unique=True)
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    company_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("companies.id", ondelete="CASCADE"), nullable=False
    )
    grant_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("grants.id", ondelete="CASCADE"), nullable=False
    )
    reason: Mapped[str] = mapped_column(Text, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        UniqueConstraint("company_id", "grant_id", "reason", name="uq_grant_alerts_company_grant_reason"),
        Index("ix_grant_alerts_company_sequence", "company_id", text("sequence DESC")),
        Index("ix_grant_alerts_company_unread", "company_id", postgresql_where=text("read_at IS NULL")),
        CheckConstraint(
            "reason IN ('NEW_GRANT','GRANT_CHANGED','DEADLINE_APPROACHING')", name="ck_grant_alerts_reason"
        ),
    )


class Webhook(Base):
    """An organisation's HTTPS endpoint for events (docs/webhooks.md). ``secret`` signs each delivery; it is
    shown once, when the webhook is created."""

    __tablename__ = "webhooks"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    url: Mapped[str] = mapped_column(Text, nullable=False)
    events: Mapped[list[str]] = _text_array()
    secret: Mapped[str] = mapped_column(Text, nullable=False)
    created_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (Index("ix_webhooks_tenant", "tenant_id"),)


class WebhookDelivery(Base):
    """One event sent (or being sent) to one webhook: the exact body signed, and how the attempts went."""

    __tablename__ = "webhook_deliveries"
    id: Mapped[uuid.UUID] = _uuid_pk()
    webhook_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("webhooks.id", ondelete="CASCADE"), nullable=False
    )
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    event: Mapped[str] = mapped_column(Text, nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="PENDING")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        Index("ix_webhook_deliveries_webhook_created", "webhook_id", text("created_at DESC"), "id"),
        CheckConstraint("status IN ('PENDING','DELIVERED','FAILED')", name="ck_webhook_deliveries_status"),
    )


companies = Company.__table__
grants = Grant.__table__
grant_matches = GrantMatch.__table__
computations = Computation.__table__
embedding_models = EmbeddingModel.__table__
grant_alerts = GrantAlert.__table__
webhooks = Webhook.__table__
webhook_deliveries = WebhookDelivery.__table__


class Organisation(Base):
    """The organisation behind a tenant: its values, culture and team norms, and learned belonging weights."""

    __tablename__ = "organisations"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False, unique=True)
    name: Mapped[str] = mapped_column(Text, nullable=False)
    values: Mapped[list[str]] = _text_array()
    culture_statement: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    culture_embedding = mapped_column(Vector())
    team_trait_norms = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    team_skills: Mapped[list[str]] = _text_array()
    belonging_weights = mapped_column(JSONB)
    model_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class Job(Base):
    __tablename__ = "jobs"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    required_skills = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    desired_traits = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    is_open: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("true"))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (Index("ix_jobs_tenant", "tenant_id"),)


class Member(Base):
    """A platform user looking for work (not tenant data: members belong to no organisation)."""

    __tablename__ = "members"
    id: Mapped[uuid.UUID] = _uuid_pk()
    display_name: Mapped[str] = mapped_column(Text, nullable=False)
    headline: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    bio: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    skills: Mapped[list[str]] = _text_array()
    values: Mapped[list[str]] = _text_array()
    traits = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
    profile_completeness: Mapped[float | None] = mapped_column(Float)
    bio_embedding = mapped_column(Vector())
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class JobMatch(Base):
    __tablename__ = "job_matches"
    id: Mapped[uuid.UUID] = _uuid_pk()
    tenant_id: Mapped[str] = mapped_column(Text, nullable=False)
    organisation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("organisations.id", ondelete="CASCADE"), nullable=False
    )
    job_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("jobs.id", ondelete="CASCADE"), nullable=False
    )
    member_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("members.id", ondelete="CASCADE"), nullable=False
    )
    authenticity: Mapped[float] = mapped_column(Float, nullable=False)
    acceptance: Mapped[float] = mapped_column(Float, nullable=False)
    complementarity: Mapped[float] = mapped_column(Float, nullable=False)
    belonging_probability: Mapped[float] = mapped_column(Float, nullable=False)
    quality_tier: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(Text, nullable=False, server_default="PENDING_REVIEW")
    member_interest: Mapped[str | None] = mapped_column(Text)
    model_version: Mapped[int] = mapped_column(Integer, nullable=False, server_default=text("0"))
    belonging_weights = mapped_column(JSONB, nullable=False, server_default=text("'[]'::jsonb"))
    explanation = mapped_column(JSONB)
    explanation_generated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    explanation_computation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    placed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        UniqueConstraint("job_id", "member_id", name="uq_job_matches_job_member"),
        Index("ix_job_matches_job_probability", "job_id", text("belonging_probability DESC"), "id"),
        Index("ix_job_matches_member_probability", "member_id", text("belonging_probability DESC"), "id"),
        Index("ix_job_matches_tenant", "tenant_id"),
    )


class PlacementOutcome(Base):
    __tablename__ = "placement_outcomes"
    id: Mapped[uuid.UUID] = _uuid_pk()
    match_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("job_matches.id", ondelete="CASCADE"), nullable=False, unique=True
    )
    outcome: Mapped[str] = mapped_column(Text, nullable=False)
    start_date = mapped_column(Date)
    end_date = mapped_column(Date)
    notes: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    recorded_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()


class PlacementFeedback(Base):
    __tablename__ = "placement_feedback"
    id: Mapped[uuid.UUID] = _uuid_pk()
    match_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), ForeignKey("job_matches.id", ondelete="CASCADE"), nullable=False
    )
    stage: Mapped[str] = mapped_column(Text, nullable=False)
    respondent: Mapped[str] = mapped_column(Text, nullable=False)
    rating: Mapped[int] = mapped_column(Integer, nullable=False)
    comments: Mapped[str] = mapped_column(Text, nullable=False, server_default="")
    submitted_by: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (
        UniqueConstraint("match_id", "stage", "respondent", name="uq_placement_feedback_once_per_stage"),
        CheckConstraint("rating BETWEEN 1 AND 5", name="ck_placement_feedback_rating"),
    )


class CatalogueVersion(Base):
    """One row: a number every statement that changes ``grants`` increases (a trigger), so processes know when
    their in-memory copy of the catalogue's attributes is stale."""

    __tablename__ = "catalogue_version"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(BigInteger, nullable=False)


class PersistedDocument(Base):
    """A GraphQL document known by the SHA-256 of its text: registered by clients through automatic persisted
    queries, or trusted by an operator from a manifest (trusted-documents mode runs only those)."""

    __tablename__ = "persisted_documents"
    sha256: Mapped[str] = mapped_column(Text, primary_key=True)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    trusted: Mapped[bool] = mapped_column(Boolean, nullable=False, server_default=text("false"))
    source: Mapped[str] = mapped_column(Text, nullable=False)
    created_at: Mapped[datetime] = _created_at()

    __table_args__ = (CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="ck_persisted_documents_sha256"),)


organisations = Organisation.__table__
jobs = Job.__table__
members = Member.__table__
job_matches = JobMatch.__table__
placement_outcomes = PlacementOutcome.__table__
placement_feedback = PlacementFeedback.__table__
persisted_documents = PersistedDocument.__table__
catalogue_version = CatalogueVersion.__table__
