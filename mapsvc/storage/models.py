"""The tables: platforms, their layers, and the features on a layer (EPSG:4326, spatially indexed)."""

from __future__ import annotations

from datetime import date, datetime, timezone

from geoalchemy2 import Geometry
from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
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
    # Only logins whose OpenID Connect `acr` is one of these may vote; empty: any login may vote.
    voting_acr_values: Mapped[list] = mapped_column(Json, default=list)
    # What happens to a deleted account's pins ('anonymise' keeps them without author, 'remove' deletes
    # them) and votes ('keep' keeps them counted without the voter, 'remove' deletes them).
    deleted_account_pins: Mapped[str] = mapped_column(String(16), default="anonymise")
    deleted_account_votes: Mapped[str] = mapped_column(String(16), default="keep")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    layers: Mapped[list[Layer]] = relationship(
        back_populates="platform", cascade="all, delete-orphan", order_by="Layer.id"
    )

    __table_args__ = (
        CheckConstraint("kind IN ('municipality', 'region', 'initiative')", name="kind"),
        CheckConstraint("deleted_account_pins IN ('anonymise', 'remove')", name="deleted_account_pins"),
        CheckConstraint("deleted_account_votes IN ('keep', 'remove')", name="deleted_account_votes"),
    )


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
    # Pre-moderation: new pins stay 'pending' (seen by their author and moderators only) until approved.
    premoderation: Mapped[bool] = mapped_column(Boolean, default=False)
    # Retention: this many days after closes_at the link between votes and voters is dropped (counts stay).
    vote_retention_days: Mapped[int | None] = mapped_column(Integer)
    votes_unlinked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    platform: Mapped[Platform] = relationship(back_populates="layers")

    __table_args__ = (
        UniqueConstraint("platform_id", "slug", name="uq_layers_platform_slug"),
        CheckConstraint("kind IN ('assets', 'suggestions', 'initiatives')", name="kind"),
        CheckConstraint("geometry_type IN ('point', 'polygon', 'point_or_polygon')", name="geometry_type"),
        CheckConstraint("votes_per_person IS NULL OR votes_per_person > 0", name="votes_per_person"),
        CheckConstraint("vote_retention_days IS NULL OR vote_retention_days >= 0", name="vote_retention_days"),
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
    # visible: public; pending: waits for pre-moderation; hidden: taken off the map by a moderator.
    # Only 'visible' features are public (API, OGC, exports, pins, rankings).
    visibility: Mapped[str] = mapped_column(String(8), default="visible")
    moderation_reason: Mapped[str | None] = mapped_column(Text)
    moderated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    moderated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    __table_args__ = (
        CheckConstraint(
            "status IS NULL OR status IN ('submitted', 'under_review', 'selected', 'realised', 'rejected')",
            name="status",
        ),
        CheckConstraint("visibility IN ('visible', 'pending', 'hidden')", name="visibility"),
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
    # Opt-in weekly digest of new pins and status changes in what the user follows.
    weekly_digest: Mapped[bool] = mapped_column(Boolean, default=False)
    digest_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Mail when an official decides on one's own pin (a reply to one's own contribution, on by default);
    # the unsubscribe link of such a mail switches it off.
    own_pin_updates: Mapped[bool] = mapped_column(Boolean, default=True)
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
    # The assurance level (OIDC acr) of the login the token was issued from, for embedded maps.
    acr: Mapped[str | None] = mapped_column(String(200))
    # The issuer that vouched for that acr: a platform's own provider counts on that platform only.
    acr_issuer: Mapped[str | None] = mapped_column(String(500))
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


class OidcIdentity(Base):
    """A login at an OpenID Connect provider tied to an account; `sub` is kept only as a keyed hash."""

    __tablename__ = "oidc_identities"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    issuer: Mapped[str] = mapped_column(String(500))
    subject_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("issuer", "subject_hash", name="uq_oidc_identities_issuer_subject"),)


class LoginProvider(Base):
    """An OpenID Connect provider for the whole instance (platform_id NULL) or for one platform."""

    __tablename__ = "login_providers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int | None] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    label: Mapped[str] = mapped_column(String(100))
    issuer: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    client_secret: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Flag(Base):
    """A resident's report that a pin needs a moderator's look; one per person and pin."""

    __tablename__ = "flags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature_id: Mapped[int] = mapped_column(ForeignKey("features.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("feature_id", "user_id", name="uq_flags_feature_user"),)


class ModerationEvent(Base):
    """What a moderator did to a pin (hide, restore, approve, status), with the reason: the audit trail."""

    __tablename__ = "moderation_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feature_id: Mapped[int] = mapped_column(ForeignKey("features.id", ondelete="CASCADE"), index=True)
    moderator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(24))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Follow(Base):
    """A resident's opt-in to updates: a platform, a theme on a platform, a layer, or one pin."""

    __tablename__ = "follows"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    feature_id: Mapped[int | None] = mapped_column(ForeignKey("features.id", ondelete="CASCADE"))
    theme: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class OutgoingMail(Base):
    """A queued e-mail; a worker sends it with retries. `message_id` makes a resend recognisable."""

    __tablename__ = "outgoing_mail"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # The recipient account (NULL once deleted: then the address is wiped too).
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[dict] = mapped_column(Json, default=dict)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    # Why it was sent, unique where given, so that one event never mails one person twice.
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    state: Mapped[str] = mapped_column(String(8), default="queued")  # queued | sending | sent | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed')", name="state"),)


class NewsItem(Base):
    """News on a layer: a title, a text in sanitised Markdown, an optional link (e.g. a report)."""

    __tablename__ = "news_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), index=True)
    title_nl: Mapped[str] = mapped_column(String(200))
    title_fr: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    body_nl: Mapped[str | None] = mapped_column(Text)
    body_fr: Mapped[str | None] = mapped_column(Text)
    body_en: Mapped[str | None] = mapped_column(Text)
    link_url: Mapped[str | None] = mapped_column(String(2000))
    published_on: Mapped[date] = mapped_column(Date)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TimelinePhase(Base):
    """One phase of a participation moment (inform, consult, decide, realise) with its dates."""

    __tablename__ = "timeline_phases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"), index=True)
    phase: Mapped[str] = mapped_column(String(16))
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    note_nl: Mapped[str | None] = mapped_column(Text)
    note_fr: Mapped[str | None] = mapped_column(Text)
    note_en: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        CheckConstraint("phase IN ('inform', 'consult', 'decide', 'realise')", name="phase"),
        UniqueConstraint("layer_id", "phase", name="uq_timeline_phases_layer_phase"),
    )


class Announcement(Base):
    """An official's update or invitation to the followers of a layer or a theme, sent once."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platforms.id", ondelete="CASCADE"))
    layer_id: Mapped[int | None] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    theme: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recipient_count: Mapped[int | None] = mapped_column(Integer)
