"""Write records to GeoPackage and zipped Shapefile with pyogrio, in batches (bounded memory).

GDAL writes these to a file, not to a stream, so callers write to a temporary directory and send the file.

Shapefile limits, and what mapsvc does about them (the zip's README.txt says the same):
* Field names have at most 10 characters: long names are shortened (`official_answer` → `answer`,
  `author_display_name` → `author`, others cut and numbered if two collide); fields.csv in the zip maps
  each short name to the full one.
* One geometry type per file: a point_or_polygon layer gives two Shapefiles in the zip,
  `<name>_points.shp` and `<name>_polygons.shp` (both always present, maybe empty), so nothing is
  moved or invented (no centroids for roofs, no buffers around points).
* Text holds at most 254 bytes: longer text is cut at a character boundary (GeoPackage keeps it whole).
* No timestamp type: created_at/updated_at are ISO 8601 text in UTC.
"""

from __future__ import annotations

import csv
import io
import warnings
import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio

from mapsvc.export.records import (
    BOOLEAN,
    DATETIME,
    INTEGER,
    NUMBER,
    POINT,
    POINT_OR_POLYGON,
    POLYGON,
    Column,
    ExportRecord,
    ExportSchema,
    batched,
    iso_datetime,
    project,
    text_value,
)

BATCH = 5000
DBF_TEXT_BYTES = 254
SHAPEFILE_NAME_LENGTH = 10
# Readable short names for the system columns whose names are too long for a Shapefile.
SHAPEFILE_ABBREVIATIONS = {"official_answer": "answer", "author_display_name": "author"}
_DTYPES = {INTEGER: "Int64", NUMBER: "Float64", BOOLEAN: "boolean"}
_OGR_TYPES = {POINT: "Point", POLYGON: "MultiPolygon", POINT_OR_POLYGON: "Unknown"}


def _frame(batch: Sequence[ExportRecord], schema: ExportSchema, crs: str, *, shapefile: bool) -> gpd.GeoDataFrame:
    data = {"id": pd.array([r.id for r in batch], dtype="Int64" if all(isinstance(r.id, int) for r in batch)
                           else object)}
    for column in schema.columns:
        values = [r.properties.get(column.name) for r in batch]
        data[column.name] = _series(column, values, shapefile=shapefile)
    geometry = gpd.GeoSeries(project([r.geometry for r in batch], crs), crs=crs)
    return gpd.GeoDataFrame(data, geometry=geometry, crs=crs)


def _series(column: Column, values: list, *, shapefile: bool):
    if column.type in _DTYPES:
        return pd.array([None if v is None else v for v in values], dtype=_DTYPES[column.type])
    if column.type == DATETIME and not shapefile:
        return pd.array(pd.to_datetime([iso_datetime(v) for v in values], utc=True), dtype="datetime64[ms, UTC]")
    texts = [text_value(column, v) for v in values]
    if shapefile:
        texts = [None if t is None else _dbf_text(str(t)) for t in texts]
    return pd.array(texts, dtype=object)


def _dbf_text(text: str) -> str:
    """Cut text to what a DBF field holds (254 bytes of UTF-8) without splitting a character."""
    return text.encode("utf-8")[:DBF_TEXT_BYTES].decode("utf-8", "ignore")


def _write(frame: gpd.GeoDataFrame, path: Path, *, driver: str, geometry_type: str, append: bool,
           layer: str | None = None) -> None:
    with warnings.catch_warnings():
        # pyogrio warns when a batch's column is all null; the declared dtype already fixes the field type.
        warnings.simplefilter("ignore", UserWarning)
        pyogrio.write_dataframe(frame, path, layer=layer, driver=driver, geometry_type=geometry_type,
                                promote_to_multi=geometry_type == "MultiPolygon", append=append,
                                **({"encoding": "UTF-8"} if driver == "ESRI Shapefile" else {}))


