"""Table definitions (SQLAlchemy 2 declarative). Alembic migrations in ``migrations/`` create them.

Read paths query these tables through SQLAlchemy Core (``Model.__table__``) and map rows to GraphQL types
directly; the ORM mapping keeps the schema in one readable place.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
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

#: Dimension of the stored embeddings (all-MiniLM-L6-v2). A model with another dimension needs a migration
#: plus ``matchgraph reembed``; the running model is checked against ``embedding_models`` at start.
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
    embedding = mapped_column(Vector(EMBEDDING_DIMENSION))
    created_at: Mapped[datetime] = _created_at()
    updated_at: Mapped[datetime] = _updated_at()

    __table_args__ = (
        Index("ix_companies_tenant_name", "tenant_id", "name"),
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
    embedding = mapped_column(Vector(EMBEDDING_DIMENSION))
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
    score_breakdown = mapped_column(JSONB, nullable=False, server_default=text("'{}'::jsonb"))
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
        CheckConstraint("status IN ('QUEUED','RUNNING','SUCCEEDED','FAILED')", name="ck_computations_status"),
        CheckConstraint("progress >= 0 AND progress <= 1", name="ck_computations_progress"),
    )


companies = Company.__table__
grants = Grant.__table__
grant_matches = GrantMatch.__table__
computations = Computation.__table__
embedding_models = EmbeddingModel.__table__
