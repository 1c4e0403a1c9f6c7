"""Moderation, OpenID Connect logins, personal-data settings, follows, the mail queue, news and timelines.

Columns on tables with a geometry (platforms, features) are added with plain ALTER TABLE ... ADD COLUMN on
SQLite, CHECK included, because batch mode would copy the table and lose SpatiaLite's geometry
registration and R*Tree index (see 0002).

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06
"""
import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{target}.id", ondelete=ondelete, name=f"fk_{table}_{column}_{target}")


def _add(table: str, sqlite_sql: str, column: sa.Column, check: str | None = None) -> None:
    """Add a column (with an optional CHECK) without copying the table on SQLite."""
    if op.get_bind().dialect.name == "sqlite":
        op.execute(f"ALTER TABLE {table} ADD COLUMN {sqlite_sql}" + (f" CHECK ({check})" if check else ""))
        return
    op.add_column(table, column)
    if check:
        op.create_check_constraint(f"ck_{table}_{column.name}", table, check)


def upgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    # ------------------------------------------------------------------ platforms
    _add("platforms", "voting_acr_values TEXT NOT NULL DEFAULT '[]'",
         sa.Column("voting_acr_values", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"),
                   nullable=False, server_default=sa.text("'[]'")))
    _add("platforms", "deleted_account_pins VARCHAR(16) NOT NULL DEFAULT 'anonymise'",
         sa.Column("deleted_account_pins", sa.String(16), nullable=False, server_default="anonymise"),
         "deleted_account_pins IN ('anonymise', 'remove')")
    _add("platforms", "deleted_account_votes VARCHAR(16) NOT NULL DEFAULT 'keep'",
         sa.Column("deleted_account_votes", sa.String(16), nullable=False, server_default="keep"),
         "deleted_account_votes IN ('keep', 'remove')")
    # ------------------------------------------------------------------ layers (no geometry: plain add_column)
    op.add_column("layers", sa.Column("premoderation", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("layers", sa.Column("vote_retention_days", sa.Integer))
    op.add_column("layers", sa.Column("votes_unlinked_at", Stamp))
    # ------------------------------------------------------------------ features
    _add("features", "visibility VARCHAR(8) NOT NULL DEFAULT 'visible'",
         sa.Column("visibility", sa.String(8), nullable=False, server_default="visible"),
         "visibility IN ('visible', 'pending', 'hidden')")
    _add("features", "moderation_reason TEXT", sa.Column("moderation_reason", sa.Text))
    _add("features", "moderated_at " + ("DATETIME" if sqlite else "TIMESTAMP WITH TIME ZONE"),
         sa.Column("moderated_at", Stamp))
    _add("features", "moderated_by INTEGER REFERENCES users (id) ON DELETE SET NULL",
         sa.Column("moderated_by", sa.Integer, _fk("features", "moderated_by", "users", "SET NULL")))
    op.create_index("ix_features_layer_visibility", "features", ["layer_id", "visibility"])
    # ------------------------------------------------------------------ users, tokens
    op.add_column("users", sa.Column("weekly_digest", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("users", sa.Column("digest_sent_at", Stamp))
    op.add_column("users", sa.Column("own_pin_updates", sa.Boolean, nullable=False, server_default=sa.true()))
    op.add_column("api_tokens", sa.Column("acr", sa.String(200)))
    op.add_column("api_tokens", sa.Column("acr_issuer", sa.String(500)))

    op.create_table(
        "oidc_identities",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, _fk("oidc_identities", "user_id", "users", "CASCADE"), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("subject_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("last_login_at", Stamp),
        sa.UniqueConstraint("issuer", "subject_hash", name="uq_oidc_identities_issuer_subject"),
    )
    op.create_index("ix_oidc_identities_user_id", "oidc_identities", ["user_id"])
    op.create_table(
        "login_providers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform_id", sa.Integer, _fk("login_providers", "platform_id", "platforms", "CASCADE")),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("issuer", sa.String(500), nullable=False),
        sa.Column("client_id", sa.String(200), nullable=False),
        sa.Column("client_secret", sa.String(500)),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("uq_login_providers_platform", "login_providers",
                    [sa.text("coalesce(platform_id, 0)")], unique=True)
    # ------------------------------------------------------------------ moderation
    op.create_table(
        "flags",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feature_id", sa.Integer, _fk("flags", "feature_id", "features", "CASCADE"), nullable=False),
        sa.Column("user_id", sa.Integer, _fk("flags", "user_id", "users", "SET NULL")),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("resolved_at", Stamp),
        sa.UniqueConstraint("feature_id", "user_id", name="uq_flags_feature_user"),
    )
    op.create_index("ix_flags_feature_id", "flags", ["feature_id"])
    op.create_table(
        "moderation_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feature_id", sa.Integer, _fk("moderation_events", "feature_id", "features", "CASCADE"),
                  nullable=False),
        sa.Column("moderator_id", sa.Integer, _fk("moderation_events", "moderator_id", "users", "SET NULL")),
        sa.Column("action", sa.String(24), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_moderation_events_feature_id", "moderation_events", ["feature_id"])
    # ------------------------------------------------------------------ follows, mail, news
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, _fk("follows", "user_id", "users", "CASCADE"), nullable=False),
        sa.Column("platform_id", sa.Integer, _fk("follows", "platform_id", "platforms", "CASCADE"), nullable=False),
        sa.Column("layer_id", sa.Integer, _fk("follows", "layer_id", "layers", "CASCADE")),
        sa.Column("feature_id", sa.Integer, _fk("follows", "feature_id", "features", "CASCADE")),
        sa.Column("theme", sa.String(64)),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_follows_user_id", "follows", ["user_id"])
    op.create_index("uq_follows_scope", "follows",
                    ["user_id", "platform_id", sa.text("coalesce(layer_id, 0)"), sa.text("coalesce(feature_id, 0)"),
                     sa.text("coalesce(theme, '')")], unique=True)
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, _fk("outgoing_mail", "user_id", "users", "SET NULL")),
        sa.Column("to_address", sa.String(320)),
        sa.Column("subject", sa.String(300), nullable=False),
        sa.Column("body_text", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text),
        sa.Column("headers", sa.JSON().with_variant(sa.dialects.postgresql.JSONB(), "postgresql"), nullable=False),
        sa.Column("message_id", sa.String(200), nullable=False),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", Stamp, nullable=False),
        sa.Column("claimed_until", Stamp),
        sa.Column("last_error", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("sent_at", Stamp),
        sa.UniqueConstraint("message_id", name="uq_outgoing_mail_message_id"),
        sa.UniqueConstraint("dedupe_key", name="uq_outgoing_mail_dedupe_key"),
        sa.CheckConstraint("state IN ('queued', 'sending', 'sent', 'failed')", name="ck_outgoing_mail_state"),
    )
    op.create_index("ix_outgoing_mail_user_id", "outgoing_mail", ["user_id"])
    op.create_index("ix_outgoing_mail_due", "outgoing_mail", ["state", "next_attempt_at"])
    op.create_table(
        "news_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layer_id", sa.Integer, _fk("news_items", "layer_id", "layers", "CASCADE"), nullable=False),
        sa.Column("title_nl", sa.String(200), nullable=False),
        sa.Column("title_fr", sa.String(200)),
        sa.Column("title_en", sa.String(200)),
        sa.Column("body_nl", sa.Text),
        sa.Column("body_fr", sa.Text),
        sa.Column("body_en", sa.Text),
        sa.Column("link_url", sa.String(2000)),
        sa.Column("published_on", sa.Date, nullable=False),
        sa.Column("author_id", sa.Integer, _fk("news_items", "author_id", "users", "SET NULL")),
        sa.Column("created_at", Stamp, nullable=False),
    )
    op.create_index("ix_news_items_layer_id", "news_items", ["layer_id"])
    op.create_table(
        "timeline_phases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layer_id", sa.Integer, _fk("timeline_phases", "layer_id", "layers", "CASCADE"), nullable=False),
        sa.Column("phase", sa.String(16), nullable=False),
        sa.Column("starts_on", sa.Date),
        sa.Column("ends_on", sa.Date),
        sa.Column("note_nl", sa.Text),
        sa.Column("note_fr", sa.Text),
        sa.Column("note_en", sa.Text),
        sa.CheckConstraint("phase IN ('inform', 'consult', 'decide', 'realise')", name="ck_timeline_phases_phase"),
        sa.UniqueConstraint("layer_id", "phase", name="uq_timeline_phases_layer_phase"),
    )
    op.create_index("ix_timeline_phases_layer_id", "timeline_phases", ["layer_id"])
    op.create_table(
        "announcements",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform_id", sa.Integer, _fk("announcements", "platform_id", "platforms", "CASCADE"),
                  nullable=False),
        sa.Column("layer_id", sa.Integer, _fk("announcements", "layer_id", "layers", "CASCADE")),
        sa.Column("theme", sa.String(64)),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("author_id", sa.Integer, _fk("announcements", "author_id", "users", "SET NULL")),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("sent_at", Stamp),
        sa.Column("recipient_count", sa.Integer),
    )


def downgrade():
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in ("announcements", "timeline_phases", "news_items", "outgoing_mail", "follows",
                  "moderation_events", "flags", "login_providers", "oidc_identities"):
        op.drop_table(table)
    op.drop_column("api_tokens", "acr_issuer")
    op.drop_column("api_tokens", "acr")
    with op.batch_alter_table("users") as batch:  # no geometry: SQLite's table copy is safe
        batch.drop_column("own_pin_updates")
        batch.drop_column("digest_sent_at")
        batch.drop_column("weekly_digest")
    op.drop_index("ix_features_layer_visibility", "features")
    # SQLite >= 3.35 drops a column in place (no table copy), also one with its own CHECK.
    for column in ("moderated_by", "moderated_at", "moderation_reason", "visibility"):
        if sqlite:
            op.execute(f"ALTER TABLE features DROP COLUMN {column}")
        else:
            op.drop_column("features", column)
    for column in ("voting_acr_values", "deleted_account_pins", "deleted_account_votes"):
        if sqlite:
            op.execute(f"ALTER TABLE platforms DROP COLUMN {column}")
        else:
            op.drop_column("platforms", column)
    with op.batch_alter_table("layers") as batch:
        batch.drop_column("votes_unlinked_at")
        batch.drop_column("vote_retention_days")
        batch.drop_column("premoderation")
