"""Platforms, layers and features.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geometry
from geoalchemy2 import alembic_helpers  # noqa: F401  (registers op.drop_geospatial_table)
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")
Stamp = sa.DateTime(timezone=True)


def upgrade():
    op.create_table(
        "platforms",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("nis_code", sa.String(5)),
        sa.Column("name_nl", sa.String(200), nullable=False),
        sa.Column("name_fr", sa.String(200)),
        sa.Column("name_en", sa.String(200)),
        sa.Column("boundary", Geometry("MULTIPOLYGON", srid=4326, spatial_index=True), nullable=False),
        sa.Column("view_lon", sa.Float, nullable=False),
        sa.Column("view_lat", sa.Float, nullable=False),
        sa.Column("view_zoom", sa.Integer, nullable=False),
        sa.Column("colour_primary", sa.String(7), nullable=False),
        sa.Column("colour_secondary", sa.String(7), nullable=False),
        sa.Column("logo_url", sa.String(2000)),
        sa.Column("languages", Json, nullable=False),
        sa.Column("embed_origins", Json, nullable=False),
        sa.Column("boundary_source", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("slug", name="uq_platforms_slug"),
        sa.CheckConstraint("kind IN ('municipality', 'region', 'initiative')", name="ck_platforms_kind"),
    )
    op.create_table(
        "layers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("platform_id", sa.Integer, sa.ForeignKey("platforms.id", ondelete="CASCADE",
                                                          name="fk_layers_platform_id_platforms"),
                  nullable=False),
        sa.Column("slug", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("geometry_type", sa.String(16), nullable=False),
        sa.Column("title_nl", sa.String(200), nullable=False),
        sa.Column("title_fr", sa.String(200)),
        sa.Column("title_en", sa.String(200)),
        sa.Column("description_nl", sa.Text),
        sa.Column("description_fr", sa.Text),
        sa.Column("description_en", sa.Text),
        sa.Column("property_schema", Json, nullable=False),
        sa.Column("themes", Json, nullable=False),
        sa.Column("opens_at", Stamp),
        sa.Column("closes_at", Stamp),
        sa.Column("voting_enabled", sa.Boolean, nullable=False),
        sa.Column("votes_per_person", sa.Integer),
        sa.Column("is_public", sa.Boolean, nullable=False),
        sa.Column("attribution", sa.Text),
        sa.Column("created_at", Stamp, nullable=False),
        sa.UniqueConstraint("platform_id", "slug", name="uq_layers_platform_slug"),
        sa.CheckConstraint("kind IN ('assets', 'suggestions', 'initiatives')", name="ck_layers_kind"),
        sa.CheckConstraint("geometry_type IN ('point', 'polygon', 'point_or_polygon')",
                           name="ck_layers_geometry_type"),
        sa.CheckConstraint("votes_per_person IS NULL OR votes_per_person > 0",
                           name="ck_layers_votes_per_person"),
    )
    op.create_index("ix_layers_platform_id", "layers", ["platform_id"])
    op.create_table(
        "features",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("layer_id", sa.Integer, sa.ForeignKey("layers.id", ondelete="CASCADE",
                                                       name="fk_features_layer_id_layers"),
                  nullable=False),
        sa.Column("geom", Geometry("GEOMETRY", srid=4326, spatial_index=True), nullable=False),
        sa.Column("properties", Json, nullable=False),
        sa.Column("theme", sa.String(64)),
        sa.Column("status", sa.String(16)),
        sa.Column("official_answer", sa.Text),
        sa.Column("source", sa.String(200), nullable=False),
        sa.Column("source_ref", sa.String(200)),
        sa.Column("is_demo", sa.Boolean, nullable=False),
        sa.Column("created_at", Stamp, nullable=False),
        sa.Column("updated_at", Stamp, nullable=False),
        sa.CheckConstraint(
            "status IS NULL OR status IN ('submitted', 'under_review', 'selected', 'realised', 'rejected')",
            name="ck_features_status",
        ),
    )
    op.create_index("ix_features_layer_id", "features", ["layer_id"])


def downgrade():
    # The geospatial variant also removes SpatiaLite's R*Tree index tables and metadata rows.
    op.drop_geospatial_table("features")
    op.drop_table("layers")
    op.drop_geospatial_table("platforms")
