"""Straight-line distances in metres, measured in Belgian Lambert 72."""

from __future__ import annotations

import math

import numpy as np

from mapsvc.spatial.crs import LAMBERT72, from_wgs84

METRES_PER_DEGREE_LAT = 111_320.0


def metres_from(lon: float, lat: float, lons, lats) -> np.ndarray:
    """Return the straight-line distance in metres from (lon, lat) to each of the given points."""
    to_l72 = from_wgs84(LAMBERT72)
    x0, y0 = to_l72.transform(lon, lat)
    xs, ys = to_l72.transform(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    return np.hypot(np.asarray(xs) - x0, np.asarray(ys) - y0)


def bbox_around(lon: float, lat: float, radius_m: float) -> tuple[float, float, float, float]:
    """Return a lon/lat box that surely holds every point within `radius_m` of (lon, lat)."""
    dlat = radius_m / METRES_PER_DEGREE_LAT * 1.01
    dlon = radius_m / (METRES_PER_DEGREE_LAT * max(math.cos(math.radians(lat)), 0.01)) * 1.01
    return lon - dlon, lat - dlat, lon + dlon, lat + dlat
