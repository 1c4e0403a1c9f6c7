"""Stream records as CSV: UTF-8 with a byte-order mark, coordinates as lon/lat, x/y or WKT.

Why the BOM: Excel, which most municipal staff open a CSV with, reads a BOM-less file in the Windows
code page (Windows-1252 on Belgian machines), so "Ésplanade" becomes "Ã‰splanade"; with the BOM it
reads UTF-8. GDAL, QGIS, pandas (utf-8-sig) and `mapsvc import` all skip the BOM.
The separator stays a comma (RFC 4180, what GDAL and `mapsvc import` expect).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

import shapely

from mapsvc.export.records import (
    BOOLEAN,
    POINT,
    STRING,
    ExportRecord,
    ExportSchema,
    batched,
    project,
    text_value,
)
from mapsvc.spatial.crs import WGS84

BOM = "\ufeff"
BATCH = 1000
DEGREE_DECIMALS = 7  # about 1 cm
METRE_DECIMALS = 3   # 1 mm
# A cell starting with one of these runs as a formula in a spreadsheet ("=HYPERLINK(...)" typed by a
# resident): such text cells get a leading apostrophe (OWASP's advice on CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def coordinate_columns(schema: ExportSchema, crs: str) -> list[str]:
    """Name the geometry columns: lon/lat (WGS84) or x/y (projected) for points, else wkt."""
    if schema.geometry_type != POINT:
        return ["wkt"]
    return ["lon", "lat"] if crs == WGS84 else ["x", "y"]


def header(schema: ExportSchema, crs: str) -> list[str]:
    """Return the CSV header: id, the geometry columns, then the schema's columns."""
    return ["id", *coordinate_columns(schema, crs), *schema.column_names]


def _cell(column, value) -> str:
    value = text_value(column, value)
    if value is None:
        return ""
    if column.type == BOOLEAN:
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    if column.type == STRING and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def stream_csv(records: Iterable[ExportRecord], schema: ExportSchema, *, crs: str = WGS84,
               batch_size: int = BATCH) -> Iterator[bytes]:
    """Yield CSV text as UTF-8 chunks (a BOM, the header, then a batch of rows per chunk)."""
    decimals = DEGREE_DECIMALS if crs == WGS84 else METRE_DECIMALS
    buffer = io.StringIO()
    writer = csv.writer(buffer)  # RFC 4180: comma, double quotes, CRLF
    writer.writerow(header(schema, crs))
    yield (BOM + buffer.getvalue()).encode()
    for batch in batched(records, batch_size, schema):
        buffer.seek(0)
        buffer.truncate()
        geometries = project([r.geometry for r in batch], crs)
        if schema.geometry_type == POINT:
            coordinates = [(f"{g.x:.{decimals}f}", f"{g.y:.{decimals}f}") for g in geometries]
        else:
            coordinates = [(text,) for text in shapely.to_wkt(geometries, rounding_precision=decimals, trim=True)]
        for record, coords in zip(batch, coordinates):
            writer.writerow([record.id, *coords, *(_cell(c, record.properties.get(c.name)) for c in schema.columns)])
        yield buffer.getvalue().encode()
