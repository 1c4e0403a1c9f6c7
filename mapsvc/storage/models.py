"""The tables: platforms, their layers, and the features on a layer (EPSG:4326, spatially indexed)."""

from __future__ import annotations

from datetime import datetime, timezone

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

SRID = 4326

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

Json = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator):
    """A timestamp that always comes back timezone-aware in UTC (SQLite stores it naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("timestamps must be timezone-aware")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """Return the current time, timezone-aware in UTC."""
    return datetime.now(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Platform(Base):
    """A municipality, region or citizens' initiative that runs participation on the map."""

    __tablename__ = "platforms"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # municipality | region | initiative
    nis_code: Mapped[str | None] = mapped_column(String(5))
    name_nl: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str | None] = mapped_column(String(200))
    name_en: Mapped[str | None] = mapped_column(String(200))
    boundary = mapped_column(Geometry("MULTIPOLYGON", srid=SRID, spatial_index=True), nullable=False)
    view_lon: Mapped[float] = mapped_column(Float)
    view_lat: Mapped[float] = mapped_column(Float)
    view_zoom: Mapped[int] = mapped_column(Integer)
    colour_primary: Mapped[str] = mapped_column(String(7), default="#00589c")
    colour_secondary: Mapped[str] = mapped_column(String(7), default="#ffffff")
    logo_url: Mapped[str | None] = mapped_column(String(2000))
    languages: Mapped[list] = mapped_column(Json, default=lambda: ["nl", "fr", "en"])
    embed_origins: Mapped[list] = mapped_column(Json, default=list)
    boundary_source: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    layers: Mapped[list[Layer]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Layer.id"
    )

    __table_args__ = (CheckConstraint("kind IN ('municipality', 'region', 'initiative')", name="kind"),)


class Layer(Base):
    """A map layer of one platform: existing assets, citizens' suggestions or an initiative catalogue."""

    __tablename__ = "layers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"), index=True)
    slug: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # assets | suggestions | initiatives
    geometry_type: Mapped[str] = mapped_column(String(16))  # point | polygon | point_or_polygon
    title_nl: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    description_nl: Mapped[str | None] = mapped_column(Text)
    description_fr: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    property_schema: Mapped[dict] = mapped_column(Json)
    themes: Mapped[list] = mapped_column(Json, default=list)
    opens_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closes_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voting_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    votes_per_person: Mapped[int | None] = mapped_column(Integer)
    is_public: Mapped[bool] = mapped_column(Boolean, default=True)
    # A new suggestion closer than this to one on the same layer is offered as a duplicate first.
    duplicate_distance_m: Mapped[float] = mapped_column(Float, default=50.0)
    attribution: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="layers")

    __table_args__ = (
        UniqueConstraint("platform_id", "slug", name="uq_layers_platform_slug"),
        CheckConstraint("kind IN ('assets', 'suggestions', 'initiatives')", name="kind"),
        CheckConstraint("geometry_type IN ('point', 'polygon', 'point_or_polygon')", name="geometry_type"),
        CheckConstraint("votes_per_person IS NULL OR votes_per_person > 0", name="votes_per_person"),
    )


class Feature(Base):
    """One thing on a layer: a charging point, a book cabinet, a citizen's pin, an initiative."""

    __tablename__ = "features"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), index=True)
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=True), nullable=False)
    properties: Mapped[dict] = mapped_column(Json, default=dict)
    theme: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str | None] = mapped_column(String(16))
    official_answer: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(200))
    source_ref: Mapped[str | None] = mapped_column(String(200))
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "status IS NULL OR status IN ('submitted', 'under_review', 'selected', 'realised', 'rejected')",
            name="status",
        ),
    )


class User(Base):
    """A person with an account: a resident, an official, an initiative's manager."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    # None for accounts that only log in through OpenID Connect.
    password_hash: Mapped[str | None] = mapped_column(String(300))
    # Shown beside the user's pins only when they chose one; otherwise pins are anonymous.
    display_name: Mapped[str | None] = mapped_column(String(80))
    locale: Mapped[str] = mapped_column(String(2), default="nl")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    grants: Mapped[list[RoleGrant]] = relationship(cascade="all, delete-orphan", lazy="selectin")

    __table_args__ = (CheckConstraint("locale IN ('nl', 'fr', 'en')", name="locale"),)


class RoleGrant(Base):
    """A role a user holds on a platform (or, for an initiative manager, on one layer of it)."""

    __tablename__ = "role_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(24))
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))

    __table_args__ = (
        CheckConstraint("role IN ('moderator', 'official', 'admin', 'initiative_manager')", name="role"),
        CheckConstraint("(role = 'initiative_manager') = (layer_id IS NOT NULL)", name="layer"),
    )


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Vote(Base):
    """One person's support for one suggestion; the database allows one per person and suggestion."""

    __tablename__ = "votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature_id: Mapped[int] = mapped_column(ForeignKey("features.id", ondelete="CASCADE"), index=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    # None once the link to the voter is dropped (retention, deleted account): the count stays.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("feature_id", "user_id", name="uq_votes_feature_user"),)
