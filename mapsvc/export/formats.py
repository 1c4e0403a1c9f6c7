"""The export formats: names, file suffixes, media types, and one way to get any of them as byte chunks."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from mapsvc.export.csv_file import stream_csv
from mapsvc.export.geojson_file import stream_geojson
from mapsvc.export.ogr_files import write_geopackage, write_shapefile_zip
from mapsvc.export.records import ExportRecord, ExportSchema
from mapsvc.spatial.crs import WGS84

CHUNK = 64 * 1024


@dataclass(frozen=True)
class ExportFormat:
    """A file format planners can download: key (as in the URL), suffix, media type, and whether CRS is free."""

    key: str
    suffix: str
    media_type: str
    label: str
    any_crs: bool = True      # GeoJSON is always WGS84 lon/lat (RFC 7946)
    streams: bool = False     # written row by row; the binary formats need a whole file first


GEOJSON = ExportFormat("geojson", ".geojson", "application/geo+json", "GeoJSON (RFC 7946)", any_crs=False,
                       streams=True)
GPKG = ExportFormat("gpkg", ".gpkg", "application/geopackage+sqlite3", "GeoPackage")
CSV = ExportFormat("csv", ".csv", "text/csv; charset=utf-8", "CSV (UTF-8)", streams=True)
SHAPEFILE = ExportFormat("shp.zip", ".shp.zip", "application/zip", "zipped Shapefile")
FORMATS = {f.key: f for f in (GEOJSON, GPKG, CSV, SHAPEFILE)}
# File name endings the command line recognises, longest first.
_SUFFIXES = ((".shp.zip", SHAPEFILE), (".geojson", GEOJSON), (".json", GEOJSON), (".gpkg", GPKG), (".csv", CSV),
             (".zip", SHAPEFILE))


def format_for_path(path: str | Path) -> ExportFormat | None:
    """Guess the format from a file name's suffix, or None."""
    name = Path(path).name.lower()
    return next((fmt for suffix, fmt in _SUFFIXES if name.endswith(suffix)), None)


def export_chunks(fmt: ExportFormat, records: Iterable[ExportRecord], schema: ExportSchema, *,
                  crs: str = WGS84) -> Iterator[bytes]:
    """Yield the export file as byte chunks: streamed for GeoJSON/CSV, from a temporary file otherwise."""
    if fmt is GEOJSON:
        if crs != WGS84:
            raise ValueError("GeoJSON is always EPSG:4326 (RFC 7946)")
        yield from stream_geojson(records, schema)
    elif fmt is CSV:
        yield from stream_csv(records, schema, crs=crs)
    else:
        with tempfile.TemporaryDirectory(prefix="mapsvc-export-") as workdir:
            path = Path(workdir) / f"{schema.name}{fmt.suffix}"
            if fmt is GPKG:
                write_geopackage(records, schema, path, crs=crs)
            else:
                parts = Path(workdir) / "parts"
                parts.mkdir()
                write_shapefile_zip(records, schema, path, crs=crs, workdir=parts)
            with open(path, "rb") as handle:
                while chunk := handle.read(CHUNK):
                    yield chunk


def write_atomically(path: str | Path, chunks: Iterable[bytes]) -> int:
    """Write chunks to a temporary file beside `path` and rename it into place; leave nothing on failure."""
    path = Path(path)
    handle = tempfile.NamedTemporaryFile(dir=path.parent or ".", prefix=f".{path.name}.", suffix=".part",
                                         delete=False)
    size = 0
    try:
        with handle:
            for chunk in chunks:
                handle.write(chunk)
                size += len(chunk)
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return size
