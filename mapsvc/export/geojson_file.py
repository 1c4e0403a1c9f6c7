"""Stream records as one RFC 7946 GeoJSON FeatureCollection, a batch of features per chunk."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

import shapely
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from mapsvc.export.records import ExportRecord, ExportSchema, batched, text_value

PRECISION = 7            # decimals of a degree: about 1 cm, the most any of our sources holds
GRID = 10.0 ** -PRECISION
BATCH = 500

_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode


def rfc7946_geometry(geometry: BaseGeometry) -> dict[str, Any]:
    """Render a lon/lat geometry for RFC 7946: 7 decimals, valid, polygon exteriors counter-clockwise."""
    if geometry.geom_type == "Point":  # the common case, kept cheap
        return {"type": "Point", "coordinates": [round(geometry.x, PRECISION), round(geometry.y, PRECISION)]}
    # Snap rounding keeps polygons valid where plain rounding could make a ring touch itself.
    snapped = shapely.set_precision(geometry, GRID)
    if snapped.is_empty:  # smaller than the grid: keep it as it was rather than lose it
        snapped = geometry
    if snapped.geom_type in ("Polygon", "MultiPolygon", "GeometryCollection"):
        snapped = shapely.orient_polygons(snapped, exterior_cw=False)
    return _rounded(mapping(snapped))


def _rounded(node: Any) -> Any:
    if isinstance(node, float):
        return round(node, PRECISION)
    if isinstance(node, (list, tuple)):
        return [_rounded(item) for item in node]
    if isinstance(node, dict):
        return {key: _rounded(value) if key in ("coordinates", "geometries") else value
                for key, value in node.items()}
    return node


def feature_json(record: ExportRecord, schema: ExportSchema) -> str:
    """Render one record as a GeoJSON Feature (text), properties in the schema's column order."""
    properties = {c.name: text_value(c, record.properties.get(c.name)) for c in schema.columns}
    return _dumps({"type": "Feature", "id": record.id, "geometry": rfc7946_geometry(record.geometry),
                   "properties": properties})


def stream_geojson(records: Iterable[ExportRecord], schema: ExportSchema, *, batch_size: int = BATCH,
                   **members: Any) -> Iterator[bytes]:
    """Yield a FeatureCollection as UTF-8 chunks (head, batches of features, tail); no `crs` member.

    Foreign `members` (e.g. attribution) go before the features; `numberReturned` closes the object.
    """
    head = {"type": "FeatureCollection", "name": schema.name}
    if schema.attribution:
        head["attribution"] = schema.attribution
    head.update(members)
    yield (_dumps(head)[:-1] + ',"features":[').encode()
    written = 0
    for batch in batched(records, batch_size, schema):
        text = ",".join(feature_json(record, schema) for record in batch)
        yield (("," if written else "") + text).encode()
        written += len(batch)
    yield f'],"numberReturned":{written}}}'.encode()
