"""Accounts, roles, API tokens, votes, and the author of a feature.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Stamp = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("email", sa.String(320)),
        sa.Column("password_hash", sa.String(300)),
        sa.Column("display_name", sa.String(80)),
        sa.Column("locale", sa.String(2), nullable=False),
        sa.Column("is_active", sa.Boolean, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.CheckConstraint("locale IN ('nl', 'fr', 'en')", name="ck_users_locale"),
    )
    op.create_table(
        "role_grants",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE",
                                                      name="fk_role_grants_user_id_users"), nullable=False),
        sa.Column("role", sa.String(24), nullable=False),
        sa.Column("platform_id", sa.Integer, sa.ForeignKey("platforms.id", ondelete="CASCADE",
                                                          name="fk_role_grants_platform_id_platforms"),
                  nullable=False),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("layers.id", ondelete="CASCADE",
                                                       name="fk_role_grants_layer_id_layers")),
        sa.CheckConstraint("role IN ('moderator', 'official', 'admin', 'initiative_manager')",
                           name="ck_role_grants_role"),
        sa.CheckConstraint("(role = 'initiative_manager') = (layer_id IS NOT NULL)", name="ck_role_grants_layer"),
    )
    # NULLs are distinct in a unique constraint, so platform-wide grants are made unique by an expression index.
    op.create_index("uq_role_grants_scope", "role_grants",
                    ["user_id", "role", "platform_id", sa.text("coalesce(layer_id, 0)")], unique=True)
    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE",
                                                      name="fk_api_tokens_user_id_users"), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("revoked_at", Stamp),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "votes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("feature_id", sa.Integer, sa.ForeignKey("features.id", ondelete="CASCADE",
                                                         name="fk_votes_feature_id_features"), nullable=False),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("layers.id", ondelete="CASCADE",
                                                       name="fk_votes_layer_id_layers"), nullable=False),
        # NULL once the link between a vote and its voter is dropped (retention, deleted account).
        sa.Column("user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="SET NULL",
                                                      name="fk_votes_user_id_users")),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("feature_id", "user_id", name="uq_votes_feature_user"),
    )
    op.create_index("ix_votes_feature_id", "votes", ["feature_id"])
    op.create_index("ix_votes_layer_user", "votes", ["layer_id", "user_id"])
    if op.get_bind().dialect.name == "sqlite":
        # SQLite takes REFERENCES in ADD COLUMN but not a separate ALTER … ADD CONSTRAINT, and batch mode
        # would copy the table, losing SpatiaLite's geometry registration and R*Tree index.
        op.execute("ALTER TABLE features ADD COLUMN author_id INTEGER REFERENCES users (id) ON DELETE SET NULL")
    else:
        op.add_column("features", sa.Column("author_id", sa.Integer, sa.ForeignKey(
            "users.id", ondelete="SET NULL", name="fk_features_author_id_users")))
    op.create_index("ix_features_author_id", "features", ["author_id"])
    op.add_column("layers", sa.Column("duplicate_distance_m", sa.Float, nullable=False, server_default="50"))


def downgrade():
    with op.batch_alter_table("layers") as batch:  # layers has no geometry, so SQLite's table copy is safe
        batch.drop_column("duplicate_distance_m")
    op.drop_index("ix_features_author_id", "features")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("ALTER TABLE features DROP COLUMN author_id")  # SQLite >= 3.35; no index or FK left on it
    else:
        op.drop_column("features", "author_id")
    op.drop_table("votes")
    op.drop_table("api_tokens")
    op.drop_table("role_grants")
    op.drop_table("users")
