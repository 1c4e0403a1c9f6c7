"""Coordinate systems by reference (OGC API - Features Part 2): URIs, bbox frames and reprojection."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from mapsvc.spatial.bbox import parse_bbox
from mapsvc.spatial.crs import LAMBERT72, LAMBERT2008, from_wgs84, to_wgs84

CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/{code}"

# URI served in `crs` lists -> EPSG code for pyproj/PostGIS (None: stored lon/lat, nothing to do).
SERVED = {CRS84: None, EPSG_URI.format(code=31370): LAMBERT72, EPSG_URI.format(code=3812): LAMBERT2008}
# Coordinates are rounded to about a centimetre: 7 decimals of a degree, 2 decimals of a metre.
DECIMALS = {None: 7, LAMBERT72: 2, LAMBERT2008: 2}
# Spellings clients use for the same systems (GDAL, QGIS and people type these).
_ALIASES = {
    "crs84": CRS84, "ogc:crs84": CRS84, "urn:ogc:def:crs:ogc:1.3:crs84": CRS84,
    "https://www.opengis.net/def/crs/ogc/1.3/crs84": CRS84, "[ogc:crs84]": CRS84,
}
for _uri, _code in SERVED.items():
    if _code:
        _number = _code.split(":")[1]
        for _alias in (_code, f"urn:ogc:def:crs:epsg::{_number}", f"[epsg:{_number}]",
                       _uri.replace("http://", "https://")):
            _ALIASES[_alias.lower()] = _uri


def canonical_crs(text: str) -> str:
    """Return the served URI for a crs or bbox-crs value, or raise ValueError naming the ones served."""
    value = text.strip()
    if value in SERVED:
        return value
    found = _ALIASES.get(value.lower()) or _ALIASES.get(value.lower().strip("<>"))
    if found is None:
        raise ValueError(f"CRS {text[:120]!r} is not offered; use one of: {', '.join(SERVED)}.")
    return found


def epsg_of(uri: str) -> str | None:
    """Return the EPSG code behind a served URI (None for CRS84)."""
    return SERVED[uri]


def decimals_for(uri: str) -> int:
    """Return how many decimals coordinates get in this CRS."""
    return DECIMALS[SERVED[uri]]


@dataclass(frozen=True)
class Frame:
    """A bbox filter in lon/lat: the envelope for the index and, if the box was projected, its exact outline."""

    bbox: tuple[float, float, float, float]
    outline: tuple[tuple[float, float], ...] | None = None  # lon/lat ring of the projected box

    @property
    def outline_wkt(self) -> str | None:
        """Return the exact outline as WKT, if there is one."""
        if self.outline is None:
            return None
        return "POLYGON((" + ",".join(f"{x!r} {y!r}" for x, y in self.outline) + "))"


def parse_frame(text: str, crs_uri: str = CRS84) -> Frame:
    """Read a bbox (4 or 6 numbers) given in `crs_uri` into a lon/lat Frame, or raise ValueError."""
    parts = [p.strip() for p in text.split(",")]
    if len(parts) == 6:  # minx,miny,minz,maxx,maxy,maxz: the heights do not matter on a flat map
        parts = [parts[0], parts[1], parts[3], parts[4]]
    code = epsg_of(crs_uri)
    if code is None:
        return Frame(parse_bbox(",".join(parts)))
    if len(parts) != 4:
        raise ValueError(f"bbox needs four numbers minx,miny,maxx,maxy (or six with heights); got {len(parts)}.")
    numbers = []
    for name, part in zip(("minx", "miny", "maxx", "maxy"), parts):
        try:
            value = float(part)
        except ValueError:
            raise ValueError(f"bbox {name} must be a number, got {part[:40]!r}.") from None
        if not math.isfinite(value):
            raise ValueError(f"bbox {name} must be a finite number, got {part[:40]!r}.")
        numbers.append(value)
    minx, miny, maxx, maxy = numbers
    if minx > maxx or miny > maxy:
        raise ValueError(f"bbox is inverted: give minx,miny,maxx,maxy with the minimum values first "
                         f"(got {minx},{miny},{maxx},{maxy}).")
    if max(abs(v) for v in numbers) > 10_000_000:
        raise ValueError(f"bbox lies far outside {code}'s area (coordinates are metres).")
    ring = _densified_ring(minx, miny, maxx, maxy)
    lons, lats = to_wgs84(code).transform([x for x, _ in ring], [y for _, y in ring])
    if not all(math.isfinite(v) for v in (*lons, *lats)):
        raise ValueError(f"bbox lies outside the area where {code} is defined.")
    outline = tuple(zip(lons, lats))
    return Frame((min(lons), min(lats), max(lons), max(lats)), outline)


def _densified_ring(minx: float, miny: float, maxx: float, maxy: float, steps: int = 8) -> list[tuple[float, float]]:
    """Return the box's boundary with points along each edge, so it stays exact once reprojected."""
    corners = [(minx, miny), (maxx, miny), (maxx, maxy), (minx, maxy), (minx, miny)]
    ring = []
    for (x0, y0), (x1, y1) in zip(corners, corners[1:]):
        ring += [(x0 + (x1 - x0) * i / steps, y0 + (y1 - y0) * i / steps) for i in range(steps)]
    return ring + [corners[0]]


def reproject_geometry(geometry: dict[str, Any], crs_uri: str) -> dict[str, Any]:
    """Transform a lon/lat GeoJSON geometry into `crs_uri` (x/y order), rounded to about a centimetre."""
    code = epsg_of(crs_uri)
    digits = decimals_for(crs_uri)
    if code is None:
        return {**geometry, "coordinates": _round(geometry["coordinates"], digits)}
    transformer = from_wgs84(code)

    def convert(coords: Any) -> Any:
        if coords and isinstance(coords[0], (int, float)):
            x, y = transformer.transform(coords[0], coords[1])
            return [round(x, digits), round(y, digits)]
        return [convert(c) for c in coords]

    return {**geometry, "coordinates": convert(geometry["coordinates"])}


def _round(coords: Any, digits: int) -> Any:
    if coords and isinstance(coords[0], (int, float)):
        return [round(v, digits) for v in coords]
    return [_round(c, digits) for c in coords]

