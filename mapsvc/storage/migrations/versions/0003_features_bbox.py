"""A covering bounding-box index on features for map-view queries (PostGIS only).

PostGIS's GiST index on geom cannot answer a query by itself (index-only scans need a column the index can
return, and its float boxes need a recheck against the row), so counting and paging the features in a box
visited a heap page per feature. A stored, generated `bbox` (double precision, PostgreSQL's box type)
indexed with GiST INCLUDE (layer_id, id) lets "which ids of this layer lie in this box, and how many" be
answered from the index alone. SpatiaLite keeps its R*Tree; nothing changes there.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("ALTER TABLE features ADD COLUMN bbox box GENERATED ALWAYS AS "
               "(box(point(ST_XMin(geom), ST_YMin(geom)), point(ST_XMax(geom), ST_YMax(geom)))) STORED")
    op.execute("CREATE INDEX idx_features_bbox ON features USING gist (bbox) INCLUDE (layer_id, id)")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX idx_features_bbox")
    op.execute("ALTER TABLE features DROP COLUMN bbox")
