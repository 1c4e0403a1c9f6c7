"""Read a vector file (GeoJSON, GeoPackage, Shapefile, CSV) into lon/lat rows, naming each row for errors."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

LON_NAMES = ("lon", "lng", "long", "longitude", "x")
LAT_NAMES = ("lat", "latitude", "y")
WKT_NAMES = ("wkt", "geometry", "geom")
SUFFIXES = {".geojson", ".json", ".gpkg", ".zip", ".shp", ".csv"}


class FileProblem(ValueError):
    """A file mapsvc cannot read as features; the message says what to change."""


@dataclass
class ReadResult:
    """The rows of a file in EPSG:4326, with a label per row ('line 7' or 'feature 3') for messages."""

    frame: gpd.GeoDataFrame
    labels: list[str]
    source_crs: str


def _parse_crs(crs: str | None) -> CRS | None:
    if crs is None:
        return None
    try:
        return CRS.from_user_input(crs)
    except CRSError:
        raise FileProblem(f"Unknown coordinate reference system {crs!r}; give an EPSG code such as EPSG:31370.") from None


def _pick(columns: list[str], names: tuple[str, ...]) -> str | None:
    lowered = {c.lower().strip(): c for c in columns}
    return next((lowered[n] for n in names if n in lowered), None)


def _read_csv(path: Path, crs: CRS | None) -> ReadResult:
    try:
        table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise FileProblem("The CSV file is not UTF-8 text; save it as UTF-8 (CSV UTF-8 in a spreadsheet).") from None
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise FileProblem(f"The CSV file cannot be read: {exc}".strip()) from None
    columns = list(table.columns)
    labels = [f"line {i + 2}" for i in range(len(table))]  # line 1 is the header
    lon, lat, wkt = _pick(columns, LON_NAMES), _pick(columns, LAT_NAMES), _pick(columns, WKT_NAMES)
    geoms = np.empty(len(table), dtype=object)
    if lon and lat:
        for i, (x, y) in enumerate(zip(table[lon], table[lat])):
            geoms[i] = _point(x, y, labels[i], lon, lat)
        table = table.drop(columns=[lon, lat])
    elif wkt:
        for i, text in enumerate(table[wkt]):
            try:
                geoms[i] = shapely.from_wkt(text) if text.strip() else None
            except shapely.errors.GEOSException:
                raise FileProblem(f"{labels[i]}: column {wkt!r} is not valid WKT: {text[:60]!r}.") from None
        table = table.drop(columns=[wkt])
    else:
        raise FileProblem(
            "The CSV file needs coordinate columns: lon and lat (or longitude/latitude, x/y), or a WKT column; "
            f"it has: {', '.join(columns) or 'no columns'}."
        )
    frame = gpd.GeoDataFrame(table, geometry=gpd.GeoSeries(geoms), crs=crs or "EPSG:4326")
    return ReadResult(frame, labels, frame.crs.to_string())


def _point(x: str, y: str, label: str, lon: str, lat: str):
    if not x.strip() and not y.strip():
        return None
    try:
        fx, fy = float(x.replace(",", ".")), float(y.replace(",", "."))
    except ValueError:
        raise FileProblem(f"{label}: {lon}/{lat} must be numbers, got {x[:30]!r}/{y[:30]!r}.") from None
    if not (np.isfinite(fx) and np.isfinite(fy)):
        raise FileProblem(f"{label}: {lon}/{lat} must be finite numbers, got {x[:30]!r}/{y[:30]!r}.")
    return shapely.Point(fx, fy)


def _read_vector(path: Path, crs: CRS | None, layer: str | None) -> ReadResult:
    try:
        layers = pyogrio.list_layers(path)
    except pyogrio.errors.DataSourceError as exc:
        raise FileProblem(f"The file cannot be opened as vector data: {exc}") from None
    if layer is None and len(layers) > 1:
        names = ", ".join(str(name) for name, _ in layers)
        raise FileProblem(f"The file holds several layers ({names}); say which one to import.")
    try:
        frame = gpd.read_file(path, layer=layer, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError) as exc:
        raise FileProblem(f"The file cannot be read: {exc}") from None
    if frame.crs is None:
        if crs is None:
            raise FileProblem(
                "The file does not say which coordinate reference system it uses (a Shapefile without .prj?); "
                "give one, e.g. EPSG:31370 for Belgian Lambert 72."
            )
        frame = frame.set_crs(crs)
    labels = [f"feature {i + 1}" for i in range(len(frame))]
    return ReadResult(frame, labels, frame.crs.to_string())


def read_features(path: str | Path, *, crs: str | None = None, layer: str | None = None) -> ReadResult:
    """Read a GeoJSON, GeoPackage, zipped Shapefile or CSV file and reproject it to EPSG:4326.

    `crs` is used only where the file declares none (a CSV's x/y, a Shapefile without .prj).
    """
    path = Path(path)
    if not path.is_file():
        raise FileProblem(f"No such file: {path}")
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise FileProblem(
            f"Unsupported file type {suffix or '(none)'}: use GeoJSON, GeoPackage (.gpkg), a zipped Shapefile "
            "(.zip) or CSV with lon/lat columns."
        )
    parsed = _parse_crs(crs)
    result = _read_csv(path, parsed) if suffix == ".csv" else _read_vector(path, parsed, layer)
    if result.frame.crs.to_epsg() != 4326:
        try:
            result.frame = result.frame.to_crs("EPSG:4326")
        except Exception as exc:  # pyproj raises several types for impossible transformations
            raise FileProblem(f"The file's coordinates cannot be transformed to WGS84: {exc}") from None
    return result
