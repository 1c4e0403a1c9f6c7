"""Render features as GeoJSON (RFC 7946: lon/lat WGS84, no crs member)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

# Properties mapsvc adds beside a layer's own fields (the schema forbids these names for fields).
SYSTEM_PROPERTIES = ("theme", "status", "official_answer", "source", "source_ref", "demo", "created_at",
                     "updated_at", "vote_count")


def iso(moment: datetime | None) -> str | None:
    """Format a UTC timestamp as ISO 8601 with a Z."""
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def feature_to_geojson(feature: Any, geometry: BaseGeometry, vote_count: int | None = None) -> dict[str, Any]:
    """Render one stored feature as a GeoJSON Feature; `demo` says whether it is generated demo data."""
    properties = dict(feature.properties or {})
    properties.update(
        theme=feature.theme, status=feature.status, official_answer=feature.official_answer,
        source=feature.source, source_ref=feature.source_ref, demo=bool(feature.is_demo),
        created_at=iso(feature.created_at), updated_at=iso(feature.updated_at),
    )
    if vote_count is not None:
        properties["vote_count"] = vote_count
    return {"type": "Feature", "id": feature.id, "geometry": mapping(geometry), "properties": properties}


def feature_collection(features: list[dict[str, Any]], **members: Any) -> dict[str, Any]:
    """Wrap rendered features in a FeatureCollection with extra foreign members (links, counts)."""
    return {"type": "FeatureCollection", "features": features, **members}
