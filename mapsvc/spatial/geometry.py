"""Check a feature's geometry against its layer and its platform's boundary."""

from __future__ import annotations

import shapely
from shapely.geometry.base import BaseGeometry
from shapely.prepared import PreparedGeometry

# Which geometry types a layer's declared geometry_type admits.
ALLOWED_TYPES = {
    "point": {"Point"},
    "polygon": {"Polygon", "MultiPolygon"},
    "point_or_polygon": {"Point", "Polygon", "MultiPolygon"},
}


class GeometryProblem(ValueError):
    """A geometry a layer cannot take; `code` says which rule failed."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def check_geometry(geometry: BaseGeometry | None, geometry_type: str, boundary: PreparedGeometry,
                   boundary_name: str) -> BaseGeometry:
    """Return the geometry to store (polygons oriented counter-clockwise), or raise GeometryProblem."""
    if geometry is None or geometry.is_empty:
        raise GeometryProblem("missing_geometry", "The feature has no geometry.")
    allowed = ALLOWED_TYPES[geometry_type]
    if geometry.geom_type not in allowed:
        raise GeometryProblem(
            "geometry_type",
            f"This layer takes {' or '.join(sorted(allowed))} geometries, not {geometry.geom_type}.",
        )
    if shapely.has_z(geometry):
        geometry = shapely.force_2d(geometry)
    coords = shapely.get_coordinates(geometry)
    if not (coords[:, 0].min() >= -180 and coords[:, 0].max() <= 180
            and coords[:, 1].min() >= -90 and coords[:, 1].max() <= 90):
        raise GeometryProblem(
            "coordinates_out_of_range",
            "Coordinates must be longitude/latitude in degrees (WGS84); these are not. "
            "Is the file in another coordinate system without saying so?",
        )
    if not geometry.is_valid:
        reason = shapely.is_valid_reason(geometry)
        raise GeometryProblem("invalid_geometry", f"The geometry is not valid: {reason}.")
    if not boundary.covers(geometry):
        raise GeometryProblem("outside_boundary", f"The location lies outside {boundary_name}.")
    if geometry.geom_type in ("Polygon", "MultiPolygon"):
        # RFC 7946 wants exterior rings counter-clockwise.
        geometry = shapely.orient_polygons(geometry, exterior_cw=False)
    return geometry
