"""What every export writer takes: plain records, a declared column list and a geometry type.

The writers know nothing of features, layers or the database, so ranking and rollout plans export the
same way: build an `ExportSchema` and an iterable of `ExportRecord`s and hand them to a writer.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timezone
from itertools import islice
from typing import Any

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from mapsvc.spatial.crs import WGS84, from_wgs84

# Column value types the writers understand.
STRING, INTEGER, NUMBER, BOOLEAN, DATE, DATETIME = "string", "integer", "number", "boolean", "date", "datetime"
COLUMN_TYPES = (STRING, INTEGER, NUMBER, BOOLEAN, DATE, DATETIME)

# A layer schema's field types, as export column types (text, url and enum are all text in a file).
_FIELD_TYPES = {"string": STRING, "text": STRING, "url": STRING, "enum": STRING, "integer": INTEGER,
                "number": NUMBER, "boolean": BOOLEAN, "date": DATE}

# Geometry types a schema declares (the layer vocabulary): what a file's geometry column may hold.
POINT, POLYGON, POINT_OR_POLYGON = "point", "polygon", "point_or_polygon"
GEOMETRY_TYPES = (POINT, POLYGON, POINT_OR_POLYGON)
ACCEPTED_GEOMETRIES = {POINT: frozenset({"Point"}), POLYGON: frozenset({"Polygon", "MultiPolygon"}),
                       POINT_OR_POLYGON: frozenset({"Point", "Polygon", "MultiPolygon"})}


@dataclass(frozen=True)
class Column:
    """One exported attribute: its name and value type."""

    name: str
    type: str = STRING

    def __post_init__(self):
        if self.type not in COLUMN_TYPES:
            raise ValueError(f"column {self.name!r}: unknown type {self.type!r}; use one of {COLUMN_TYPES}")


# What mapsvc adds beside a layer's own fields, in file order. Nothing here names a person: the author
# appears only through the public display name they chose; votes only as a count.
SYSTEM_COLUMNS = (
    Column("theme"), Column("status"), Column("official_answer"), Column("vote_count", INTEGER),
    Column("demo", BOOLEAN), Column("source"), Column("source_ref"), Column("author_display_name"),
    Column("created_at", DATETIME), Column("updated_at", DATETIME),
)


@dataclass(frozen=True)
class ExportSchema:
    """The shape of an export: a name (file layer name), a geometry type and the ordered columns."""

    name: str
    geometry_type: str
    columns: tuple[Column, ...]
    attribution: str | None = None

    def __post_init__(self):
        if self.geometry_type not in GEOMETRY_TYPES:
            raise ValueError(f"unknown geometry type {self.geometry_type!r}; use one of {GEOMETRY_TYPES}")
        names = [c.name for c in self.columns]
        if len(set(names)) != len(names) or "id" in names:
            raise ValueError(f"column names must be unique and not 'id' (the record id): {names}")

    @property
    def column_names(self) -> list[str]:
        """Return the column names in file order."""
        return [c.name for c in self.columns]


@dataclass(frozen=True, slots=True)
class ExportRecord:
    """One row of an export: an id, a lon/lat (EPSG:4326) shapely geometry and values by column name."""

    id: int | str
    geometry: BaseGeometry
    properties: Mapping[str, Any]


def layer_columns(property_schema: Mapping[str, Any], extra: Sequence[Column] = ()) -> tuple[Column, ...]:
    """Return a layer's export columns: its own fields in schema order, the system columns, then `extra`."""
    own = tuple(Column(f["name"], _FIELD_TYPES.get(f.get("type"), STRING))
                for f in property_schema.get("fields", ()))
    return own + SYSTEM_COLUMNS + tuple(extra)


def batched(records: Iterable[ExportRecord], size: int, schema: ExportSchema) -> Iterator[list[ExportRecord]]:
    """Yield lists of at most `size` records (the writers' unit of work, so memory stays bounded).

    Raise ValueError on a geometry the schema does not declare: a writer would otherwise drop it
    (a Shapefile part) or write a file whose declared type lies.
    """
    accepted = ACCEPTED_GEOMETRIES[schema.geometry_type]
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        for record in batch:
            if record.geometry is None or record.geometry.geom_type not in accepted:
                kind = "no geometry" if record.geometry is None else record.geometry.geom_type
                raise ValueError(f"record {record.id!r} has {kind}; {schema.name} takes {sorted(accepted)}")
        yield batch


def project(geometries: Sequence[BaseGeometry], crs: str) -> np.ndarray:
    """Transform lon/lat geometries to `crs` (an EPSG code of mapsvc.spatial.crs.SUPPORTED) with pyproj."""
    array = np.asarray(geometries, dtype=object)
    if crs == WGS84 or len(array) == 0:
        return array
    transformer = from_wgs84(crs)
    return shapely.transform(array, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1])))


def iso_datetime(moment: datetime | None) -> str | None:
    """Format a timestamp as ISO 8601 in UTC to the millisecond, with a Z (naive ones are taken as UTC).

    Milliseconds, because that is what GeoPackage (and GDAL reading any format) keeps: every export
    format then says the same time.
    """
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def text_value(column: Column, value: Any) -> Any:
    """Return a value as JSON-ready data: timestamps and dates as ISO text, the rest unchanged."""
    if value is None:
        return None
    if column.type == DATETIME and isinstance(value, datetime):
        return iso_datetime(value)
    if column.type == DATE and isinstance(value, date):
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    if column.type == BOOLEAN:
        return bool(value)
    return value