def write_geopackage(records: Iterable[ExportRecord], schema: ExportSchema, path: str | Path, *, crs: str,
                     batch_size: int = BATCH) -> int:
    """Write records to a new GeoPackage with one layer named after the schema; return how many."""
    path, written = Path(path), 0
    for batch in batched(records, batch_size, schema):
        _write(_frame(batch, schema, crs, shapefile=False), path, driver="GPKG", layer=schema.name,
               geometry_type=_OGR_TYPES[schema.geometry_type], append=written > 0)
        written += len(batch)
    if not written:
        _write(_frame([], schema, crs, shapefile=False), path, driver="GPKG", layer=schema.name,
               geometry_type=_OGR_TYPES[schema.geometry_type], append=False)
    return written


def shapefile_field_names(names: Sequence[str]) -> dict[str, str]:
    """Map column names to unique Shapefile field names of at most 10 characters, in order."""
    short, taken = {}, set()
    for name in names:
        candidate = SHAPEFILE_ABBREVIATIONS.get(name, name)[:SHAPEFILE_NAME_LENGTH]
        number = 1
        while candidate.lower() in taken:  # DBF field names compare without case
            number += 1
            suffix = f"_{number}"
            candidate = name[:SHAPEFILE_NAME_LENGTH - len(suffix)] + suffix
        taken.add(candidate.lower())
        short[name] = candidate
    return short


def _shapefile_parts(schema: ExportSchema) -> dict[str, tuple[str, set[str]]]:
    """Return the Shapefiles of a schema: base name → (OGR geometry type, geometry types it takes)."""
    polygons = {"Polygon", "MultiPolygon"}
    if schema.geometry_type == POINT:
        return {schema.name: ("Point", {"Point"})}
    if schema.geometry_type == POLYGON:
        return {schema.name: ("MultiPolygon", polygons)}
    return {f"{schema.name}_points": ("Point", {"Point"}), f"{schema.name}_polygons": ("MultiPolygon", polygons)}


def write_shapefile_zip(records: Iterable[ExportRecord], schema: ExportSchema, path: str | Path, *, crs: str,
                        workdir: str | Path, batch_size: int = BATCH) -> int:
    """Write records as zipped Shapefile(s) with fields.csv and README.txt; return how many records."""
    workdir, path = Path(workdir), Path(path)
    names = shapefile_field_names(["id", *schema.column_names])
    parts = _shapefile_parts(schema)
    created: set[str] = set()
    written = 0
    for batch in batched(records, batch_size, schema):
        frame = _frame(batch, schema, crs, shapefile=True).rename(columns=names)
        kinds = frame.geometry.geom_type
        for base, (ogr_type, accepts) in parts.items():
            part = frame[kinds.isin(accepts)]
            if len(part):
                _write(part, workdir / f"{base}.shp", driver="ESRI Shapefile", geometry_type=ogr_type,
                       append=base in created)
                created.add(base)
        written += len(batch)
    empty = _frame([], schema, crs, shapefile=True).rename(columns=names)
    for base, (ogr_type, _accepts) in parts.items():
        if base not in created:
            _write(empty, workdir / f"{base}.shp", driver="ESRI Shapefile", geometry_type=ogr_type, append=False)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for base in parts:
            for suffix in (".shp", ".shx", ".dbf", ".prj", ".cpg"):
                if (workdir / f"{base}{suffix}").exists():
                    archive.write(workdir / f"{base}{suffix}", f"{base}{suffix}")
        archive.writestr("fields.csv", _fields_csv(names))
        archive.writestr("README.txt", _readme(schema, list(parts)))
    return written


def _fields_csv(names: dict[str, str]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["shapefile_field", "column"])
    writer.writerows((short, full) for full, short in names.items())
    return buffer.getvalue()


def _readme(schema: ExportSchema, bases: list[str]) -> str:
    files = ", ".join(f"{base}.shp" for base in bases)
    return (f"{schema.name}: {files}\n\n"
            "Shapefile limits in this export (use the GeoPackage export for the complete data):\n"
            "- field names have at most 10 characters; fields.csv gives the full name of each field;\n"
            "- points and polygons are in separate files when a layer holds both;\n"
            "- text is cut at 254 bytes;\n"
            "- created_at and updated_at are ISO 8601 text in UTC.\n"
            + (f"\nAttribution: {schema.attribution}\n" if schema.attribution else ""))
